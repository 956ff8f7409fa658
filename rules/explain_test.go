package rules

import (
	"slices"
	"testing"

	"github.com/wirewatch/wirewatch/story"
)

var explainStory = story.Story{ID: "s", Title: "Nvidia H20: Huang says China export rules hit 英伟达",
	Summary: "Beijing; stock price falls", Content: "Analysts expect exports to slow.", Source: "Reuters",
	Author: "Jane Doe", Categories: []string{"Tech", "U.S. News"}, URL: "https://www.reuters.com/x"}

func TestExplain(t *testing.T) {
	tests := []struct {
		query   string
		matched bool
		terms   []string
		reasons []string
		checks  map[string][]string // term → fields
	}{
		{`nvidia AND (china OR beijing)`, true, []string{"nvidia", "china", "beijing"}, nil,
			map[string][]string{"nvidia": {"title"}, "china": {"title"}, "beijing": {"summary"}}},
		{`nvidia -"stock price"`, false, nil, []string{`excludes "stock price" — found in summary`},
			map[string][]string{"nvidia": {"title"}, `"stock price"`: {"summary"}}},
		{`nvidia taiwan`, false, nil, []string{"needs 'taiwan' — not found"}, map[string][]string{"taiwan": nil}},
		{`(taiwan OR seoul) nvidia`, false, nil, []string{"needs one of 'taiwan', 'seoul' — none found"}, nil},
		{`title:beijing`, false, nil, []string{"needs 'title:beijing' — not found"}, map[string][]string{"title:beijing": nil}},
		{`huang NEAR/3 china`, true, []string{"huang", "china"}, nil, map[string][]string{"huang NEAR/3 china": {"title"}}},
		{`export*`, true, []string{"export*"}, nil, map[string][]string{"export*": {"title", "content"}}},
		{`site:reuters.com -category:tech`, false, nil, []string{"excludes 'category:tech' — found in category"},
			map[string][]string{"site:reuters.com": {"url"}}},
		{`url:https://www.reuters.com/x`, true, []string{"https www reuters com x"}, nil,
			map[string][]string{"url:https://www.reuters.com/x": {"url"}}},
		{`author:(jane -doe)`, false, nil, []string{"excludes 'author:doe' — found in author"}, nil},
		{`/\bh[0-9]{2,3}\b/ 英伟达`, true, []string{`/\bh[0-9]{2,3}\b/`, "英 伟 达"}, nil,
			map[string][]string{`/\bh[0-9]{2,3}\b/`: {"title"}, "英伟达": {"title"}}},
		{`(a AND b) OR (c AND d)`, false, nil, []string{"needs one of these, and none holds: (needs 'a' — not found; needs 'b' — not found) or (needs 'c' — not found; needs 'd' — not found)"}, nil},
		{`nvidia NOT (stock OR bond)`, false, nil, []string{"excludes 'stock' — found in summary"}, nil},
		{`nvidia -(stock price)`, false, nil, []string{"excludes a combination that is present: excludes 'stock' — found in summary; excludes 'price' — found in summary"}, nil},
		{`nvidia -(stock -taiwan)`, false, nil, []string{"excludes a combination that is present: excludes 'stock' — found in summary; needs 'taiwan' — not found"}, nil},
		{`title:(taiwan OR seoul) OR summary:taiwan`, false, nil, []string{"needs one of these, and none holds: (needs one of 'title:taiwan', 'title:seoul' — none found) or (needs 'summary:taiwan' — not found)"}, nil},
		{`category:"u.s. news" source:reuters`, true, []string{"u s news", "reuters"}, nil,
			map[string][]string{`category:"u.s. news"`: {"category"}, "source:reuters": {"source"}}},
	}
	for _, tt := range tests {
		q, err := Parse(tt.query)
		if err != nil {
			t.Fatal(err)
		}
		ex := q.Explain(&explainStory)
		if ex.Matched != tt.matched || !slices.Equal(ex.Terms, tt.terms) || !slices.Equal(ex.Reasons, tt.reasons) {
			t.Errorf("%s: matched %v, terms %q, reasons %q; want %v, %q, %q", tt.query, ex.Matched, ex.Terms, ex.Reasons, tt.matched, tt.terms, tt.reasons)
		}
		for term, fields := range tt.checks {
			i := slices.IndexFunc(ex.Checks, func(c Check) bool { return c.Term == term })
			if i < 0 || !slices.Equal(ex.Checks[i].Fields, fields) {
				t.Errorf("%s: check of %s: %+v", tt.query, term, ex.Checks)
			}
		}
	}
}

func TestExplainChecksEveryTermInOrder(t *testing.T) {
	q, err := Parse(`nvidia -"stock price" title:(h20 OR NOT -h200) site:reuters.com`)
	if err != nil {
		t.Fatal(err)
	}
	ex := q.Explain(&explainStory)
	want := []Check{
		{Term: "nvidia", Fields: []string{"title"}},
		{Term: `"stock price"`, Negative: true, Fields: []string{"summary"}},
		{Term: "title:h20", Fields: []string{"title"}},
		{Term: "title:h200"},
		{Term: "site:reuters.com", Fields: []string{"url"}},
	}
	if !slices.EqualFunc(ex.Checks, want, func(a, b Check) bool {
		return a.Term == b.Term && a.Negative == b.Negative && slices.Equal(a.Fields, b.Fields)
	}) {
		t.Errorf("checks %+v, want %+v", ex.Checks, want)
	}
}
