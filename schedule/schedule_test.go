package schedule

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// TestNext pins the next run of every form of setting, in UTC and across the
// 2026 DST changes of Berlin (29 March, 25 October) and New York (8 March,
// 1 November). Times are written in UTC; the comments give local time.
func TestNext(t *testing.T) {
	tests := []struct {
		setting, zone, after, want string
	}{
		// The dashboard's bug: on Tuesday 2026-12-01 it announced 12-02 00:00
		// and Sunday 00:00; the bot sends at 12-01 08:00 and Monday 08:00.
		{"daily", "", "2026-12-01T07:00:00Z", "2026-12-01T08:00:00Z"},
		{"weekly", "", "2026-12-01T07:00:00Z", "2026-12-07T08:00:00Z"},
		{"hourly", "", "2026-12-01T07:00:00Z", "2026-12-01T08:00:00Z"},
		{"Daily", "UTC", "2026-12-01T08:00:00Z", "2026-12-02T08:00:00Z"},
		{"0 9 * * 1-5", "", "2026-12-04T10:00:00Z", "2026-12-07T09:00:00Z"}, // Friday → Monday
		{"@daily", "", "2026-12-01T07:00:00Z", "2026-12-02T00:00:00Z"},      // cron's @daily is midnight
		{"@weekly", "", "2026-12-01T07:00:00Z", "2026-12-06T00:00:00Z"},     // and its @weekly Sunday
		{"@every 90m", "Europe/Berlin", "2026-12-01T07:00:30Z", "2026-12-01T08:30:30Z"},
		{"0 0 29 2 *", "", "2026-12-01T00:00:00Z", "2028-02-29T00:00:00Z"},

		// Berlin, spring forward: 02:00 CET becomes 03:00 CEST.
		{"hourly", "Europe/Berlin", "2026-03-29T00:30:00Z", "2026-03-29T01:00:00Z"},     // 01:30 CET → 03:00 CEST
		{"daily", "Europe/Berlin", "2026-03-28T08:00:00Z", "2026-03-29T06:00:00Z"},      // 08:00 CEST
		{"weekly", "Europe/Berlin", "2026-03-28T08:00:00Z", "2026-03-30T06:00:00Z"},     // Monday 08:00 CEST
		{"30 2 * * *", "Europe/Berlin", "2026-03-28T23:00:00Z", "2026-03-30T00:30:00Z"}, // no 02:30 on the 29th
		{"@daily", "Europe/Berlin", "2026-03-28T12:00:00Z", "2026-03-28T23:00:00Z"},     // 00:00 CET

		// Berlin, fall back: 03:00 CEST becomes 02:00 CET.
		{"hourly", "Europe/Berlin", "2026-10-25T00:30:00Z", "2026-10-25T01:00:00Z"},     // 02:30 CEST → 02:00 CET
		{"30 2 * * *", "Europe/Berlin", "2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z"}, // 02:30 runs twice
		{"daily", "Europe/Berlin", "2026-10-24T07:00:00Z", "2026-10-25T07:00:00Z"},      // 08:00 CET

		// New York.
		{"daily", "America/New_York", "2026-03-07T17:00:00Z", "2026-03-08T12:00:00Z"},  // 08:00 EDT
		{"weekly", "America/New_York", "2026-11-01T04:00:00Z", "2026-11-02T13:00:00Z"}, // Monday 08:00 EST
		{"hourly", "America/New_York", "2026-11-01T05:30:00Z", "2026-11-01T06:00:00Z"}, // 01:30 EDT → 01:00 EST
		{"hourly", "Asia/Kolkata", "2026-12-01T07:00:00Z", "2026-12-01T07:30:00Z"},     // on the hour in +05:30
	}
	for _, tt := range tests {
		s, err := Parse(tt.setting, tt.zone)
		if err != nil {
			t.Fatalf("Parse(%q, %q): %v", tt.setting, tt.zone, err)
		}
		if got := s.Next(utc(tt.after)); !got.Equal(utc(tt.want)) {
			t.Errorf("%q in %q: Next(%s) = %s, want %s", tt.setting, tt.zone, tt.after, got.UTC().Format(time.RFC3339), tt.want)
		}
	}
}

