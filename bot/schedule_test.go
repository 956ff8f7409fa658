package bot

import (
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

func TestNextDue(t *testing.T) {
	now := time.Date(2026, 12, 3, 9, 5, 0, 0, time.UTC)
	every := store.Source{Name: "every 10m", Interval: 10 * time.Minute}
	cronSrc := store.Source{Name: "cron", Schedule: "0 * * * *"}
	broken := store.Source{Name: "broken", Schedule: "not a schedule"}
	zoned := store.Source{Name: "zoned", Schedule: "TZ=Asia/Kolkata 0 * * * *"}
	for _, tt := range []struct {
		name    string
		src     store.Source
		backoff time.Time
		from    time.Time // the result is after it ...
		to      time.Time // ... and not after it
		err     bool
	}{
		{"the next slot of the interval", every, time.Time{}, now, now.Add(10 * time.Minute), false},
		{"the default interval", store.Source{Name: "default"}, time.Time{}, now, now.Add(5 * time.Minute), false},
		{"the first slot at or after a backoff", every, now.Add(time.Hour), now.Add(time.Hour - time.Millisecond), now.Add(70 * time.Minute), false},
		{"a backoff that has ended changes nothing", every, now.Add(-time.Hour), now, now.Add(10 * time.Minute), false},
		{"the next activation of a cron spec, within its minute of jitter", cronSrc, time.Time{}, now.Add(55*time.Minute - time.Millisecond), now.Add(56 * time.Minute), false},
		{"a spec that does not parse falls back to the default interval", broken, time.Time{}, now, now.Add(5 * time.Minute), true},
		// Read by package schedule, as the configuration and the dashboard
		// read it: a zone counts, and a spec that never runs is refused
		// instead of giving no next fetch at all.
		{"a cron spec in its time zone", zoned, time.Time{}, now.Add(25*time.Minute - time.Millisecond), now.Add(26 * time.Minute), false},
		{"a spec that never runs", store.Source{Name: "never", Schedule: "0 0 30 2 *"}, time.Time{}, now, now.Add(5 * time.Minute), true},
		{"a zone without a spec", store.Source{Name: "zone only", Schedule: "TZ=UTC"}, time.Time{}, now, now.Add(5 * time.Minute), true},
	} {
		got, err := nextDue(tt.src, 5*time.Minute, now, tt.backoff)
		if (err != nil) != tt.err {
			t.Errorf("%s: error %v, want error %v", tt.name, err, tt.err)
		}
		if !got.After(tt.from) || got.After(tt.to) {
			t.Errorf("%s: nextDue = %v, want in (%v, %v]", tt.name, got, tt.from, tt.to)
		}
	}
}
