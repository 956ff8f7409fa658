package service

import (
	"slices"
	"strings"
	"testing"

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
			i := slices.IndexFunc(ex.Checks, func(c rules.Check) bool { return c.Term == term })
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