// TestPrev pins the last run at or before a time.
func TestPrev(t *testing.T) {
	tests := []struct {
		setting, zone, at, want string
	}{
		{"daily", "", "2026-12-01T07:00:00Z", "2026-11-30T08:00:00Z"},
		{"daily", "", "2026-12-01T08:00:00Z", "2026-12-01T08:00:00Z"}, // a run at t is the last one
		{"weekly", "Europe/Berlin", "2026-03-31T00:00:00Z", "2026-03-30T06:00:00Z"},
		{"hourly", "Europe/Berlin", "2026-10-25T01:10:00Z", "2026-10-25T01:00:00Z"}, // 02:00 CET, after 02:00 CEST
		{"0 0 29 2 *", "", "2026-12-01T00:00:00Z", "2024-02-29T00:00:00Z"},
		{"@every 1h", "", "2026-12-01T07:00:00.5Z", "2026-12-01T07:00:00Z"},
	}
	for _, tt := range tests {
		s, err := Parse(tt.setting, tt.zone)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Prev(utc(tt.at)); !got.Equal(utc(tt.want)) {
			t.Errorf("%q in %q: Prev(%s) = %s, want %s", tt.setting, tt.zone, tt.at, got.UTC().Format(time.RFC3339), tt.want)
		}
	}
}

// TestPeriod pins the end of the period that began at the last digest and
// has ended by a time: none yet, the one just ended, or several missed ones
// closing as one, across DST changes.
func TestPeriod(t *testing.T) {
	tests := []struct {
		setting, zone, last, at, want string // want "" is none yet
	}{
		{"daily", "", "2026-12-01T08:00:00Z", "2026-12-01T12:00:00Z", ""},
		{"daily", "", "2026-11-30T08:00:00Z", "2026-12-01T08:00:00Z", "2026-12-01T08:00:00Z"}, // a run at t has ended
		{"daily", "", "2026-11-30T08:00:00Z", "2026-12-01T07:59:59Z", ""},
		{"daily", "", "2026-11-20T08:00:00Z", "2026-12-01T07:00:00Z", "2026-11-30T08:00:00Z"},                   // missed days close as one
		{"weekly", "", "2026-11-24T09:30:00Z", "2026-12-01T07:00:00Z", "2026-11-30T08:00:00Z"},                  // a rule made on a Tuesday
		{"daily", "Europe/Berlin", "2026-03-28T07:00:00Z", "2026-03-29T06:00:00Z", "2026-03-29T06:00:00Z"},      // 08:00 CEST
		{"hourly", "Europe/Berlin", "2026-10-25T00:00:00Z", "2026-10-25T01:30:00Z", "2026-10-25T01:00:00Z"},     // 02:00 CET
		{"30 2 * * *", "Europe/Berlin", "2026-10-25T00:30:00Z", "2026-10-25T01:45:00Z", "2026-10-25T01:30:00Z"}, // 02:30 twice
		{"weekly", "America/New_York", "2026-10-26T12:00:00Z", "2026-11-10T00:00:00Z", "2026-11-09T13:00:00Z"},  // EDT to EST
		{"@every 90m", "", "2026-12-01T07:00:30Z", "2026-12-01T12:00:00Z", "2026-12-01T11:30:30Z"},              // the phase of last
		{"@every 90m", "", "2026-12-01T07:00:30Z", "2026-12-01T08:30:00Z", ""},
	}
	for _, tt := range tests {
		s, err := Parse(tt.setting, tt.zone)
		if err != nil {
			t.Fatal(err)
		}
		end, ok := s.Period(utc(tt.last), utc(tt.at))
		if want := tt.want != ""; ok != want || (ok && !end.Equal(utc(tt.want))) {
			t.Errorf("%q in %q: Period(%s, %s) = %s %v, want %q", tt.setting, tt.zone, tt.last, tt.at,
				end.UTC().Format(time.RFC3339), ok, tt.want)
		}
	}
}

