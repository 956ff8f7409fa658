package rules

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The fields of a story that a query can name, in the order Match reports them.
const (
	fTitle = iota
	fSummary
	fContent
	fSource
	fAuthor
	fCategory
	fURL
	numFields
)

// fieldMask is a set of fields, one bit per field index.
type fieldMask uint8

// bareMask is where a term without a field scope looks.
const bareMask fieldMask = 1<<fTitle | 1<<fSummary | 1<<fContent

// fieldNames are the field names as queries write them and Match reports them.
var fieldNames = [numFields]string{"title", "summary", "content", "source", "author", "category", "url"}

// fieldsByMask holds, for every field set, its names in field order, so that
// reporting fields allocates nothing.
var fieldsByMask = func() (t [1 << numFields][]string) {
	for m := range t {
		var names []string
		for f := range numFields {
			if m&(1<<f) != 0 {
				names = append(names, fieldNames[f])
			}
		}
		t[m] = names
	}
	return t
}()

// span is one token: the bytes buf[off:end] of a tokenizer's output buffer,
// made from the bytes text[from:to] of the text tokenized. The text range
// starts at the rune of the token's first letter or digit and runs to the
// separator after it, so marks and invisible characters inside and after the
// word belong to it.
type span struct{ off, end, from, to uint32 }

// appendTokens tokenizes s the one way stories and queries are both tokenized:
// Unicode compatibility decomposition (NFKD), non-spacing marks (accents)
// removed, case folded, then split at every rune that is not a letter, a digit
// or a spacing mark. Each Han ideograph, hiragana and katakana is a token of its
// own. Invisible format characters (soft hyphen, zero-width joiners) are
// ignored rather than splitting a word; the zero-width space splits.
//
// Token bytes are appended to buf and their spans to spans; nothing else is
// allocated, so a caller that reuses its buffers tokenizes without garbage.
func appendTokens(buf []byte, spans []span, s string) ([]byte, []span) {
	// The token being built is buf[start:], made from s[from:].
	start, from := len(buf), 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
				buf = append(buf, c)
			case 'A' <= c && c <= 'Z':
				buf = append(buf, c+'a'-'A')
			default:
				if len(buf) > start {
					spans = append(spans, span{uint32(start), uint32(len(buf)), uint32(from), uint32(i - 1)})
					start = len(buf)
				}
				from = i
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			if len(buf) > start {
				spans = append(spans, span{uint32(start), uint32(len(buf)), uint32(from), uint32(i)})
				start = len(buf)
			}
			i++
			from = i
			continue
		}
		rn := runeAt{at: i, end: i + size, mark: len(buf)}
		d := norm.NFKD.PropertiesString(s[i : i+size]).Decomposition()
		i += size
		if d == nil || isKana(r) {
			buf, spans = rn.add(buf, spans, &start, &from, r)
		} else {
			for len(d) > 0 {
				dr, n := utf8.DecodeRune(d)
				d = d[n:]
				buf, spans = rn.add(buf, spans, &start, &from, dr)
			}
		}
		if len(buf) == start {
			from = i // no token has begun: the next begins after this rune
		}
	}
	if len(buf) > start {
		spans = append(spans, span{uint32(start), uint32(len(buf)), uint32(from), uint32(len(s))})
	}
	return buf, spans
}

// runeAt is a rune of the text being tokenized: its bytes text[at:end], and
// the length of the output buffer before it, to tell whether the token being
// built holds any of it.
type runeAt struct{ at, end, mark int }

// add adds one decomposed rune of rn to the token being built, buf[*start:]
// made from text[*from:]: it appends the rune's folded bytes, drops it, or
// ends the token (and, for an ideograph or kana, makes it a token of its own).
func (rn runeAt) add(buf []byte, spans []span, start, from *int, r rune) ([]byte, []span) {
	switch {
	case r < utf8.RuneSelf:
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
			return append(buf, byte(r)), spans
		case 'A' <= r && r <= 'Z':
			return append(buf, byte(r)+'a'-'A'), spans
		}
	case unicode.Is(unicode.Mn, r):
		return buf, spans // accents and other non-spacing marks vanish
	case r == 0x200B: // zero-width space: a separator
	case unicode.Is(unicode.Cf, r):
		return buf, spans // soft hyphen, joiners, BOM: invisible, ignored
	case isCJK(r):
		spans = rn.finish(buf, spans, start, from)
		buf = utf8.AppendRune(buf, r)
		spans = append(spans, span{uint32(*start), uint32(len(buf)), uint32(rn.at), uint32(rn.end)})
		*start = len(buf)
		return buf, spans
	case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mc, r):
		return foldRune(buf, r), spans
	}
	return buf, rn.finish(buf, spans, start, from)
}

// finish ends the token being built at rune rn, if it has begun. Its text runs
// to the end of rn when part of it came from rn (one rune can decompose into
// several words: ½ is 1, a fraction slash and 2), else to the start of rn; a
// token begun later within rn starts at rn.
func (rn runeAt) finish(buf []byte, spans []span, start, from *int) []span {
	if len(buf) == *start {
		return spans
	}
	to := rn.at
	if len(buf) > rn.mark {
		to = rn.end
	}
	spans = append(spans, span{uint32(*start), uint32(len(buf)), uint32(*from), uint32(to)})
	*start, *from = len(buf), rn.at
	return spans
}

// foldRune appends the case-folded form of a letter or digit.
func foldRune(buf []byte, r rune) []byte {
	switch r {
	case 'ß', 'ẞ':
		return append(buf, "ss"...)
	}
	// Upper then lower maps every case variant (final sigma, long s, title
	// case) to one lower-case form.
	return utf8.AppendRune(buf, unicode.ToLower(unicode.ToUpper(r)))
}

// isCJK reports whether r is a Chinese or Japanese ideograph or kana: one token
// each, since these scripts do not separate words with spaces.
func isCJK(r rune) bool {
	if r < 0x2E80 {
		return false
	}
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) ||
		unicode.Is(unicode.Katakana, r) || r == 0x30FC // ー, the prolonged sound mark
}

// isKana reports whether r is full-width hiragana or katakana, which keep their
// voicing marks: が and か are different words, not one word with an accent.
func isKana(r rune) bool {
	return 0x3040 <= r && r <= 0x30FF
}

// isCJKToken reports whether a token is a single CJK rune.
func isCJKToken(tok string) bool {
	r, n := utf8.DecodeRuneInString(tok)
	return n == len(tok) && isCJK(r)
}

// tokens returns the tokens of s as strings.
func tokens(s string) []string {
	var bufArr [64]byte
	var spanArr [8]span
	buf, spans := appendTokens(bufArr[:0], spanArr[:0], s)
	out := make([]string, len(spans))
	str := string(buf)
	for i, sp := range spans {
		out[i] = str[sp.off:sp.end]
	}
	return out
}

// Normalize returns the words of s as the rule language sees them, joined by
// single spaces: "Zürich's U.S. office" becomes "zurich s u s office", and
// "英伟达" becomes "英 伟 达". A store that indexes this text gets the same
// words as rules do, so the conditions of Query.Words select exactly the
// right candidates.
func Normalize(s string) string {
	return strings.Join(tokens(s), " ")
}

// stopWords are very common English words. They are never dropped from a
// query; the index just avoids counting on them when a rule has a rarer word
// that must appear too.
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a about after all also an and any are as at be been
		but by can could did do does for from had has have he her his how i if in into is it
		its just like may more most new no not now of on one only or our out over s says said
		she so some than that the their them then there these they this to up us was we were
		what when where which who will with would you your t year years first two`) {
		m[w] = true
	}
	return m
}()
