package discord

import (
	"unicode/utf8"

	"github.com/wirewatch/wirewatch/rules"
)

// boldSpans returns the sorted, disjoint rune ranges of rs where a term matches.
func boldSpans(rs []rune, terms *rules.Highlighter) []span {
	if terms.Empty() {
		return nil
	}
	s := string(rs)
	byteSpans := terms.Spans(s)
	out := make([]span, 0, len(byteSpans))
	// Walk the text once, turning byte offsets into rune indexes.
	ri, bi := 0, 0
	for _, sp := range byteSpans {
		for bi < sp.Start {
			_, n := utf8.DecodeRuneInString(s[bi:])
			bi += n
			ri++
		}
		start := ri
		for bi < sp.End {
			_, n := utf8.DecodeRuneInString(s[bi:])
			bi += n
			ri++
		}
		out = append(out, span{start, ri})
	}
	return out
}

// highlighter renders rs escaped, with the matched terms in bold.
func highlighter(terms *rules.Highlighter) func([]rune) string {
	return func(rs []rune) string { return render(rs, boldSpans(rs, terms)) }
}