// TestPrevIsTheRunBeforeNext checks, at random times over three years and in
// several zones, that no run falls between Prev(t) and t: the run after
// Prev(t) is the run after t.
func TestPrevIsTheRunBeforeNext(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	from := utc("2025-06-01T00:00:00Z")
	for _, zone := range []string{"", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"} {
		for _, setting := range []string{"hourly", "daily", "weekly", "*/7 * * * *", "30 2 * * 0", "0 0 1 * *", "@monthly"} {
			s, err := Parse(setting, zone)
			if err != nil {
				t.Fatal(err)
			}
			for range 200 {
				at := from.Add(time.Duration(r.Int64N(int64(3 * 365 * 24 * time.Hour))))
				p := s.Prev(at)
				if p.IsZero() || p.After(at) || !s.Next(p).Equal(s.Next(at)) {
					t.Fatalf("%q in %q at %s: Prev %s, Next(Prev) %s, Next %s", setting, zone, at, p, s.Next(p), s.Next(at))
				}
			}
		}
	}
}

// TestPeriodIsTheLastNextByT checks, at random times in several zones, that
// Period closes where stepping Next from last stops before passing t, as the
// bot once counted periods one by one. Lord Howe's half-hour change is left
// out: there cron/v3's Next from the day before skips the run on the day the
// clocks go back (2027-04-04 08:00), which Period, asked later, finds.
func TestPeriodIsTheLastNextByT(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	from := utc("2025-06-01T00:00:00Z")
	for _, zone := range []string{"", "Europe/Berlin", "America/New_York", "Asia/Kolkata"} {
		for _, setting := range []string{"hourly", "daily", "weekly", "15 */7 * * *", "30 2 * * 0", "@monthly", "@every 5h"} {
			s, err := Parse(setting, zone)
			if err != nil {
				t.Fatal(err)
			}
			for range 50 {
				last := from.Add(time.Duration(r.Int64N(int64(2 * 365 * 24 * time.Hour))))
				at := last.Add(time.Duration(r.Int64N(int64(20 * 24 * time.Hour))))
				var want time.Time
				for n := s.Next(last); !n.IsZero() && !n.After(at); n = s.Next(n) {
					want = n
				}
				end, ok := s.Period(last, at)
				if ok != !want.IsZero() || !end.Equal(want) {
					t.Fatalf("%q in %q: Period(%s, %s) = %s %v, want %s", setting, zone, last, at, end, ok, want)
				}
			}
		}
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct {
		setting, zone, want string
	}{
		{"dayly", "", `unknown digest "dayly": use hourly, daily, weekly`},
		{"0 9 * *", "", `must be "", "hourly", "daily", "weekly" or a cron spec: invalid cron spec "0 9 * *": expected exactly 5 fields`},
		{"TZ=UTC 0 9 * * *", "", "set the time zone with the rule's timezone key"},
		{"CRON_TZ=UTC", "", "set the time zone with the rule's timezone key"},
		{"daily", "Mars/Base", `unknown time zone "Mars/Base": use an IANA name`},
		{"0 0 30 2 *", "", "never run"},
		{"@every 0s", "", "at least 1s"},
		{"@every -1h", "", "at least 1s"},
		{"@fortnightly", "", "invalid cron spec"},
		{"", "", "empty cron spec"},
	}
	for _, tt := range tests {
		if _, err := Parse(tt.setting, tt.zone); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q, %q) = %v, want %q", tt.setting, tt.zone, err, tt.want)
		}
	}
	var unknown *UnknownError
	if _, err := Parse("dayly", ""); !errors.As(err, &unknown) || unknown.Setting != "dayly" {
		t.Errorf("a mistyped word is not an *UnknownError: %v", err)
	}
}

