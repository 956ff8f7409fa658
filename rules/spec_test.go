package rules

import (
	"slices"
	"testing"

	"github.com/wirewatch/wirewatch/story"
)

// specCase is one behaviour of the rule language: a query, a story, and
// whether it matches with which terms (nil terms: no match).
type specCase struct {
	name  string
	query string
	story story.Story
	terms []string
}

func title(s string) story.Story { return story.Story{Title: s} }

// TestSpec holds one row per behaviour in SPEC.md's rule language table and
// its paragraph on words. Each row is checked with Eval and with the Engine.
func TestSpec(t *testing.T) {
	tests := []specCase{
		// word
		{"word: any case", "nvidia", title("NVIDIA unveils chips"), []string{"nvidia"}},
		{"word: before an apostrophe", "nvidia", title("NVIDIA's new chip"), []string{"nvidia"}},
		{"word: not inside a longer word", "nvidia", title("nvidiafan posts"), nil},
		{"word: without regard to accents", "zurich", title("Zürich bank"), []string{"zurich"}},
		{"word: accents in the query too", "Zürich", title("ZURICH BANK"), []string{"zurich"}},
		{"word: reported lower-cased", "NVIDIA", title("Nvidia"), []string{"nvidia"}},
		{"word: sharp s", "strasse", title("Die Straße"), []string{"strasse"}},
		{"word: in the summary", "nvidia", story.Story{Title: "Chips", Summary: "Nvidia said"}, []string{"nvidia"}},
		{"word: in the content", "nvidia", story.Story{Title: "Chips", Content: "… Nvidia …"}, []string{"nvidia"}},
		{"word: bare terms skip the source", "reuters", story.Story{Title: "Chips", Source: "Reuters"}, nil},
		{"word: bare terms skip the url", "nvidia", story.Story{Title: "Chips", URL: "https://x.com/nvidia"}, nil},
		// phrase
		{"phrase: consecutive", `"export controls"`, title("New export controls on chips"), []string{"export controls"}},
		{"phrase: across punctuation", `"export controls"`, title("export-controls"), []string{"export controls"}},
		{"phrase: not in another order", `"export controls"`, title("controls on export"), nil},
		{"phrase: not with a word between", `"export controls"`, title("export chip controls"), nil},
		{"phrase: not across fields", `"export controls"`, story.Story{Title: "Chip export", Summary: "controls"}, nil},
		{"phrase: reported with single spaces", `"Export   Controls"`, title("export controls"), []string{"export controls"}},
		{"phrase: reported as its words", `"U.S. export"`, title("U.S. export curbs"), []string{"u s export"}},
		{"phrase: punctuation reported as its words", `"Export-Control"`, title("export control"), []string{"export control"}},
		// prefix
		{"prefix: longer words", "export*", title("Exports fall"), []string{"export*"}},
		{"prefix: the word itself", "export*", title("Export ban"), []string{"export*"}},
		{"prefix: not in the middle", "export*", title("Reexported goods"), nil},
		{"prefix: accents", "zur*", title("Zürich"), []string{"zur*"}},
		{"prefix: reported normalised", "Zür*", title("Zürich"), []string{"zur*"}},
		{"prefix: two letters", "ex*", title("Exit"), []string{"ex*"}},
		{"prefix: last word of a split term", "u.sa*", title("U.Same"), []string{"u sa*"}},
		// AND
		{"implicit AND: both", "nvidia china", title("Nvidia in China"), []string{"nvidia", "china"}},
		{"implicit AND: one missing", "nvidia china", title("Nvidia in Taiwan"), nil},
		{"AND: both", "nvidia AND china", story.Story{Title: "Nvidia", Summary: "China"}, []string{"nvidia", "china"}},
		{"lower-case and is a word", "nvidia and china", title("Nvidia, China"), nil},
		{"lower-case and is a word that matches", "nvidia and china", title("Nvidia and China"), []string{"nvidia", "and", "china"}},
		// OR
		{"OR: either", "china OR beijing", title("Beijing responds"), []string{"beijing"}},
		{"OR: both reported", "china OR beijing", title("Beijing, China"), []string{"china", "beijing"}},
		{"OR: neither", "china OR beijing", title("Tokyo"), nil},
		{"lower-case or is a word", "china or beijing", title("Beijing responds"), nil},
		// NOT
		{"minus excludes", `nvidia -"stock price"`, title("Nvidia stock price falls"), nil},
		{"minus keeps others", `nvidia -"stock price"`, title("Nvidia stock falls"), []string{"nvidia"}},
		{"NOT excludes", "nvidia NOT china", title("Nvidia China"), nil},
		{"NOT keeps others", "nvidia NOT china", title("Nvidia Japan"), []string{"nvidia"}},
		{"lower-case not is a word", "nvidia not", title("Nvidia is not here"), []string{"nvidia", "not"}},
		{"double negation counts for", "nvidia -(chips -china)", title("Nvidia chips China"), []string{"nvidia", "china"}},
		// grouping and precedence
		{"group", "nvidia (china OR beijing)", title("Nvidia to Beijing"), []string{"nvidia", "beijing"}},
		{"AND binds tighter than OR", "china OR nvidia chips", title("China"), []string{"china"}},
		{"AND binds tighter than OR, other side", "china OR nvidia chips", title("Nvidia"), nil},
		{"NOT binds tighter than AND", "NOT china nvidia", title("Nvidia"), []string{"nvidia"}},
		{"spec example", `nvidia AND (china OR beijing) AND export*`, title("Nvidia China export curbs"), []string{"nvidia", "china", "export*"}},
		// NEAR
		{"NEAR: 3 words between", "huang NEAR/3 china", title("Huang said on Tuesday China"), []string{"huang", "china"}},
		{"NEAR: 4 words between", "huang NEAR/3 china", title("Huang said on Tuesday that China"), nil},
		{"NEAR: either order", "huang NEAR/3 china", title("China welcomed Huang"), []string{"huang", "china"}},
		{"NEAR/0: adjacent", "huang NEAR/0 china", title("Huang China"), []string{"huang", "china"}},
		{"NEAR/0: one between", "huang NEAR/0 china", title("Huang in China"), nil},
		{"NEAR: same field only", "huang NEAR/3 china", story.Story{Title: "Huang", Summary: "China"}, nil},
		{"NEAR: phrases", `"jensen huang" NEAR/2 "new china"`, title("Jensen Huang visits the new China office"), []string{"jensen huang", "new china"}},
		{"NEAR: phrase gap counted from its end", `"jensen huang" NEAR/1 china`, title("Jensen Huang visits China"), []string{"jensen huang", "china"}},
		{"NEAR: prefix", "export* NEAR/2 china", title("Exports to China"), []string{"export*", "china"}},
		{"NEAR: a word with itself needs two", "china NEAR/3 china", title("China"), nil},
		{"NEAR: a word with itself", "china NEAR/3 china", title("China and China"), []string{"china"}},
		// fields
		{"title: in the title", "title:(h20 OR h200)", title("H20 chips"), []string{"h20"}},
		{"title: reported without the field, normalised", "title:H20 title:U.S.", title("H20 for the U.S."), []string{"h20", "u s"}},
		{"title: not in the summary", "title:(h20 OR h200)", story.Story{Title: "Chips", Summary: "H20"}, nil},
		{"summary:", "summary:nvidia", story.Story{Title: "Nvidia", Summary: "chips"}, nil},
		{"content:", "content:nvidia", story.Story{Title: "x", Content: "Nvidia"}, []string{"nvidia"}},
		{"source:", "source:reuters", story.Story{Title: "x", Source: "Reuters"}, []string{"reuters"}},
		{"source: not the title", "source:reuters", title("Reuters reports"), nil},
		{"author:", `author:"jane doe"`, story.Story{Title: "x", Author: "Jane Doe, John Roe"}, []string{"jane doe"}},
		{"category: each category", "category:tech", story.Story{Title: "x", Categories: []string{"World", "Tech"}}, []string{"tech"}},
		{"category: no phrase across categories", `category:"tech world"`, story.Story{Title: "x", Categories: []string{"Tech", "World"}}, nil},
		{"category: phrase within one", `category:"u.s. news"`, story.Story{Title: "x", Categories: []string{"U.S. News"}}, []string{"u s news"}},
		{"url: the url's words", "url:nvidia", story.Story{Title: "x", URL: "https://x.com/nvidia-h20"}, []string{"nvidia"}},
		{"url: a whole url", "url:https://x.com/a", story.Story{Title: "x", URL: "https://x.com/a?b"}, []string{"https x com a"}},
		{"empty fields", "title:nvidia OR source:nvidia", story.Story{}, nil},
		// site
		{"site: the host", "site:reuters.com", story.Story{URL: "https://reuters.com/x"}, []string{"site:reuters.com"}},
		{"site: a subdomain", "site:reuters.com", story.Story{URL: "https://www.Reuters.com/x"}, []string{"site:reuters.com"}},
		{"site: port and user", "site:reuters.com", story.Story{URL: "http://u@reuters.com:80/x"}, []string{"site:reuters.com"}},
		{"site: not a look-alike", "site:reuters.com", story.Story{URL: "https://notreuters.com/x"}, nil},
		{"site: not a longer host", "site:reuters.com", story.Story{URL: "https://reuters.com.evil.net/x"}, nil},
		{"site: not in the path", "site:reuters.com", story.Story{URL: "https://evil.net/reuters.com"}, nil},
		{"site: no url", "site:reuters.com", title("reuters.com"), nil},
		{"site: with a word", "site:reuters.com nvidia", story.Story{Title: "Nvidia", URL: "https://reuters.com/"}, []string{"site:reuters.com", "nvidia"}},
		{"site: reported lower-cased", "site:Reuters.COM", story.Story{URL: "https://reuters.com/x"}, []string{"site:reuters.com"}},
		// regex
		{"regex: case-insensitive", `/\bh[0-9]{2,3}\b/`, title("The H100 ships"), []string{`/\bh[0-9]{2,3}\b/`}},
		{"regex: reported lower-cased", `/NVIDIA/`, title("nvidia"), []string{"/nvidia/"}},
		{"regex: lower-cased for display only", `/\Bvidia/`, title("NVIDIA"), []string{`/\bvidia/`}},
		{"regex: display does not change matching", `/\Bvidia/`, title("vidia"), nil},
		{"regex: not a near miss", `/\bh[0-9]{2,3}\b/`, title("The H1000 ships"), nil},
		{"regex: raw text keeps accents", `/zürich/`, title("ZÜRICH"), []string{"/zürich/"}},
		{"regex: raw text, not words", `/zurich/`, title("Zürich"), nil},
		{"regex: in a field", `url:/\.pdf$/`, story.Story{Title: "x", URL: "https://x.com/a.PDF"}, []string{`/\.pdf$/`}},
		{"regex: bare skips source", `/reuters/`, story.Story{Title: "x", Source: "Reuters"}, nil},
		// words: the paragraph on normalisation
		{"CJK: the character sequence", "英伟达", title("英伟达发布新芯片"), []string{"英 伟 达"}},
		{"CJK: not a part of it", "英伟达", title("英伟发布"), nil},
		{"CJK: one character", "芯", title("英伟达发布新芯片"), []string{"芯"}},
		{"Japanese kana", "ソニー", title("ソニーグループ"), []string{"ソ ニ ー"}},
		{"U.S. is the phrase u s", "U.S.", title("U.S. sanctions"), []string{"u s"}},
		{"U.S. matches u s", "U.S.", title("the u-s border"), []string{"u s"}},
		{"U.S. does not match US", "U.S.", title("US sanctions"), nil},
		{"hyphen: export-control", "export-control", title("export control rules"), []string{"export control"}},
		{"hyphen: the same spelling", "export-control", title("Export-Control rules"), []string{"export control"}},
		{"hyphen: upper case in the query", "Export-Control", title("export-control rules"), []string{"export control"}},
		{"hyphen: same words as the phrase, one term", `export-control OR "export control"`, title("export control"), []string{"export control"}},
		{"hyphen: not run together", "export-control", title("exportcontrol rules"), nil},
		{"apostrophe in the query", "don't", title("Don’t panic"), []string{"don t"}},
		{"apostrophe word", "nvidia's", title("NVIDIA’s chip"), []string{"nvidia s"}},
		{"digits: whole word", "h20", title("H20 chips"), []string{"h20"}},
		{"digits: not a longer number", "h20", title("H200 chips"), nil},
		{"digits: decimal", "3.5", title("up 3.5%"), []string{"3 5"}},
		{"digits: year", "2024", title("In 2024, chips"), []string{"2024"}},
		{"full-width text", "nvidia", title("ＮＶＩＤＩＡ"), []string{"nvidia"}},
		{"distinct terms", "china OR China", title("China"), []string{"china"}},
		{"distinct after normalisation", "U.S. OR u-s OR \"U S\"", title("U.S."), []string{"u s"}},
		{"distinct across NEAR", "(U.S. NEAR/2 china) u.s.", title("U.S. and China"), []string{"u s", "china"}},
		{"terms in query order", "beijing OR china", title("China, Beijing"), []string{"beijing", "china"}},
	}
	e := newTestEngine()
	for _, tt := range tests {
		q, err := Parse(tt.query)
		if err != nil {
			t.Fatalf("%s: Parse(%q): %v", tt.name, tt.query, err)
		}
		e.Set(tt.name, q)
	}
	m := e.NewMatcher()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, _ := Parse(tt.query)
			terms, ok := q.Eval(&tt.story)
			if ok != (tt.terms != nil) || !slices.Equal(terms, tt.terms) {
				t.Errorf("%q on %+v: Eval = %q, %v; want %q", tt.query, tt.story, terms, ok, tt.terms)
			}
			name := tt.name
			var got []string
			found := false
			for _, mt := range m.Match(&tt.story) {
				if mt.Rule == name {
					got, found = mt.Terms, true
				}
			}
			if found != (tt.terms != nil) || !slices.Equal(got, tt.terms) {
				t.Errorf("%q on %+v: Engine = %q, %v; want %q", tt.query, tt.story, got, found, tt.terms)
			}
		})
	}
}

