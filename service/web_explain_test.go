package service

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

var explainStory = story.Story{ID: "s", Title: "Nvidia H20: Huang says China export rules hit 英伟达",
	Summary: "Beijing; stock price falls", Content: "Analysts expect exports to slow.", Source: "Reuters",
	Author: "Jane Doe", Categories: []string{"Tech", "U.S. News"}, URL: "https://www.reuters.com/x"}

func TestExplainRule(t *testing.T) {
	tests := []struct {
		query   string
		matched bool
		reasons []string
		checks  map[string][]string // term → fields
	}{
		{`nvidia AND (china OR beijing)`, true, nil, map[string][]string{"nvidia": {"title"}, "china": {"title"}, "beijing": {"summary"}}},
		{`nvidia -"stock price"`, false, []string{`excludes "stock price" — found in summary`}, nil},
		{`nvidia taiwan`, false, []string{"needs 'taiwan' — not found"}, nil},
		{`(taiwan OR seoul) nvidia`, false, []string{"needs one of 'taiwan', 'seoul' — none found"}, nil},
		{`title:beijing`, false, []string{"needs 'title:beijing' — not found"}, nil},
		{`huang NEAR/3 china`, true, nil, map[string][]string{"huang NEAR/3 china": {"title"}}},
		{`export*`, true, nil, map[string][]string{"export*": {"title", "content"}}},
		{`site:reuters.com -category:tech`, false, []string{"excludes 'category:tech' — found in category"}, nil},
		{`url:https://www.reuters.com/x`, true, nil, map[string][]string{"url:https://www.reuters.com/x": {"url"}}},
		{`author:(jane -doe)`, false, []string{"excludes 'author:doe' — found in author"}, nil},
		{`/\bh[0-9]{2,3}\b/ 英伟达`, true, nil, map[string][]string{`/\bh[0-9]{2,3}\b/`: {"title"}, "英伟达": {"title"}}},
		{`(a AND b) OR (c AND d)`, false, []string{"needs one of these, and none holds: (needs 'a' — not found; needs 'b' — not found) or (needs 'c' — not found; needs 'd' — not found)"}, nil},
		{`nvidia NOT (stock OR bond)`, false, []string{"excludes 'stock' — found in summary"}, nil},
	}
	for _, tt := range tests {
		ex := ExplainRule(store.Rule{Name: "r", Query: tt.query}, &explainStory)
		if ex.Matched != tt.matched || !slices.Equal(ex.Reasons, tt.reasons) {
			t.Errorf("%s: matched %v, reasons %q; want %v, %q", tt.query, ex.Matched, ex.Reasons, tt.matched, tt.reasons)
		}
		for term, fields := range tt.checks {
			i := slices.IndexFunc(ex.Checks, func(c TermCheck) bool { return c.Term == term })
			if i < 0 || !slices.Equal(ex.Checks[i].Fields, fields) {
				t.Errorf("%s: check of %s: %+v", tt.query, term, ex.Checks)
			}
		}
	}
	if ex := ExplainRule(store.Rule{Query: "(broken"}, &explainStory); ex.Matched || len(ex.Reasons) != 1 {
		t.Errorf("broken query: %+v", ex)
	}
	ex := ExplainRule(store.Rule{Query: "nvidia", Sources: []string{"AP"}}, &explainStory)
	if ex.Matched || len(ex.Terms) != 1 || !strings.Contains(ex.Reasons[0], `only listens to "AP"`) {
		t.Errorf("other source: %+v", ex)
	}
}

// FuzzExplain checks that the explainer reads back the canonical form of
// every query Parse accepts, and that its verdict agrees with Eval.
func FuzzExplain(f *testing.F) {
	for _, q := range []string{
		`nvidia AND (china OR beijing) -"stock price"`, `title:(h20 OR h200)`, `huang NEAR/3 china`, `export*`,
		`site:reuters.com`, `/\bh[0-9]{2,3}\b/`, `英伟达`, `U.S. export-control`, `category:"u.s. news" OR url:https://x.com/a`,
		`NOT a b`, `((a))`, `author:(jane -doe)`, `title:(a NEAR/2 b) OR /x y/`, `3:30 "a (b)"`, `-(a OR b) c`,
		`summary:/a"b/ OR "x/y"`, `url:/path OR and or not`,
	} {
		f.Add(q, explainStory.Title, explainStory.Summary)
	}
	f.Fuzz(func(t *testing.T, query, title, summary string) {
		if !utf8.ValidString(query) {
			return
		}
		q, err := rules.Parse(query)
		if err != nil {
			return
		}
		canon := q.String()
		tree, err := parseCanonical(canon)
		if err != nil {
			if _, perr := rules.Parse(canon); perr != nil {
				return // past the limits once spelled out
			}
			t.Fatalf("canonical form %q of %q: %v", canon, query, err)
		}
		st := explainStory
		st.Title, st.Summary = title, summary
		_, ok := q.Eval(&st)
		tree.check(&st)
		if tree.eval() != ok {
			var checks []TermCheck
			tree.collect(&checks, false)
			t.Fatalf("%q on %q / %q: Eval %v, explainer %v (%+v)", canon, title, summary, ok, !ok, checks)
		}
		ex := ExplainRule(store.Rule{Query: query}, &st)
		if ex.Matched != ok || (!ok && len(ex.Reasons) == 0) {
			t.Fatalf("%q: %+v", query, ex)
		}
	})
}

func TestParseCanonicalRefusesGarbage(t *testing.T) {
	for _, s := range []string{"", "(a", `"a`, "/a", "a )", "a AND", strings.Repeat("(", 100) + "a" + strings.Repeat(")", 100)} {
		if _, err := parseCanonical(s); err == nil {
			t.Errorf("parseCanonical(%q): no error", s)
		}
	}
}
