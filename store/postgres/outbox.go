package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

// insertDeliveries stores new outbox rows and returns them as stored, with
// the number stored as pending and as duplicate; see the SQLite store for
// the rules. Dedup is the unique index's decision (ON CONFLICT), and the
// first alert of a cluster to a target is looked up under an advisory lock
// on (target, cluster), so that two replicas never both make a story of one
// cluster the target's first alert.
func insertDeliveries(ctx context.Context, tx pgx.Tx, ds []store.Delivery, now time.Time) (out []store.Delivery, pending, dups int, err error) {
	if len(ds) == 0 {
		return nil, 0, 0, nil
	}
	created := truncMillis(now)
	lanes := map[string]bool{}
	out = make([]store.Delivery, 0, len(ds))
	for _, d := range ds {
		if d.Target == "" {
			return nil, 0, 0, fmt.Errorf("delivery for story %q has no target", d.StoryID)
		}
		d.ID, d.Attempts, d.LastError, d.Ref, d.Sent, d.Waiting = 0, 0, "", "", time.Time{}, ""
		d.Created = created
		d.Story, d.Stories, d.ParentRef = nil, nil, ""
		if d.Status == "" {
			d.Status = store.StatusPending
		}
		if d.Kind == store.KindFollowUp && d.ParentID == 0 {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, clusterLock(d.Target, d.Cluster)); err != nil {
				return nil, 0, 0, err
			}
			err := tx.QueryRow(ctx, `
SELECT id FROM deliveries
WHERE target = $1 AND cluster = $2 AND cluster <> '' AND kind IN ('', $3)
	AND status IN ('pending', 'sent', 'failed', 'summarised')
ORDER BY id LIMIT 1`, d.Target, d.Cluster, store.KindAlert).Scan(&d.ParentID)
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				d.Kind, d.ParentID = "", 0
				if d.Status == store.StatusFolded {
					d.Status = store.StatusPending
				}
			case err != nil:
				return nil, 0, 0, err
			}
		}
		if d.Status == store.StatusPending {
			d.NextAttempt = truncMillis(d.NextAttempt)
			if d.NextAttempt.IsZero() {
				d.NextAttempt = created
			}
		} else {
			d.NextAttempt = time.Time{}
		}
		d.StoryIDs = nilIfEmpty(d.StoryIDs)
		args := []any{d.Target, d.Kind, d.StoryID, list(d.StoryIDs), d.DedupKey, list(d.Rules), list(d.Terms),
			d.Cluster, d.ParentID, d.Text, d.Status, ms(d.NextAttempt), ms0(d.Created)}
		const insert = `
INSERT INTO deliveries (target, kind, story_id, story_ids, dedup_key, rules, terms, cluster,
	parent_id, text, status, next_attempt, created)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`
		q := insert + ` RETURNING id`
		if d.DedupKey != "" && d.Status != store.StatusDuplicate {
			q = insert + ` ON CONFLICT (target, dedup_key) WHERE dedup_key <> '' AND status <> 'duplicate' DO NOTHING RETURNING id`
		}
		err := tx.QueryRow(ctx, q, args...).Scan(&d.ID)
		if errors.Is(err, pgx.ErrNoRows) {
			// The target already has the story: keep the row as a duplicate.
			d.Status, d.NextAttempt = store.StatusDuplicate, time.Time{}
			args[10], args[11] = d.Status, ms(d.NextAttempt)
			err = tx.QueryRow(ctx, insert+` RETURNING id`, args...).Scan(&d.ID)
		}
		if err != nil {
			return nil, 0, 0, fmt.Errorf("delivery to %q: %w", d.Target, err)
		}
		switch d.Status {
		case store.StatusPending:
			pending++
			lanes[d.Target] = true
		case store.StatusDuplicate:
			dups++
		}
		out = append(out, d)
	}
	for t := range lanes {
		if _, err := tx.Exec(ctx, `INSERT INTO lanes (target) VALUES ($1) ON CONFLICT (target) DO NOTHING`, t); err != nil {
			return nil, 0, 0, err
		}
	}
	return out, pending, dups, nil
}

// clusterLock is the advisory lock key of a cluster's first alert to a target.
func clusterLock(target, cluster string) int64 {
	h := fnv.New64a()
	h.Write([]byte(target))
	h.Write([]byte{0})
	h.Write([]byte(cluster))
	return int64(h.Sum64())
}

// Enqueue adds deliveries that do not come from ingest, deduplicated as in
// Ingest, and returns them as stored.
func (s *Store) Enqueue(ctx context.Context, ds []store.Delivery) ([]store.Delivery, error) {
	var out []store.Delivery
	now := s.now()
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		out, _, _, err = insertDeliveries(ctx, tx, ds, now)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("enqueue: %w", err)
	}
	_ = s.notify(ctx, topicOutbox)
	return out, nil
}

const deliverySelect = `
SELECT d.id, d.target, d.kind, d.story_id, d.story_ids, d.dedup_key, d.rules, d.terms, d.cluster,
       d.parent_id, d.text, d.status, d.attempts, d.next_attempt, d.waiting, d.last_error, d.ref,
       d.created, d.sent, COALESCE(p.ref, '')
FROM deliveries d
LEFT JOIN deliveries p ON p.id = d.parent_id AND d.parent_id <> 0`