func TestNormalizeDigest(t *testing.T) {
	for in, want := range map[string]string{"": "", "  ": "", "Daily": "daily", "hourly": "hourly", "WEEKLY": "weekly",
		" 0  9 * * 1-5 ": "0 9 * * 1-5", "@daily": "@daily", "@every  2h": "@every 2h"} {
		got, err := NormalizeDigest(in)
		if err != nil || got != want {
			t.Errorf("NormalizeDigest(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := NormalizeDigest("dayly"); err == nil {
		t.Error("NormalizeDigest accepted dayly")
	}
}

func TestParseCron(t *testing.T) {
	s, err := ParseCron("*/10 * * * *")
	if err != nil || !s.Next(utc("2026-12-01T07:01:00Z")).Equal(utc("2026-12-01T07:10:00Z")) || s.Location() != time.UTC {
		t.Errorf("*/10: %v, %v", s, err)
	}
	s, err = ParseCron("CRON_TZ=Asia/Tokyo  0 9 * * *")
	if err != nil || !s.Next(utc("2026-12-01T07:00:00Z")).Equal(utc("2026-12-02T00:00:00Z")) || s.String() != "CRON_TZ=Asia/Tokyo 0 9 * * *" {
		t.Errorf("CRON_TZ: %v, %v", s, err)
	}
	for spec, want := range map[string]string{
		"61 * * * *":     `invalid cron spec "61 * * * *"`,
		"0 */5 * * * *":  `invalid cron spec "0 */5 * * * *": expected exactly 5 fields`,
		"TZ=UTC":         "empty cron spec",
		"TZ= 0 * * * *":  "IANA name",
		"TZ=Nowhere * *": "IANA name",
		"daily":          "invalid cron spec",
		"":               "empty cron spec",
	} {
		if _, err := ParseCron(spec); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseCron(%q) = %v, want %q", spec, err, want)
		}
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct{ setting, zone, want string }{
		{"hourly", "", "hourly (on the hour UTC)"},
		{"Daily", "Europe/Berlin", "daily (08:00 Europe/Berlin)"},
		{"weekly", "UTC", "weekly (Mondays 08:00 UTC)"},
		{"0 9 * * 1-5", "Asia/Tokyo", "0 9 * * 1-5 (Asia/Tokyo)"},
		{"@every 1h", "Asia/Tokyo", "@every 1h"},
	}
	for _, tt := range tests {
		s, err := Parse(tt.setting, tt.zone)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Describe(); got != tt.want {
			t.Errorf("Describe of %q in %q = %q, want %q", tt.setting, tt.zone, got, tt.want)
		}
	}
	if s, _ := ParseCron("TZ=Asia/Tokyo 0 9 * * *"); s.Describe() != "TZ=Asia/Tokyo 0 9 * * *" {
		t.Errorf("Describe of a zoned cron spec: %q", s.Describe())
	}
}

// FuzzParse checks that no setting or spec makes the parsers panic, that a
// parsed schedule's next run is later and its last run not, that a period
// ends at the last run by then, and that the stored form reads back to
// itself.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"daily", "Hourly", "weekly", "0 9 * * 1-5", "@every 10m", "@daily", "TZ=UTC",
		"CRON_TZ=Europe/Berlin 0 8 * * *", "0 0 30 2 *", "*/7 1-5 * jan-mar mon,fri", "@every 0s", "dayly"} {
		f.Add(s, "Europe/Berlin", int64(1796000000))
	}
	f.Fuzz(func(t *testing.T, setting, zone string, unix int64) {
		at := time.Unix(unix%(1<<36), 0).UTC()
		check := func(s *Schedule) {
			if n := s.Next(at); !n.IsZero() && !n.After(at) {
				t.Fatalf("%q: Next(%s) = %s", s, at, n)
			}
			if p := s.Prev(at); p.After(at) {
				t.Fatalf("%q: Prev(%s) = %s", s, at, p)
			}
			last := at.Add(-72 * time.Hour)
			if end, ok := s.Period(last, at); ok {
				if n := s.Next(end); !end.After(last) || end.After(at) || (!n.IsZero() && !n.After(at)) {
					t.Fatalf("%q: Period(%s, %s) = %s, the next run %s", s, last, at, end, n)
				}
			}
			_ = s.Describe()
		}
		if s, err := ParseCron(setting); err == nil {
			check(s)
			if again, err := ParseCron(s.String()); err != nil || again.String() != s.String() {
				t.Fatalf("ParseCron(%q) stored %q, which reads back as %v, %v", setting, s, again, err)
			}
		}
		s, err := Parse(setting, zone)
		if err != nil {
			return
		}
		check(s)
		norm, err := NormalizeDigest(setting)
		if err != nil || norm != s.String() {
			t.Fatalf("NormalizeDigest(%q) = %q, %v; Parse stored %q", setting, norm, err, s)
		}
		if again, err := NormalizeDigest(norm); err != nil || again != norm {
			t.Fatalf("NormalizeDigest(%q) = %q, %v: not stable", norm, again, err)
		}
	})
}
