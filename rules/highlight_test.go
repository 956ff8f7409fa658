package rules

import (
	"slices"
	"strings"
	"testing"

	"github.com/wirewatch/wirewatch/story"
)

// mark shows spans as [..] for readable expectations.
func mark(s string, spans []Span) string {
	var b strings.Builder
	last := 0
	for _, sp := range spans {
		b.WriteString(s[last:sp.Start] + "[" + s[sp.Start:sp.End] + "]")
		last = sp.End
	}
	b.WriteString(s[last:])
	return b.String()
}

func TestHighlighterSpans(t *testing.T) {
	tests := []struct {
		name  string
		terms []string
		text  string
		want  string
	}{
		{"word any case", []string{"nvidia"}, "NVIDIA's chips, not nvidiafan", "[NVIDIA]'s chips, not nvidiafan"},
		{"accents", []string{"zurich"}, "Talks in Zürich today", "Talks in [Zürich] today"},
		{"decomposed accent kept with its letter", []string{"cafe"}, "Cafe\u0301 policy", "[Cafe\u0301] policy"},
		{"accent in the term", []string{"café"}, "Cafe policy", "[Cafe] policy"},
		{"soft hyphen inside a word", []string{"export"}, "ex\u00ADport rules", "[ex\u00ADport] rules"},
		{"zero-width space splits", []string{"export"}, "ex\u200Bport export", "ex\u200Bport [export]"},
		{"ligature", []string{"finance"}, "ﬁnance news", "[ﬁnance] news"},
		{"full width", []string{"nvidia"}, "ＮＶＩＤＩＡ chips", "[ＮＶＩＤＩＡ] chips"},
		{"sharp s", []string{"strasse"}, "Straße", "[Straße]"},
		{"phrase", []string{"export controls"}, "New export  controls; export rules", "New [export  controls]; export rules"},
		{"prefix", []string{"export*"}, "Exports and exported, not reexport", "[Exports] and [exported], not reexport"},
		{"phrase with a prefix", []string{"export con*"}, "export controls", "[export controls]"},
		{"reported dotted term", []string{"u s"}, "U.S. rules", "[U.S]. rules"},
		{"dotted term as written", []string{"u.s."}, "U.S. rules", "[U.S]. rules"},
		{"field scope", []string{"title:h20"}, "The H20 chip", "The [H20] chip"},
		{"quoted phrase", []string{`"export controls"`}, "export controls", "[export controls]"},
		{"regex and site skipped", []string{"/h[0-9]+/", "site:reuters.com", "url:reuters"}, "H20 at reuters.com", "H20 at reuters.com"},
		{"cjk as reported", []string{"英 伟 达"}, "关于英伟达的报道", "关于[英伟达]的报道"},
		{"cjk as written", []string{"英伟达"}, "关于英伟达的报道", "关于[英伟达]的报道"},
		{"cjk next to latin", []string{"h20"}, "英伟达H20芯片", "英伟达[H20]芯片"},
		{"fraction decomposes into two words", []string{"2"}, "a ½ b", "a [½] b"},
		{"separate words", []string{"nvidia", "china"}, "Nvidia China deal", "[Nvidia] [China] deal"},
		{"overlap merged", []string{"nvidia china", "china deal"}, "Nvidia China deal", "[Nvidia China deal]"},
		{"hyphen phrase", []string{"export control"}, "export-control rules", "[export-control] rules"},
		{"invalid UTF-8 splits", []string{"idia"}, "nv\xffidia", "nv\xff[idia]"},
		{"no terms", nil, "anything", "anything"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mark(tt.text, NewHighlighter(tt.terms).Spans(tt.text)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if !NewHighlighter([]string{"/x/", "site:a.com", " "}).Empty() || NewHighlighter([]string{"x"}).Empty() {
		t.Error("Empty is wrong")
	}
}

// storyTexts are the texts of a story a term can be found in, each category
// on its own as matching takes them.
func storyTexts(s *story.Story) []string {
	return append([]string{s.Title, s.Summary, s.Content, s.Source, s.Author, s.URL}, s.Categories...)
}

// checkHighlighted fails unless every word, phrase and prefix term of terms
// (all but regular expressions and sites) is found in one of the story's
// texts by a Highlighter.
func checkHighlighted(t *testing.T, rule string, terms []string, s *story.Story) {
	t.Helper()
	for _, term := range terms {
		if strings.HasPrefix(term, "/") || strings.HasPrefix(term, "site:") {
			continue
		}
		h := NewHighlighter([]string{term})
		if !slices.ContainsFunc(storyTexts(s), func(text string) bool { return len(h.Spans(text)) > 0 }) {
			t.Fatalf("rule %s matched term %q in story %+v, but it is highlighted nowhere", rule, term, *s)
		}
	}
}

// checkSpans fails unless spans are sorted, disjoint, not touching, not
// empty and inside text, on rune boundaries.
func checkSpans(t *testing.T, text string, spans []Span) {
	t.Helper()
	boundary := map[int]bool{len(text): true}
	for i := range text {
		boundary[i] = true
	}
	last := -1
	for _, sp := range spans {
		if sp.Start <= last || sp.End <= sp.Start || sp.End > len(text) || !boundary[sp.Start] || !boundary[sp.End] {
			t.Fatalf("bad span %+v after %d in %q (%+v)", sp, last, text, spans)
		}
		last = sp.End
	}
}

// FuzzExplain checks, for any query and story, that Explain agrees with Eval,
// gives reasons exactly when the query does not match, and that every matched
// word term is highlighted where it matched, in well-formed spans.
func FuzzExplain(f *testing.F) {
	for _, q := range fuzzQueries {
		f.Add(q, explainStory.Title, explainStory.Summary, explainStory.URL, "U.S. News")
	}
	f.Add("export", "ex\u00ADport controls", "Ex\u0301port", "https://x.com/ex%C2%ADport", "ex\u200Bport")
	f.Add("2 OR ½ OR x²", "½ ⅔ x² ①", "ＮＶＩＤＩＡ ﬁnance Straße", "http://[::1]:80/", "ｿﾆｰ ソニー")
	f.Fuzz(func(t *testing.T, query, title, summary, url, category string) {
		s := story.Story{Title: title, Summary: summary, Content: summary + " " + title, URL: url,
			Source: category, Categories: []string{category, title}}
		for _, text := range storyTexts(&s) {
			checkSpans(t, text, NewHighlighter([]string{query}).Spans(text))
		}
		q, err := Parse(query)
		if err != nil {
			return
		}
		ex := q.Explain(&s)
		terms, ok := q.Eval(&s)
		if ex.Matched != ok || !slices.Equal(ex.Terms, terms) || ok == (len(ex.Reasons) > 0) {
			t.Fatalf("%q on %+v: Explain %+v, Eval %v %q", query, s, ex, ok, terms)
		}
		if len(ex.Checks) == 0 || len(ex.Checks) > MaxTerms {
			t.Fatalf("%q: %d checks", query, len(ex.Checks))
		}
		for _, c := range ex.Checks {
			if c.Term == "" {
				t.Fatalf("%q: check %+v", query, c)
			}
		}
		if ok {
			checkHighlighted(t, query, terms, &s)
			h := NewHighlighter(terms)
			for _, text := range storyTexts(&s) {
				checkSpans(t, text, h.Spans(text))
			}
		}
	})
}

// TestSoftHyphenMatchedAndHighlighted is the case through the whole
// road: a story with "ex\u00ADport" matches the rule export, Explain finds
// the term in the title, and the term the match reports is highlighted
// there, soft hyphen included.
func TestSoftHyphenMatchedAndHighlighted(t *testing.T) {
	q, err := Parse("export")
	if err != nil {
		t.Fatal(err)
	}
	s := story.Story{ID: "s", Title: "New ex\u00ADport rules"}
	e := newTestEngine()
	e.Set("export", q)
	e.Flush()
	got := e.NewMatcher().Match(&s)
	if len(got) != 1 || !slices.Equal(got[0].Terms, []string{"export"}) {
		t.Fatalf("Match = %+v, want the rule export with its term", got)
	}
	if ex := q.Explain(&s); !ex.Matched || len(ex.Checks) != 1 || !slices.Equal(ex.Checks[0].Fields, []string{"title"}) {
		t.Errorf("Explain = %+v, want export found in the title", ex)
	}
	if m := mark(s.Title, NewHighlighter(got[0].Terms).Spans(s.Title)); m != "New [ex\u00ADport] rules" {
		t.Errorf("highlighted %q", m)
	}
}
