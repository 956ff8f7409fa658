package web

import (
	"testing"
	"time"
)

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 90 * time.Second: "1m30s", time.Minute: "1m", 5 * time.Minute: "5m", 90 * time.Minute: "1h30m",
		2 * time.Hour: "2h", 48 * time.Hour: "2d", 36 * time.Hour: "1d12h", 1500 * time.Millisecond: "1s",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestDoneURL(t *testing.T) {
	for _, tt := range []struct{ path, want string }{
		{"/rules", "/rules?done=saved"},
		{"/rules#rule-3", "/rules?done=saved#rule-3"},
		{"/rules?rule=3#rule-3", "/rules?rule=3&done=saved#rule-3"},
	} {
		if got := doneURL(tt.path, "saved"); got != tt.want {
			t.Errorf("doneURL(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}

func TestSentence(t *testing.T) {
	for in, want := range map[string]string{
		"needs a channel":            "Needs a channel.",
		`did you mean "team-slack"?`: `Did you mean "team-slack"?`,
		"already a sentence.":        "Already a sentence.",
		"":                           "",
	} {
		if got := sentence(in); got != want {
			t.Errorf("sentence(%q) = %q, want %q", in, got, want)
		}
	}
}
