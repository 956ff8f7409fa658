// Package schedule is wirewatch's vocabulary of recurring times: when a
// rule's digest period ends ("hourly", "daily", "weekly", an @descriptor or a
// cron spec, in the rule's time zone) and when a source is fetched on a cron
// spec. It reads a setting once, says when it next runs and which period has
// ended since the last one, and describes it for people. The configuration,
// the bot, the service and the dashboard all read schedules here, so that
// they agree. It is pure: no clock, no I/O. Cron specs are robfig/cron/v3's
// standard syntax.
package schedule

import (
	"errors"
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // time zones must be known the same on hosts without a zoneinfo database

	"github.com/robfig/cron/v3"
)

// The digest words and the cron specs they stand for.
const (
	// Hourly digests end on the hour.
	Hourly = "hourly"
	// Daily digests end at 08:00.
	Daily = "daily"
	// Weekly digests end on Mondays at 08:00.
	Weekly = "weekly"
)

// words maps each digest word to its cron spec.
var words = map[string]string{Hourly: "0 * * * *", Daily: "0 8 * * *", Weekly: "0 8 * * 1"}

// Words are the digest words, in order of period length.
var Words = []string{Hourly, Daily, Weekly}

// Schedule is a parsed schedule in its time zone. It is immutable and safe
// to share; it satisfies robfig/cron/v3's Schedule interface.
type Schedule struct {
	spec  string // as NormalizeDigest or ParseCron stores it
	loc   *time.Location
	sched cron.Schedule
	every time.Duration // the period of an @every schedule, else 0
}

// UnknownError is a digest setting of one word that is not a digest word (a
// typo such as "dayly"); the configuration adds a suggestion to it.
type UnknownError struct {
	// Setting is the setting as given.
	Setting string
}

// Error says what the setting may be.
func (e *UnknownError) Error() string {
	return fmt.Sprintf(`unknown digest %q: use hourly, daily, weekly or a cron spec such as "0 9 * * 1-5"`, e.Setting)
}

// errZoneInSpec refuses a time zone written into a digest's cron spec.
var errZoneInSpec = errors.New("set the time zone with the rule's timezone key, not in the digest spec")

// minEvery is the shortest @every period: cron/v3 runs nothing more often.
const minEvery = time.Second

// LoadLocation returns the time zone of an IANA name; "" is UTC.
func LoadLocation(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf(`unknown time zone %q: use an IANA name such as "Europe/Berlin" or "UTC"`, name)
	}
	return loc, nil
}

// NormalizeDigest checks a rule's digest setting and returns it as it is
// stored: "" (instant alerts), a digest word in lower case, or a cron spec
// with single spaces. Errors say what is wrong; a mistyped word is an
// *UnknownError.
func NormalizeDigest(setting string) (string, error) {
	setting = strings.Join(strings.Fields(setting), " ")
	if setting == "" {
		return "", nil
	}
	s, err := Parse(setting, "")
	if err != nil {
		return "", err
	}
	return s.spec, nil
}

// Parse reads a rule's digest setting in a time zone ("" is UTC): "hourly"
// (on the hour), "daily" (08:00) or "weekly" (Mondays 08:00), in any case;
// else a cron spec of five fields or an @descriptor (@daily is midnight, as
// cron has it), without a TZ= prefix: the rule's time zone applies.
func Parse(setting, timezone string) (*Schedule, error) {
	loc, err := LoadLocation(timezone)
	if err != nil {
		return nil, err
	}
	setting = strings.Join(strings.Fields(setting), " ")
	word := strings.ToLower(setting)
	if spec, ok := words[word]; ok {
		sched, err := parseCron(spec, loc)
		if err != nil {
			return nil, err
		}
		return newSchedule(word, loc, sched), nil
	}
	if hasZone(setting) {
		return nil, errZoneInSpec
	}
	sched, err := parseCron(setting, loc)
	if err != nil {
		if setting != "" && !strings.ContainsAny(setting, " @") {
			return nil, &UnknownError{Setting: setting}
		}
		return nil, fmt.Errorf(`must be "", "hourly", "daily", "weekly" or a cron spec: %w`, err)
	}
	return newSchedule(setting, loc, sched), nil
}

// ParseCron reads a source's fetch schedule: a cron spec of five fields or an
// @descriptor, in UTC unless it starts with TZ=zone or CRON_TZ=zone.
func ParseCron(spec string) (*Schedule, error) {
	spec = strings.Join(strings.Fields(spec), " ")
	loc := time.UTC
	body := spec
	if hasZone(spec) {
		zone, rest, _ := strings.Cut(spec, " ")
		_, name, _ := strings.Cut(zone, "=")
		var err error
		if loc, err = LoadLocation(name); err != nil || name == "" {
			return nil, fmt.Errorf("invalid cron spec %q: the time zone must be an IANA name such as TZ=Europe/Berlin", spec)
		}
		body = rest
	}
	sched, err := parseCron(body, loc)
	if err != nil {
		return nil, err
	}
	return newSchedule(spec, loc, sched), nil
}

