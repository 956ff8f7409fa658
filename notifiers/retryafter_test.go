package notifiers_test

import (
	"math"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/notifiers"
)

// TestParseRetryAfterHostileValues: no Retry-After value wraps to a negative
// wait or a NaN; huge ones are the largest wait, which the dispatcher then
// caps (issue 12, item 3).
func TestParseRetryAfterHostileValues(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"2":                             2 * time.Second,
		"1.5":                           1500 * time.Millisecond,
		"99999999":                      99999999 * time.Second,
		"1e12":                          time.Duration(math.MaxInt64),
		"1e999":                         time.Duration(math.MaxInt64),
		"NaN":                           0,
		"Inf":                           0,
		"-Inf":                          0,
		"-5":                            0,
		"-1e999":                        0,
		"soon":                          0,
		"Sat, 28 Nov 2026 12:00:30 GMT": 30 * time.Second,
		"Fri, 27 Nov 2026 12:00:00 GMT": 0,
	} {
		if got := notifiers.ParseRetryAfter(v, now); got != want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}
