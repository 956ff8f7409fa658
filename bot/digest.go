package bot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wirewatch/wirewatch/schedule"
	"github.com/wirewatch/wirewatch/store"
)

// digestStories bounds the stories read for one digest; the message lists
// the newest 20 of them and counts the rest.
const digestStories = 500

// digestGrace is how long after a period ends its digest is read: longer
// than any ingest transaction takes.
const digestGrace = time.Minute

// SendDueDigests queues a digest for every digest rule whose period has ended:
// one message per target listing the rule's matches of the period, grouped by
// cluster, newest first. Periods missed while the bot was down are sent once,
// as one period. It returns how many digests were queued.
func (b *Bot) SendDueDigests(ctx context.Context) (int, error) {
	now := b.opt.Now()
	queued := 0
	var errs []error
	for _, r := range b.opt.Rules.Digests() {
		n, err := b.sendDigest(ctx, r, now)
		queued += n
		if err != nil {
			errs = append(errs, fmt.Errorf("digest %q: %w", r.Name, err))
		}
	}
	return queued, errors.Join(errs...)
}

func (b *Bot) sendDigest(ctx context.Context, r store.Rule, now time.Time) (int, error) {
	sched, err := schedule.Parse(r.Digest, r.Timezone)
	if err != nil {
		return 0, err
	}
	last, err := b.opt.Store.DigestLast(ctx, r.Name)
	if err != nil {
		return 0, err
	}
	if last.IsZero() {
		// A new digest rule: its first period starts when the rule was
		// made, so that what it matched before any worker first looked
		// here is in it; but not before the current period began, so that
		// an old rule made a digest lists at most one period of what it
		// matched before.
		start := sched.Prev(now)
		if r.Created.After(start) {
			start = r.Created
		}
		if start.IsZero() || start.After(now) {
			start = now
		}
		_, err := b.opt.Store.AdvanceDigest(ctx, r.Name, time.Time{}, start, nil)
		return 0, err
	}
	// A period is read digestGrace after it ends, so that a match stamped
	// just before the end but committed just after is in it. Periods missed
	// while down close as one.
	end, ok := sched.Period(last, now.Add(-digestGrace))
	if !ok {
		return 0, nil
	}
	var ds []store.Delivery
	if !r.Paused {
		stories, _, err := b.opt.Store.RuleStories(ctx, r.Name, last, end, digestStories)
		if err != nil {
			return 0, err
		}
		seen := map[string]bool{}
		var ids []string
		for _, s := range stories {
			key := s.Cluster
			if key == "" {
				key = s.ID
			}
			if !seen[key] {
				seen[key] = true
				ids = append(ids, s.ID)
			}
		}
		if len(ids) > 0 {
			for _, t := range r.Notify {
				ds = append(ds, store.Delivery{
					Target: t, Kind: store.KindDigest, StoryIDs: ids, Rules: []string{r.Name},
					DedupKey: fmt.Sprintf("digest:%s:%d", r.Name, end.Unix()),
				})
			}
		}
	}
	// The period and its digest are recorded together, and only by the
	// worker whose view of the last period is still true: one digest per
	// period, however many processes look.
	moved, err := b.opt.Store.AdvanceDigest(ctx, r.Name, last, end, ds)
	if err != nil || !moved {
		return 0, err
	}
	return len(ds), nil
}
