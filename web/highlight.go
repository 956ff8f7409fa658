package web

import "github.com/wirewatch/wirewatch/rules"

// segment is a piece of a text, marked when a matched term is in it. The
// template writes each piece escaped, inside <mark> when marked: the text
// is never trusted as HTML.
type segment struct {
	Text string
	Mark bool
}

// highlightText splits text at the places where terms occur, as the
// notifiers find them for bold (rules.Highlighter).
func highlightText(terms []string, text string) []segment {
	spans := rules.NewHighlighter(terms).Spans(text)
	if len(spans) == 0 {
		return []segment{{Text: text}}
	}
	var out []segment
	at := 0
	for _, sp := range spans {
		if sp.Start < at || sp.End > len(text) || sp.Start >= sp.End {
			continue
		}
		if sp.Start > at {
			out = append(out, segment{Text: text[at:sp.Start]})
		}
		out = append(out, segment{Text: text[sp.Start:sp.End], Mark: true})
		at = sp.End
	}
	if at < len(text) {
		out = append(out, segment{Text: text[at:]})
	}
	return out
}
