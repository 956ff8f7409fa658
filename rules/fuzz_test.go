package rules

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wirewatch/wirewatch/story"
)

var fuzzQueries = []string{
	`nvidia AND (china OR beijing) -"stock price"`, `title:(h20 OR h200)`, `huang NEAR/3 china`, `export*`,
	`site:reuters.com`, `/\bh[0-9]{2,3}\b/`, `英伟达`, `U.S. export-control`, `category:"u.s. news" OR url:https://x.com/a`,
	`NOT a b`, `a OR -b`, `((a))`, `titel:x`, `"unclosed`, `a NEAR/x b`, `--a`, `author:(jane -doe)`, `ex*`,
}

// FuzzParse checks that no query makes Parse panic or hang, that errors point
// into the query, and that an accepted query prints back to a canonical form
// that parses to itself.
func FuzzParse(f *testing.F) {
	for _, q := range fuzzQueries {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, query string) {
		q, err := Parse(query)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) error %T, want *Error", query, err)
			}
			if pe.Column < 1 || pe.Column > max(utf8.RuneCountInString(query), MaxQueryLen)+1 || pe.Reason == "" {
				t.Fatalf("Parse(%q) = %v: column out of range or no reason", query, err)
			}
			return
		}
		canon := q.String()
		again, err := Parse(canon)
		if err != nil {
			// Spelled-out operators and parentheses around AND inside OR
			// can take a query near the limits past them.
			var pe *Error
			if errors.As(err, &pe) && (strings.Contains(pe.Reason, "longer than") || strings.Contains(pe.Reason, "nested deeper")) {
				return
			}
			t.Fatalf("canonical form %q of %q does not parse: %v", canon, query, err)
		}
		if again.String() != canon {
			t.Fatalf("canonical form of %q is not stable: %q, then %q", query, canon, again.String())
		}
		if _, ok := q.Eval(&story.Story{}); ok {
			t.Fatalf("%q matches the empty story", query)
		}
		_ = q.Words()
	})
}

// FuzzMatch checks that the engine and the straightforward evaluator agree on
// any query and story, and that tokens are stable under tokenizing again.
func FuzzMatch(f *testing.F) {
	for _, q := range fuzzQueries {
		f.Add(q, "Nvidia H20: Huang says China export rules hit 英伟达", "Beijing; stock price", "https://www.reuters.com/x", "Tech")
	}
	f.Add("zurich", "Zürich’s Straße ﬁnance", "ＮＶＩＤＩＡ", "http://[::1]:80/", "U.S. News")
	others := []string{"china", `"export controls"`, "export*", "title:nvidia OR category:tech", "a NEAR/1 b"}
	f.Fuzz(func(t *testing.T, query, title, summary, url, category string) {
		for _, text := range []string{title, summary} {
			once := Normalize(text)
			if twice := Normalize(once); twice != once {
				t.Fatalf("Normalize(%q) = %q, but Normalize of that = %q", text, once, twice)
			}
		}
		q, err := Parse(query)
		if err != nil {
			return
		}
		e := newTestEngine()
		queries := map[string]*Query{}
		names := []string{}
		for i, src := range append(others, "") {
			p := q
			if src != "" {
				p, _ = Parse(src)
			}
			name := string(rune('a' + i))
			e.Set(name, p)
			queries[name] = p
			names = append(names, name)
		}
		s := story.Story{Title: title, Summary: summary, Content: summary + " " + title, URL: url, Source: category, Categories: []string{category, title}}
		got, want := e.NewMatcher().Match(&s), oracle(names, queries, &s)
		if !sameMatches(got, want) {
			t.Fatalf("query %q, story %+v:\n got  %+v\n want %+v", query, s, got, want)
		}
	})
}

// FuzzRegexLimits checks the bounds of issue 12 on any expression and text:
// an accepted /regex/ has a program within MaxRegexProgram, and a matcher
// with a spent budget neither panics nor matches a rule it could not decide.
func FuzzRegexLimits(f *testing.F) {
	for _, s := range []string{`[\p{L}\p{N}]{1000}x`, `(x+x+)+y`, `.{1000}zz`, `(a{100}){3}`, `[a-z]{190}`, `\bh[0-9]{2,3}\b`, `(?:a|b)*c`} {
		f.Add(s, "xxxxxxxxxxxxxxxxxxxxy aé 英伟达 "+strings.Repeat("ab", 50))
	}
	f.Fuzz(func(t *testing.T, expr, text string) {
		q, err := Parse("/" + expr + "/")
		if err != nil {
			return
		}
		for _, l := range q.leaves {
			if l.t.kind == kRegex {
				if n := regexProgramSize(l.t.text); n > MaxRegexProgram {
					t.Fatalf("/%s/ accepted with a program of %d", expr, n)
				}
			}
		}
		e := NewEngine()
		e.Set("r", q)
		e.SetRegexBudget(time.Nanosecond)
		m := e.NewMatcher()
		s := &story.Story{ID: "s", Title: text, Summary: text, Content: text}
		got := m.Match(s)
		if len(got) > 0 && len(m.OverBudget()) > 0 {
			t.Fatalf("/%s/ matched and was over budget at once", expr)
		}
		if c := capText(text, 7); len(c) > 7 || !strings.HasPrefix(text, c) || utf8.ValidString(text) && !utf8.ValidString(c) {
			t.Fatalf("capText(%q, 7) = %q", text, c)
		}
	})
}
