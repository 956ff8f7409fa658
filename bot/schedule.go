package bot

import (
	"fmt"
	"hash/fnv"
	"time"

	"github.com/wirewatch/wirewatch/schedule"
	"github.com/wirewatch/wirewatch/store"
)

// spreadSchedule fires every interval at a fixed phase derived from the source,
// so a thousand sources with one interval spread over it instead of firing in
// the same second, and each keeps its slot across restarts.
type spreadSchedule struct {
	interval time.Duration
	phase    time.Duration
}

// Next returns the first slot strictly after t.
func (s spreadSchedule) Next(t time.Time) time.Time {
	iv := s.interval
	base := t.Truncate(iv).Add(s.phase)
	for !base.After(t) {
		base = base.Add(iv)
	}
	return base
}

// jitteredSchedule delays each activation of a cron schedule by a fixed offset
// of up to a minute, so sources sharing "*/10 * * * *" do not fire together.
type jitteredSchedule struct {
	cron   *schedule.Schedule
	offset time.Duration
}

// Next returns the next activation of the cron schedule, plus the offset.
func (s jitteredSchedule) Next(t time.Time) time.Time {
	return s.cron.Next(t.Add(-s.offset)).Add(s.offset)
}

// nexter is a schedule of fetches: it says when the next one after t is.
type nexter interface{ Next(t time.Time) time.Time }

// sourceSchedule returns the schedule of a source: its cron spec, read as the
// configuration and the dashboard read it, else its interval, else the
// default interval.
func sourceSchedule(src store.Source, defaultInterval time.Duration) (nexter, error) {
	h := fnv.New64a()
	h.Write([]byte(src.Name))
	seed := h.Sum64()
	if src.Schedule != "" {
		sched, err := schedule.ParseCron(src.Schedule)
		if err != nil {
			return nil, fmt.Errorf("source %q: schedule: %w", src.Name, err)
		}
		return jitteredSchedule{cron: sched, offset: time.Duration(seed%60) * time.Second}, nil
	}
	iv := src.Interval
	if iv <= 0 {
		iv = defaultInterval
	}
	iv = max(iv.Round(time.Second), time.Second)
	return spreadSchedule{interval: iv, phase: time.Duration(seed % uint64(iv))}, nil
}

// nextDue returns when a source fetched at now is due again: its next slot,
// or the first slot at or after the end of a failure backoff. A source whose
// schedule does not parse keeps the default interval (config and the service
// refuse such schedules; an old row may still hold one).
func nextDue(src store.Source, defaultInterval time.Duration, now, backoffEnd time.Time) (time.Time, error) {
	sched, err := sourceSchedule(src, defaultInterval)
	if err != nil {
		src.Schedule = ""
		sched, _ = sourceSchedule(src, defaultInterval)
	}
	if backoffEnd.After(now) {
		return sched.Next(backoffEnd.Add(-time.Millisecond)), err
	}
	return sched.Next(now), err
}
