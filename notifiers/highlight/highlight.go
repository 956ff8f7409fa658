// Package highlight finds where an alert's matched terms occur in a text, so
// that every notifier can show them in bold. Words are found the way the rule
// language finds them: case-folded, without accents, split at every character
// that is not a letter or a digit, each Chinese or Japanese ideograph or kana a
// word of its own.
package highlight

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Span is a half-open byte range [Start, End) of a text.
type Span struct{ Start, End int }

// Terms are compiled matched terms, ready to find in texts.
type Terms struct{ patterns []pattern }

// pattern is a term as words to find consecutively; with prefix set the last
// word only has to start so.
type pattern struct {
	words  []string
	prefix bool
}

// Compile reads terms as the rules engine reports them ("nvidia", "export
// controls", "export*", "title:h20"). Regular expressions and site:/url: terms
// are skipped: they name no words to show.
func Compile(terms []string) Terms {
	var out Terms
	for _, t := range terms {
		t = strings.TrimSpace(t)
		if field, rest, ok := strings.Cut(t, ":"); ok {
			switch strings.ToLower(field) {
			case "site", "url":
				continue
			case "title", "summary", "content", "source", "author", "category":
				t = rest
			}
		}
		if t == "" || strings.HasPrefix(t, "/") {
			continue
		}
		prefix := strings.HasSuffix(t, "*")
		words := tokenize(strings.Trim(t, `"*`))
		if len(words) == 0 {
			continue
		}
		p := pattern{prefix: prefix}
		for _, w := range words {
			p.words = append(p.words, w.word)
		}
		out.patterns = append(out.patterns, p)
	}
	return out
}

// Empty reports whether there is nothing to find.
func (t Terms) Empty() bool { return len(t.patterns) == 0 }

// Spans returns the byte ranges of s where a term occurs as whole words,
// sorted, with overlapping or touching ranges merged.
func (t Terms) Spans(s string) []Span {
	if len(t.patterns) == 0 {
		return nil
	}
	toks := tokenize(s)
	var spans []Span
	for i := range toks {
		for _, p := range t.patterns {
			if n := len(p.words); i+n <= len(toks) && p.match(toks[i:i+n]) {
				spans = append(spans, Span{toks[i].start, toks[i+n-1].end})
			}
		}
	}
	slices.SortFunc(spans, func(a, b Span) int { return a.Start - b.Start })
	var merged []Span
	for _, sp := range spans {
		if k := len(merged) - 1; k >= 0 && sp.Start <= merged[k].End {
			merged[k].End = max(merged[k].End, sp.End)
			continue
		}
		merged = append(merged, sp)
	}
	return merged
}

func (p pattern) match(toks []token) bool {
	for j, w := range p.words {
		got := toks[j].word
		if j == len(p.words)-1 && p.prefix {
			if !strings.HasPrefix(got, w) {
				return false
			}
		} else if got != w {
			return false
		}
	}
	return true
}

// token is one word of a text: its byte range and its folded form.
type token struct {
	start, end int
	word       string
}

// tokenize splits s into folded words with their byte ranges.
func tokenize(s string) []token {
	var toks []token
	start := -1
	flush := func(end int) {
		if start >= 0 {
			toks = append(toks, token{start, end, fold(s[start:end])})
			start = -1
		}
	}
	for i, r := range s {
		switch {
		case unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana):
			flush(i)
			toks = append(toks, token{i, i + utf8.RuneLen(r), fold(string(r))})
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if start < 0 {
				start = i
			}
		case start >= 0 && unicode.Is(unicode.Mn, r):
			// a combining accent belongs to the word it follows
		default:
			flush(i)
		}
	}
	flush(len(s))
	return toks
}

// fold case-folds s and strips its accents. Transformers keep state, so each
// call builds its own.
func fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	if out, _, err := transform.String(t, s); err == nil {
		s = out
	}
	return cases.Fold().String(s)
}