func TestMatchFields(t *testing.T) {
	tests := []struct {
		query  string
		story  story.Story
		fields []string
	}{
		{"nvidia", story.Story{Title: "Nvidia", Summary: "x", Content: "nvidia"}, []string{"title", "content"}},
		{"nvidia china", story.Story{Title: "Nvidia", Summary: "China"}, []string{"title", "summary"}},
		{"nvidia -china", story.Story{Title: "Nvidia", Source: "China"}, []string{"title"}},
		{"site:reuters.com source:reuters", story.Story{Source: "Reuters", URL: "https://reuters.com"}, []string{"source", "url"}},
		{"category:tech nvidia", story.Story{Summary: "nvidia", Categories: []string{"Tech"}}, []string{"summary", "category"}},
		{"nvidia OR chips", story.Story{Title: "Nvidia", Summary: "chips"}, []string{"title", "summary"}},
	}
	for _, tt := range tests {
		q, err := Parse(tt.query)
		if err != nil {
			t.Fatal(err)
		}
		e := newTestEngine()
		e.Set("r", q)
		got := e.NewMatcher().Match(&tt.story)
		if len(got) != 1 || !slices.Equal(got[0].Fields, tt.fields) {
			t.Errorf("%q: Match = %+v, want fields %q", tt.query, got, tt.fields)
		}
	}
}
