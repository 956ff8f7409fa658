package rules

import (
	"errors"
	"strings"
	"testing"

	"github.com/wirewatch/wirewatch/story"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name   string
		query  string
		column int
		reason string // the whole reason, or a part of it
	}{
		{"empty", "", 1, "empty query"},
		{"blank", "   \t", 1, "empty query"},
		{"unclosed parenthesis", "nvidia (china OR beijing", 8, "unbalanced parenthesis opened at column 8"},
		{"stray closing parenthesis", "nvidia china)", 13, "')' at column 13 has no matching '('"},
		{"unknown field with a suggestion", "titel:nvidia", 1, "unknown field 'titel' — did you mean 'title'?"},
		{"unknown field, no suggestion", "nvidia breaking:news", 8, "unknown field 'breaking'"},
		{"unknown field in upper case suggests", "TITEL:x", 1, "did you mean 'title'?"},
		{"prefix too short", "e*", 1, "prefix 'e*' is too short"},
		{"prefix too short after splitting", "u.s*", 1, "too short"},
		{"lone star", "nvidia *", 8, "'*' must follow at least 2"},
		{"star inside a word", "ex*port", 1, "'*' may only end a word"},
		{"invalid regex", "nvidia /h[0-9/", 8, "invalid regular expression: missing closing ]"},
		{"empty regex", "//", 1, "empty regular expression"},
		{"unclosed regex", "nvidia /h20", 8, "unclosed regular expression"},
		{"unclosed quote", `nvidia "export controls`, 8, "unclosed quote opened at column 8"},
		{"empty phrase", `nvidia ""`, 8, "empty phrase"},
		{"no letters", "nvidia ...", 8, "'...' has no letters or digits"},
		{"lone negation", "-china", 1, "this query would match every story: add a term that must appear"},
		{"NOT alone", "NOT china", 1, "would match every story"},
		{"OR with a negation", "nvidia OR -china", 11, "would match every story"},
		{"negated group", "-(a b)", 1, "would match every story"},
		{"regex matching empty text", "/x*/", 1, "would match every story"},
		{"too long", strings.Repeat("a ", 501), 1001, "longer than 1000 characters"},
		{"too many terms", strings.Repeat("w ", 65), 129, "at most 64"},
		{"NEAR counts two terms", strings.Repeat("w ", 63) + "a NEAR/2 b", 136, "at most 64"},
		{"nested too deep", strings.Repeat("(", 17) + "a" + strings.Repeat(")", 17), 17, "nested deeper than 16"},
		{"malformed NEAR", "huang NEAR/x china", 7, "malformed NEAR"},
		{"NEAR without distance", "huang NEAR china", 7, "malformed NEAR"},
		{"NEAR too far", "huang NEAR/101 china", 7, "at most NEAR/100"},
		{"NEAR of a group", "(a OR b) NEAR/3 c", 10, "NEAR joins two words or phrases"},
		{"NEAR chain", "a NEAR/3 b NEAR/3 c", 12, "exactly two"},
		{"NEAR with a scoped side", "title:a NEAR/3 b", 9, "title:(a NEAR/3 b)"},
		{"NEAR with nothing after", "a NEAR/3", 3, "needs a word or phrase after it"},
		{"AND with nothing after", "nvidia AND", 8, "'AND' at column 8 needs a term after it"},
		{"AND OR", "nvidia AND OR china", 8, "found 'OR'"},
		{"leading OR", "OR nvidia", 1, "'OR' at column 1 needs a term before it"},
		{"OR at the end", "nvidia OR", 8, "needs a term after it"},
		{"NOT at the end", "nvidia NOT", 8, "'NOT' at column 8 needs a term after it"},
		{"dash then space", "nvidia - china", 8, "'-' must be followed directly"},
		{"empty parentheses", "nvidia ()", 8, "empty parentheses"},
		{"field with nothing after", "title: nvidia", 1, "'title:' needs a term right after it"},
		{"field at the end", "nvidia title:", 8, "needs a term"},
		{"negation inside a field", "title:-nvidia", 7, "put '-' before the field"},
		{"two fields", "title:(nvidia summary:china)", 15, "only one field"},
		{"site inside a field", "title:(site:reuters.com)", 8, "site: cannot be inside"},
		{"site with a URL", "site:https://reuters.com/", 6, "site: takes a host name"},
		{"site with a phrase", `site:"reuters.com"`, 1, "site: takes a host name"},
		{"columns count characters", "Zürich (a", 8, "unbalanced parenthesis opened at column 8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := Parse(tt.query)
			if err == nil {
				t.Fatalf("Parse(%q) = %q, want an error", tt.query, q)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) error %T, want *Error", tt.query, err)
			}
			if pe.Column != tt.column || !strings.Contains(pe.Reason, tt.reason) {
				t.Errorf("Parse(%q) = column %d: %q, want column %d: %q", tt.query, pe.Column, pe.Reason, tt.column, tt.reason)
			}
			if want := "column "; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Error() = %q, want it to start with %q", err.Error(), want)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	for _, q := range []string{
		"nvidia",
		strings.Repeat("w ", 64),
		strings.Repeat("(", 16) + "a" + strings.Repeat(")", 16),
		strings.Repeat("a", 1000),
		"nvidia and china or beijing not", // lower case: words
		"NOT china nvidia",                // NOT binds to china only
		"nvidia -/^$/",
		"10:30",             // not a field: digits
		"url:https://x.com", // after a field, ':' is ordinary
		"site:REUTERS.com",
		"(site:reuters.com OR site:ft.com) nvidia",
		"a NEAR/0 b",
		`"export controls" NEAR/100 china*`,
		"title:(a NEAR/2 b)",
		"--nvidia",
		"英伟达*",
	} {
		if _, err := Parse(q); err != nil {
			t.Errorf("Parse(%q): %v", q, err)
		}
	}
}