// queryDeliveries reads outbox rows and fills in their stories.
func queryDeliveries(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, sql string, args ...any) ([]store.Delivery, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	var out []store.Delivery
	for rows.Next() {
		var d store.Delivery
		var next, sent *int64
		var created int64
		err := rows.Scan(&d.ID, &d.Target, &d.Kind, &d.StoryID, &d.StoryIDs, &d.DedupKey, &d.Rules, &d.Terms,
			&d.Cluster, &d.ParentID, &d.Text, &d.Status, &d.Attempts, &next, &d.Waiting, &d.LastError, &d.Ref,
			&created, &sent, &d.ParentRef)
		if err != nil {
			rows.Close()
			return nil, err
		}
		d.StoryIDs, d.Rules, d.Terms = nilIfEmpty(d.StoryIDs), nilIfEmpty(d.Rules), nilIfEmpty(d.Terms)
		d.NextAttempt, d.Created, d.Sent = timeOf(next), timeOf(&created), timeOf(sent)
		out = append(out, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, fillStories(ctx, q, out)
}

// fillStories sets Story and Stories of ds; stories that were pruned are
// left out.
func fillStories(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, ds []store.Delivery) error {
	var ids []string
	for _, d := range ds {
		if d.StoryID != "" {
			ids = append(ids, d.StoryID)
		}
		ids = append(ids, d.StoryIDs...)
	}
	if len(ids) == 0 {
		return nil
	}
	stories, err := collectStories(q.Query(ctx, `SELECT `+storyColumns+` FROM stories st WHERE st.id = ANY($1)`, ids))
	if err != nil {
		return err
	}
	byID := make(map[string]story.Story, len(stories))
	for _, st := range stories {
		byID[st.ID] = st
	}
	for i := range ds {
		d := &ds[i]
		if st, ok := byID[d.StoryID]; ok && d.StoryID != "" {
			d.Story = &st
		}
		for _, id := range d.StoryIDs {
			if st, ok := byID[id]; ok {
				d.Stories = append(d.Stories, st)
			}
		}
	}
	return nil
}

// Deliveries lists outbox rows for the delivery log, newest first.
func (s *Store) Deliveries(ctx context.Context, q store.DeliveryQuery) ([]store.Delivery, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if q.Rule != "" {
		where = append(where, `d.rules @> ARRAY[`+arg(q.Rule)+`::text]`)
	}
	if q.Status != "" {
		where = append(where, `d.status = `+arg(q.Status))
	}
	if q.Target != "" {
		where = append(where, `d.target = `+arg(q.Target))
	}
	if q.StoryID != "" {
		where = append(where, `d.story_id = `+arg(q.StoryID))
	}
	if q.Before > 0 {
		where = append(where, `d.id < `+arg(q.Before))
	}
	if !q.Since.IsZero() {
		where = append(where, `d.created >= `+arg(q.Since.UnixMilli()))
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	query := deliverySelect
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	query += ` ORDER BY d.id DESC LIMIT ` + arg(limit)
	out, err := queryDeliveries(ctx, s.pool, query, args...)
	if err != nil {
		return nil, fmt.Errorf("deliveries: %w", err)
	}
	return out, nil
}

// OutboxDepth counts pending deliveries.
func (s *Store) OutboxDepth(ctx context.Context) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT COUNT(*) FROM deliveries WHERE status = 'pending'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("outbox depth: %w", err)
	}
	return n, nil
}

// Retry puts a failed delivery back to pending, due now, keeping its last
// error and attempts. A delivery in another status is store.ErrConflict.
func (s *Store) Retry(ctx context.Context, id int64) error {
	now := s.now()
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var status, target string
		err := tx.QueryRow(ctx, `SELECT status, target FROM deliveries WHERE id = $1 FOR UPDATE`, id).Scan(&status, &target)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if status != store.StatusFailed && status != store.StatusPending {
			return fmt.Errorf("status %s: %w", status, store.ErrConflict)
		}
		if _, err := tx.Exec(ctx, `UPDATE deliveries SET status = 'pending', next_attempt = $1, waiting = '' WHERE id = $2`,
			now.UnixMilli(), id); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
INSERT INTO lanes (target) VALUES ($1) ON CONFLICT (target) DO UPDATE SET hold_until = 0, hold_reason = ''`, target)
		return err
	})
	if err != nil {
		return fmt.Errorf("retry %d: %w", id, err)
	}
	_ = s.notify(ctx, topicOutbox)
	return nil
}

// Cancel gives a pending delivery up, as failed with reason.
func (s *Store) Cancel(ctx context.Context, id int64, reason string) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var status string
		err := tx.QueryRow(ctx, `SELECT status FROM deliveries WHERE id = $1 FOR UPDATE`, id).Scan(&status)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if status != store.StatusPending {
			return fmt.Errorf("status %s: %w", status, store.ErrConflict)
		}
		_, err = tx.Exec(ctx,
			`UPDATE deliveries SET status = 'failed', next_attempt = NULL, waiting = '', last_error = $1 WHERE id = $2`, reason, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("cancel %d: %w", id, err)
	}
	return nil
}

// ClampWaits brings waits past latest forward to it.
func (s *Store) ClampWaits(ctx context.Context, latest time.Time) (int, error) {
	var n int64
	err := s.tx(ctx, func(tx pgx.Tx) error {
		ms := latest.UnixMilli()
		tag, err := tx.Exec(ctx, `UPDATE deliveries SET next_attempt = $1 WHERE status = 'pending' AND next_attempt > $1`, ms)
		if err != nil {
			return err
		}
		holds, err := tx.Exec(ctx, `UPDATE lanes SET hold_until = $1 WHERE hold_until > $1`, ms)
		if err != nil {
			return err
		}
		n = tag.RowsAffected() + holds.RowsAffected()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("clamp waits: %w", err)
	}
	if n > 0 {
		_ = s.notify(ctx, topicOutbox)
	}
	return int(n), nil
}
