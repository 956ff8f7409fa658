package slack

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/wirewatch/wirewatch/rules"
)

// emphasize escapes plain text s for mrkdwn and bolds the terms in it. Bold
// markers next to anything but a space get a zero-width space beside them, as
// Slack only reads * as bold at a word's edge. A match that would hold a
// marker character or a line break is left plain rather than break the markup.
func emphasize(s string, terms *rules.Highlighter) string {
	var b strings.Builder
	last := 0
	for _, sp := range terms.Spans(s) {
		m := s[sp.Start:sp.End]
		if strings.ContainsAny(m, "*\n") {
			continue
		}
		b.WriteString(Escape(s[last:sp.Start]))
		if r, _ := utf8.DecodeLastRuneInString(s[:sp.Start]); sp.Start > 0 && !unicode.IsSpace(r) {
			b.WriteString(zwsp)
		}
		b.WriteString("*" + Escape(m) + "*")
		if r, _ := utf8.DecodeRuneInString(s[sp.End:]); sp.End < len(s) && !unicode.IsSpace(r) {
			b.WriteString(zwsp)
		}
		last = sp.End
	}
	b.WriteString(Escape(s[last:]))
	return b.String()
}
