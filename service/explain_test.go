package service

import (
	"slices"
	"strings"
	"testing"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

// TestExplainRule checks what ExplainRule adds to rules.Query.Explain (whose
// own table, in package rules, holds the reasons and checks of every kind of
// term): the rule's source filter, and a query that does not parse.
func TestExplainRule(t *testing.T) {
	st := story.Story{ID: "s", Title: "Nvidia H20: Huang says China export rules hit 英伟达",
		Summary: "Beijing; stock price falls", Source: "Reuters"}
	ex := ExplainRule(store.Rule{Name: "r", Query: `nvidia -"stock price"`}, &st)
	if ex.Matched || !slices.Equal(ex.Reasons, []string{`excludes "stock price" — found in summary`}) ||
		len(ex.Checks) != 2 || !slices.Equal(ex.Checks[0].Fields, []string{"title"}) {
		t.Errorf("excluded phrase: %+v", ex)
	}
	ex = ExplainRule(store.Rule{Name: "r", Query: "nvidia (china OR beijing)", Sources: []string{"Reuters"}}, &st)
	if !ex.Matched || !slices.Equal(ex.Terms, []string{"nvidia", "china", "beijing"}) || len(ex.Reasons) != 0 {
		t.Errorf("match: %+v", ex)
	}
	if ex := ExplainRule(store.Rule{Query: "(broken"}, &st); ex.Matched || len(ex.Reasons) != 1 {
		t.Errorf("broken query: %+v", ex)
	}
	ex = ExplainRule(store.Rule{Query: "nvidia", Sources: []string{"AP"}}, &st)
	if ex.Matched || len(ex.Terms) != 1 || !strings.Contains(ex.Reasons[0], `only listens to "AP"`) {
		t.Errorf("other source: %+v", ex)
	}
}
