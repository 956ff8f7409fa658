package rules

import (
	"slices"
	"strings"
)

// Span is a half-open byte range [Start, End) of a text where a term occurs.
type Span struct{ Start, End int }

// Highlighter finds where matched terms occur in a text, so that alerts and
// the dashboard can show them. It reads texts with the tokenizer that
// matching uses, so every word a rule matched in a text is found there.
// It is immutable and safe to share.
type Highlighter struct{ patterns []pattern }

// pattern is a term as words to find one after another; with prefix set, the
// last word only has to start so.
type pattern struct {
	words  []string
	prefix bool
}

// NewHighlighter reads terms as matches report them (Match.Terms: "nvidia",
// "export controls", "export*", "u s", "英 伟 达"), and as queries write
// them ("U.S.", `"export controls"`, title:h20). Regular expressions and
// site: and url: terms are left out: a reported regular expression is lower
// case and may no longer mean what it did (\B is not \b), and a host is not
// shown as words.
func NewHighlighter(terms []string) *Highlighter {
	h := &Highlighter{}
	for _, t := range terms {
		t = strings.TrimSpace(t)
		if field, rest, ok := strings.Cut(t, ":"); ok {
			switch f := strings.ToLower(field); {
			case f == "site" || f == "url":
				continue
			case fieldIndex(f) >= 0:
				t = rest
			}
		}
		if t == "" || strings.HasPrefix(t, "/") {
			continue
		}
		words := tokens(strings.Trim(t, `"*`))
		if len(words) == 0 {
			continue
		}
		p := pattern{words: words, prefix: strings.HasSuffix(t, "*")}
		if !slices.ContainsFunc(h.patterns, p.equal) {
			h.patterns = append(h.patterns, p)
		}
	}
	return h
}

func (p pattern) equal(o pattern) bool { return p.prefix == o.prefix && slices.Equal(p.words, o.words) }

// Empty reports whether there is nothing to find.
func (h *Highlighter) Empty() bool { return len(h.patterns) == 0 }

// Spans returns the byte ranges of text where a term occurs as whole words,
// sorted, with overlapping or touching ranges merged. A range starts at a
// word's first character and ends after its last one (accents and invisible
// characters inside the words included); it always falls on rune boundaries.
func (h *Highlighter) Spans(text string) []Span {
	if len(h.patterns) == 0 {
		return nil
	}
	buf, toks := appendTokens(nil, nil, text)
	var spans []Span
	for i := range toks {
		for _, p := range h.patterns {
			if n := len(p.words); i+n <= len(toks) && p.matchAt(buf, toks[i:i+n]) {
				spans = append(spans, Span{int(toks[i].from), int(toks[i+n-1].to)})
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

// matchAt reports whether toks, tokens in buf, are the words of p.
func (p pattern) matchAt(buf []byte, toks []span) bool {
	for j, w := range p.words {
		got := buf[toks[j].off:toks[j].end]
		if j == len(p.words)-1 && p.prefix {
			if len(got) < len(w) || string(got[:len(w)]) != w {
				return false
			}
		} else if string(got) != w {
			return false
		}
	}
	return true
}
