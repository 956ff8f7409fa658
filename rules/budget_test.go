package rules

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/story"
)

// TestHostileRegexesAreRefused: expressions whose program is so large that
// one call over a story could take seconds fail to parse, with the column
// and the reason (issue 12, item 1).
func TestHostileRegexesAreRefused(t *testing.T) {
	for _, q := range []string{`/[\p{L}\p{N}]{1000}x/`, `/.{1000}zz/`, `title:/(a{100}){3}/`} {
		_, err := Parse(q)
		if err == nil || !strings.Contains(err.Error(), "regular expression too complex") {
			t.Errorf("Parse(%q) = %v, want too complex", q, err)
		}
	}
	for _, q := range []string{`/(x+x+)+y/`, `/\bh[0-9]{2,3}\b/`, `/[a-z]{150}/`} {
		if _, err := Parse(q); err != nil {
			t.Errorf("Parse(%q): %v", q, err)
		}
	}
}

// TestRulesSeeCappedText: rules see at most the documented bytes of each
// field, so a 3 MB story costs what a 32 KiB one does; a word past the cap
// is not seen, by a word term or a regular expression.
func TestRulesSeeCappedText(t *testing.T) {
	e := NewEngine()
	e.Set("word", mustParse(t, "needle"))
	e.Set("regex", mustParse(t, "/needle/"))
	e.Set("early", mustParse(t, "haystack"))
	big := strings.Repeat("hay ", MaxContentBytes/4) + "needle " + strings.Repeat("x", 3<<20)
	m := e.NewMatcher()
	var got []string
	for _, match := range m.Match(&story.Story{ID: "s", Title: "haystack", Content: big}) {
		got = append(got, match.Rule)
	}
	if fmt.Sprint(got) != "[early]" {
		t.Errorf("matched %v, want only [early]: the needle lies past MaxContentBytes", got)
	}
	// Inside the cap it is found.
	got = got[:0]
	for _, match := range m.Match(&story.Story{ID: "s", Content: "hay needle " + strings.Repeat("x", 3<<20)}) {
		got = append(got, match.Rule)
	}
	if fmt.Sprint(got) != "[word regex]" {
		t.Errorf("matched %v, want [word regex]", got)
	}
	if c := capText("aé", 2); c != "a" {
		t.Errorf("capText cut inside a character: %q", c)
	}
}

// TestRegexBudgetStopsAStory: once a story's regular expression budget is
// spent, the rules that still need a regular expression do not match it
// (not even through NOT) and are reported; the next story has a fresh
// budget. A budget of 1ns lets exactly one call run (r00's, on the title),
// so this is exact: every rule with a regular expression is given up on.
func TestRegexBudgetStopsAStory(t *testing.T) {
	e := NewEngine()
	e.SetRegexBudget(time.Nanosecond)
	for i := range 60 {
		e.Set(fmt.Sprintf("r%02d", i), mustParse(t, `/(x+x+)+y/`))
	}
	e.Set("not", mustParse(t, `walrus -/(x+x+)+z/`))
	e.Set("plain", mustParse(t, `walrus`))
	m := e.NewMatcher()
	s := &story.Story{ID: "s", Title: "walrus", Content: strings.Repeat("x", 3<<20)}
	for round := range 2 {
		var got []string
		for _, match := range m.Match(s) {
			got = append(got, match.Rule)
		}
		over := m.OverBudget()
		if fmt.Sprint(got) != "[plain]" || len(over) != 61 || over[0] != "r00" || over[len(over)-1] != "not" {
			t.Fatalf("round %d: matched %v, over budget %d %v", round, got, len(over), over)
		}
	}
	e.SetRegexBudget(0) // the default: plenty for a story of usual size
	if got := m.Match(&story.Story{ID: "n", Title: "walrus xxy", Content: strings.Repeat("x", 2000)}); len(got) != 62 || len(m.OverBudget()) != 0 {
		t.Errorf("default budget: %d matches, over budget %v", len(got), m.OverBudget())
	}
}

func mustParse(t *testing.T, q string) *Query {
	t.Helper()
	p, err := Parse(q)
	if err != nil {
		t.Fatalf("Parse(%q): %v", q, err)
	}
	return p
}

// newTestEngine is an engine whose regular expressions never run out of
// budget: tests that compare it with Query.Eval must not depend on how busy
// the machine is.
func newTestEngine() *Engine {
	e := NewEngine()
	e.SetRegexBudget(time.Hour)
	return e
}
