package commands_test

import (
	"maps"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wirewatch/wirewatch/bot/commands"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		in   string
		text string
		opts map[string]string
		err  string
	}{
		{"nvidia china", "nvidia china", nil, ""},
		{"  nvidia   digest:daily  ", "nvidia", map[string]string{"digest": "daily"}, ""},
		{"digest:daily nvidia", "nvidia", map[string]string{"digest": "daily"}, ""},
		{"nvidia since:7d china", "nvidia china", map[string]string{"since": "7d"}, ""},
		{`tsmc digest:"0 9 * * 1-5"`, "tsmc", map[string]string{"digest": "0 9 * * 1-5"}, ""},
		{`https://x.example/feed name:"Some Name"`, "https://x.example/feed", map[string]string{"name": "Some Name"}, ""},
		{`https://x.example/feed name:“Curly Name”`, "https://x.example/feed", map[string]string{"name": "Curly Name"}, ""},
		{`“export controls” Since:2w`, `"export controls"`, map[string]string{"since": "2w"}, ""},
		{"title:(h20 OR h200) site:reuters.com", "title:(h20 OR h200) site:reuters.com", nil, ""},
		{`"since:7d" nvidia`, `"since:7d" nvidia`, nil, ""},
		{`/since:7d digest:daily/ x`, `/since:7d digest:daily/ x`, nil, ""},
		{`/a\/ since:1d/`, `/a\/ since:1d/`, nil, ""},
		{"title:since:7d", "title:since:7d", nil, ""},
		{"-since:7d", "-since:7d", nil, ""},
		{"(nvidia since:7d)", "(nvidia )", map[string]string{"since": "7d"}, ""},
		{"(since:7d)", "(since:7d)", nil, ""},
		{"nvidia sincere:yes", "nvidia sincere:yes", nil, ""},
		{`"unclosed since:7d`, `"unclosed since:7d`, nil, ""},
		{"a since:", "", nil, "since: needs a value"},
		{`a name:"x`, "", nil, "name: the quote opened"},
		{`a name:""`, "", nil, "name: the value in quotes is empty"},
		{"a since:1d since:2d", "", nil, "since: given twice"},
		{"", "", nil, ""},
	}
	for _, tt := range tests {
		got, err := commands.ParseArgs(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseArgs(%q): err %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseArgs(%q): %v", tt.in, err)
			continue
		}
		if tt.opts == nil {
			tt.opts = map[string]string{}
		}
		if got.Text != tt.text || !maps.Equal(got.Options, tt.opts) {
			t.Errorf("ParseArgs(%q) = %q %v, want %q %v", tt.in, got.Text, got.Options, tt.text, tt.opts)
		}
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"7d": now.AddDate(0, 0, -7), "12h": now.Add(-12 * time.Hour), "2w": now.AddDate(0, 0, -14),
		"90m": now.Add(-90 * time.Minute), "1h30m": now.Add(-90 * time.Minute),
		"2026-11-01": time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
	} {
		got, err := commands.ParseSince(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseSince(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "7", "-7d", "0d", "7x", "99999999d", "1000000h", "2027-01-01", "7 d"} {
		if _, err := commands.ParseSince(in, now); err == nil {
			t.Errorf("ParseSince(%q): no error", in)
		}
	}
}

// FuzzParseArgs checks that no input makes the parser panic, and that what
// it returns holds together: options only under known keys, with values, and
// a text that is no longer than the input.
func FuzzParseArgs(f *testing.F) {
	for _, s := range []string{
		"nvidia digest:daily", `x name:"a b" since:7d`, `/re\/ since:1d/ "q since:2d"`, "title:(a OR b) since:",
		"“curly” name:“x”", "(((since:1d", `"`, "/", `\`, "since:\"\"", "digest:\xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := commands.ParseArgs(s)
		if err != nil {
			return
		}
		for k, v := range a.Options {
			if k != "digest" && k != "since" && k != "name" {
				t.Fatalf("%q: unknown option %q", s, k)
			}
			if v == "" {
				t.Fatalf("%q: empty value for %q", s, k)
			}
		}
		if len(a.Text) > len(s) {
			t.Fatalf("%q: text %q longer than the input", s, a.Text)
		}
		if utf8.ValidString(s) && !utf8.ValidString(a.Text) {
			t.Fatalf("%q: text %q is not UTF-8", s, a.Text)
		}
		// Parsing the rest again finds no more options.
		again, err := commands.ParseArgs(a.Text)
		if err == nil && len(again.Options) != 0 && len(a.Options) == 0 {
			t.Fatalf("%q: rest %q has options %v", s, a.Text, again.Options)
		}
		_, _ = commands.ParseSince(a.Options["since"], time.Now())
	})
}
