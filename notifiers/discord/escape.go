package discord

import (
	"strings"
	"unicode"

	"github.com/wirewatch/wirewatch/notifiers"
)

// Limits Discord enforces on a message; discordgo checks none of them. Lengths
// are counted in UTF-16 code units, as Discord's clients count them, which is
// never less than the number of characters.
const (
	MaxContent     = 2000 // message content
	MaxEmbeds      = 10   // embeds in one message
	MaxTitle       = 256  // embed title
	MaxDescription = 4096 // embed description
	MaxFields      = 25   // fields in one embed
	MaxFieldName   = 256  // field name
	MaxFieldValue  = 1024 // field value
	MaxFooter      = 2048 // footer text
	MaxAuthor      = 256  // author name
	MaxEmbedsTotal = 6000 // titles, descriptions, field names and values, footers and authors of all embeds together
)

// ellipsis marks text that was cut.
const ellipsis = '…'

// zwsp is inserted after "@" in "@everyone" and "@here" so the text cannot
// mention anyone even where allowed_mentions would let it.
const zwsp = '\u200b'

// Len is the length of s as Discord measures it against its limits: the
// kit's notifiers.UTF16.
func Len(s string) int { return notifiers.UTF16(s) }

// Escape returns untrusted text as Discord markdown that shows the text as
// written: markdown characters are backslash-escaped, "@everyone" and "@here"
// are broken with a zero-width space, and the "<" of mention, channel, role,
// emoji and timestamp tags is escaped. It keeps line breaks and drops other
// control characters.
func Escape(s string) string {
	return render([]rune(s), nil)
}

// Escaped escapes s and cuts it to at most max units (see Len), ending in "…"
// when it was cut. It cuts the text before escaping, so an escape is never split.
func Escaped(s string, max int) string {
	return fit([]rune(s), max, func(rs []rune) string { return render(rs, nil) })
}

// span is a half-open range of rune indexes to render in bold.
type span struct{ start, end int }

// render escapes rs, wrapping the runes of each span (sorted, disjoint) in "**".
func render(rs []rune, bold []span) string {
	var b strings.Builder
	b.Grow(len(rs) + len(rs)/8)
	lineStart := true   // only spaces since the start of the line
	lineDigits := false // inside a run of digits that opened the line
	for i := 0; i < len(rs); i++ {
		if len(bold) > 0 && bold[0].start == i {
			b.WriteString("**")
		}
		r := rs[i]
		switch {
		case r == '\r':
			if i+1 < len(rs) && rs[i+1] == '\n' {
				break
			}
			r = '\n'
			fallthrough
		case r == '\n':
			b.WriteRune('\n')
			lineStart, lineDigits = true, false
		case r == '\t' || r == ' ':
			b.WriteRune(r)
			lineDigits = false
		case unicode.IsControl(r) || isBidiControl(r):
			// dropped: control characters never belong in a message
		default:
			writeEscaped(&b, rs, i, lineStart, lineDigits)
			lineDigits = unicode.IsDigit(r) && (lineStart || lineDigits)
			lineStart = false
		}
		if len(bold) > 0 && bold[0].end == i+1 {
			b.WriteString("**")
			bold = bold[1:]
		}
	}
	return b.String()
}

// writeEscaped writes rs[i] with whatever escaping it needs in its place.
func writeEscaped(b *strings.Builder, rs []rune, i int, lineStart, lineDigits bool) {
	r := rs[i]
	switch r {
	case '\\', '*', '_', '~', '|', '`', '>', '#', '[', ']', '<':
		b.WriteByte('\\')
		b.WriteRune(r)
	case '(':
		// "](" is where a masked link's target starts; the "]" is escaped
		// already, and escaping this too keeps the pair inert on its own.
		if i > 0 && rs[i-1] == ']' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	case '-', '+':
		// list items and "-# " subtext at the start of a line
		if lineStart {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	case '.':
		// "1. " numbered list at the start of a line
		if lineDigits {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	case '@':
		b.WriteRune(r)
		if massMention(rs[i+1:]) {
			b.WriteRune(zwsp)
		}
	default:
		b.WriteRune(r)
	}
}

// massMention reports whether rest starts with "everyone" or "here", in any case.
func massMention(rest []rune) bool {
	for _, w := range []string{"everyone", "here"} {
		if len(rest) >= len(w) && strings.EqualFold(string(rest[:len(w)]), w) {
			return true
		}
	}
	return false
}

// isBidiControl reports the explicit direction marks that can make text read
// differently from what it says.
func isBidiControl(r rune) bool {
	return (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069')
}

// plain returns untrusted text for places that show no markdown (footer and
// author): control characters dropped, line breaks made spaces, mass mentions
// broken.
func plain(s string) string {
	rs := []rune(s)
	var b strings.Builder
	for i, r := range rs {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case unicode.IsControl(r) || isBidiControl(r):
		case r == '@' && massMention(rs[i+1:]):
			b.WriteRune(r)
			b.WriteRune(zwsp)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// plainCut is plain cut to at most max units.
func plainCut(s string, max int) string {
	return fit([]rune(s), max, func(rs []rune) string { return plain(string(rs)) })
}

// fit renders rs, or, when that is longer than max units, the longest prefix
// of rs that renders within max with "…" appended, preferring to cut at a
// space. It cuts the source, never the rendering, so escapes and bold markers
// stay whole.
func fit(rs []rune, max int, renderer func([]rune) string) string {
	if max <= 0 {
		return ""
	}
	if out := renderer(rs); Len(out) <= max {
		return out
	}
	cut := func(k int) string {
		head := trimCut(rs[:k])
		return renderer(append(head[:len(head):len(head)], ellipsis))
	}
	fits := func(k int) bool { return Len(cut(k)) <= max }
	// lo always fits (an empty prefix renders as "…", one unit); hi never does.
	lo, hi := 0, len(rs)
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if fits(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	// Prefer to cut where a word ends, if that is not far back and still fits.
	const wordSlack = 40
	for k := lo; k > 0 && lo-k < wordSlack; k-- {
		if unicode.IsSpace(rs[k]) && fits(k) {
			return cut(k)
		}
	}
	return cut(lo)
}

// trimCut drops trailing spaces and joining punctuation before an ellipsis.
func trimCut(rs []rune) []rune {
	for len(rs) > 0 {
		switch r := rs[len(rs)-1]; {
		case unicode.IsSpace(r), r == ',', r == ';', r == ':', r == '-', r == '\\':
			rs = rs[:len(rs)-1]
		default:
			return rs
		}
	}
	return rs
}