func TestCanonicalForm(t *testing.T) {
	tests := []struct{ query, want string }{
		{"nvidia china", "nvidia AND china"},
		{`nvidia AND (china OR beijing) -"Stock  Price"`, `nvidia AND (china OR beijing) AND NOT "stock price"`},
		{"a b OR c", "(a AND b) OR c"},
		{"a OR (b OR c)", "a OR b OR c"},
		{"a (b (c d))", "a AND b AND c AND d"},
		{"NOT NOT a", "a"},
		{"--a", "a"},
		{"a -(b OR c)", "a AND NOT (b OR c)"},
		{"TITLE:(H20 OR H200)", "title:(h20 OR h200)"},
		{"title:Nvidia", "title:nvidia"},
		{"title:(nvidia)", "title:nvidia"},
		{"title:(a NEAR/3 b)", "title:(a NEAR/3 b)"},
		{"title:(NOT a) b", "title:(NOT a) AND b"},
		{"title:(a title:b)", "title:(a AND b)"},
		{"Huang NEAR/3 \"New  China\"", `huang NEAR/3 "new china"`},
		{"Export*", "export*"},
		{"U.S.", "u.s."},
		{"site:WWW.Reuters.com.", "site:www.reuters.com"},
		{`/\bH[0-9]+\b/`, `/\bH[0-9]+\b/`},
		{"url:https://x.com/A", "url:https://x.com/a"},
		{"title:AND x", "title:and AND x"},
		{"nvidia and china", "nvidia AND and AND china"},
	}
	for _, tt := range tests {
		q, err := Parse(tt.query)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.query, err)
			continue
		}
		got := q.String()
		if got != tt.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.query, got, tt.want)
		}
		again, err := Parse(got)
		if err != nil {
			t.Errorf("canonical form %q does not parse: %v", got, err)
			continue
		}
		if again.String() != got {
			t.Errorf("canonical form is not stable: %q became %q", got, again.String())
		}
	}
}

// TestWords pins the word condition of queries, written as an FTS5-like
// expression for reading.
func TestWords(t *testing.T) {
	tests := []struct{ query, want string }{
		{"nvidia", `"nvidia"`},
		{`nvidia AND (china OR beijing) -"stock price"`, `"nvidia" AND ("china" OR "beijing")`},
		{"export*", `"export" *`},
		{"U.S. sanctions", `"u s" AND "sanctions"`},
		{"Zürich", `"zurich"`},
		{"huang NEAR/3 china", `"huang" AND "china"`},
		{"title:h20 OR summary:h200", `"h20" OR "h200"`},
		{"nvidia source:reuters", `"nvidia"`},
		{"source:reuters", ""},
		{"nvidia OR source:reuters", ""},
		{"英伟达", ""},
		{"/h[0-9]+/", ""},
		{"site:reuters.com", ""},
		{"site:reuters.com nvidia", `"nvidia"`},
		{"a b OR c", `("a" AND "b") OR "c"`},
		{"(a OR b) (c OR d)", `("a" OR "b") AND ("c" OR "d")`},
		{"nvidia -(china -beijing)", `"nvidia"`},
	}
	for _, tt := range tests {
		q, err := Parse(tt.query)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.query, err)
			continue
		}
		if got := renderWords(q.Words()); got != tt.want {
			t.Errorf("Parse(%q).Words() = %q, want %q", tt.query, got, tt.want)
		}
	}
}

// renderWords writes a word condition as "a" AND ("b" OR "c *").
func renderWords(f *story.WordFilter) string {
	if f == nil {
		return ""
	}
	switch {
	case f.Phrase != nil:
		s := `"` + strings.Join(f.Phrase, " ") + `"`
		if f.Prefix {
			s += " *"
		}
		return s
	case f.All != nil:
		return joinWords(f.All, " AND ")
	}
	return joinWords(f.Any, " OR ")
}

func joinWords(parts []story.WordFilter, op string) string {
	out := make([]string, len(parts))
	for i := range parts {
		out[i] = renderWords(&parts[i])
		if parts[i].Phrase == nil {
			out[i] = "(" + out[i] + ")"
		}
	}
	return strings.Join(out, op)
}

func TestRegexLiterals(t *testing.T) {
	tests := []struct {
		query string
		want  string // alternatives joined by "|"; "" for none
	}{
		{`/\bcovid-?19\b/`, "covid"},
		{`/\$[0-9]+ (million|billion)/`, "million|billion"},
		{`/^breaking\b/`, "breaking"},
		{`/Zürich/`, "rich"},
		{`/h[0-9]+/`, "h"},
		{`/(alpha|beta)+/`, "alpha|beta"},
		{`/a*/ /bc/`, "bc"},
		{`/x?/ nvidia OR /[0-9]+/`, ""},
		{`/abc/ OR /defg/`, "abc|defg"},
		{`/abc/ -/de/`, "abc"},
		{`/a.c/`, "a"},
	}
	for _, tt := range tests {
		q, err := Parse(tt.query)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.query, err)
			continue
		}
		lits, _ := literalsOf(q.root, true)
		if got := strings.Join(lits, "|"); got != tt.want {
			t.Errorf("literals of %q = %q, want %q", tt.query, got, tt.want)
		}
	}
	if got := string(appendFolded(nil, "COVID \u212aelvin \u017fun Über")); got != "covid kelvin sun Über" {
		t.Errorf("appendFolded = %q", got)
	}
}