func newSchedule(spec string, loc *time.Location, sched cron.Schedule) *Schedule {
	s := &Schedule{spec: spec, loc: loc, sched: sched}
	if d, ok := sched.(cron.ConstantDelaySchedule); ok {
		s.every = d.Delay
	}
	return s
}

// hasZone reports whether a cron spec starts with a time zone.
func hasZone(spec string) bool {
	return strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=")
}

// parseCron parses a cron spec without a zone prefix into a schedule in loc,
// refusing what would never run and @every periods under a second.
func parseCron(spec string, loc *time.Location) (cron.Schedule, error) {
	if spec == "" {
		return nil, fmt.Errorf("empty cron spec")
	}
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("invalid cron spec %q: %w", spec, err)
	}
	switch s := sched.(type) {
	case *cron.SpecSchedule:
		s.Location = loc
		// Every schedule that runs at all runs within five years of
		// 2000-01-01, a leap year: cron/v3 looks that far.
		if s.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, loc)).IsZero() {
			return nil, fmt.Errorf("invalid cron spec %q: no date matches it, so it would never run", spec)
		}
	case cron.ConstantDelaySchedule:
		if d, _ := time.ParseDuration(strings.TrimSpace(strings.TrimPrefix(spec, "@every"))); d < minEvery {
			return nil, fmt.Errorf("invalid cron spec %q: @every needs a period of at least %s", spec, minEvery)
		}
	}
	return sched, nil
}

// Next returns the first run strictly after t, in t's location; the zero
// time when there is none within five years. An @every schedule runs its
// period after whatever time it is asked about.
func (s *Schedule) Next(t time.Time) time.Time { return s.sched.Next(t) }

// Prev returns the last run at or before t, in t's location; the zero time
// when there is none within about eight years. For an @every schedule it is
// t itself, to the second.
func (s *Schedule) Prev(t time.Time) time.Time {
	if s.every > 0 {
		return t.Truncate(time.Second)
	}
	// cron/v3 only looks forward. Find a time lo with a run in (lo, t],
	// looking back twice as far each time, then close in on the last run
	// by halving: a run in (lo, t] holds for lo before the last run, not
	// from it on.
	runBy := func(x time.Time) bool {
		n := s.sched.Next(x)
		return !n.IsZero() && !n.After(t)
	}
	back := time.Minute
	for !runBy(t.Add(-back)) {
		if back *= 2; back > 9*365*24*time.Hour {
			return time.Time{}
		}
	}
	lo, hi := t.Add(-back), t
	for hi.Sub(lo) > time.Second {
		mid := lo.Add(hi.Sub(lo) / 2)
		if runBy(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return s.sched.Next(lo)
}

// Period returns the end of the period that began at last and has ended by
// t: the last run after last and at or before t, so that periods missed
// while nobody looked close as one. ok is false while no run after last has
// come. An @every schedule keeps the phase of last.
func (s *Schedule) Period(last, t time.Time) (end time.Time, ok bool) {
	end = s.Next(last)
	if end.IsZero() || end.After(t) {
		return time.Time{}, false
	}
	if s.every > 0 {
		return end.Add(t.Sub(end) / s.every * s.every), true
	}
	if p := s.Prev(t); p.After(end) {
		end = p
	}
	return end, true
}

// Location returns the schedule's time zone.
func (s *Schedule) Location() *time.Location { return s.loc }

// String returns the setting as it is stored: "daily", "0 9 * * 1-5",
// "TZ=Asia/Tokyo 0 9 * * *".
func (s *Schedule) String() string { return s.spec }

// Describe says when the schedule runs, for people: "daily (08:00
// Europe/Berlin)", "weekly (Mondays 08:00 UTC)", "hourly (on the hour
// UTC)", "0 9 * * 1-5 (Europe/Berlin)", "@every 1h".
func (s *Schedule) Describe() string {
	zone := s.loc.String()
	switch s.spec {
	case Hourly:
		return "hourly (on the hour " + zone + ")"
	case Daily:
		return "daily (08:00 " + zone + ")"
	case Weekly:
		return "weekly (Mondays 08:00 " + zone + ")"
	}
	if s.every > 0 || hasZone(s.spec) {
		return s.spec
	}
	return s.spec + " (" + zone + ")"
}
