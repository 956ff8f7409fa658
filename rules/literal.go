package rules

import (
	"bytes"
	"regexp/syntax"
	"slices"
	"unicode"
	"unicode/utf8"
)

// Rules with no key that must appear (a lone regular expression, say) are
// checked on every story. Most such rules still need some literal text: /\bcovid-?19\b/
// cannot match a story without "covid". The literals found here let the
// matcher skip them with a substring search of the story's case-folded raw
// text, and only verify the rest.

// literalsOf returns lower-case ASCII strings, one of which appears in the
// story's folded raw text (see appendFolded) whenever n has the given truth
// value; ok false when no such set is known.
func literalsOf(n *node, positive bool) ([]string, bool) {
	switch n.op {
	case opTerm:
		if !positive || n.t.kind != kRegex {
			return nil, false
		}
		re, err := syntax.Parse("(?i)"+n.t.text, syntax.Perl)
		if err != nil {
			return nil, false
		}
		return regexLiterals(re.Simplify())
	case opNot:
		return literalsOf(n.kids[0], !positive)
	case opField:
		return literalsOf(n.kids[0], positive)
	}
	if (n.op == opOr) == positive {
		var all []string
		for _, k := range n.kids {
			l, ok := literalsOf(k, positive)
			if !ok {
				return nil, false
			}
			all = append(all, l...)
		}
		slices.Sort(all)
		return slices.Compact(all), true
	}
	var best []string
	for _, k := range n.kids {
		if l, ok := literalsOf(k, positive); ok && literalScore(l) > literalScore(best) {
			best = l
		}
	}
	return best, best != nil
}

// literalScore rates a set of alternatives by its shortest: longer is rarer.
func literalScore(alts []string) int {
	if alts == nil {
		return -1
	}
	s := 1 << 30
	for _, a := range alts {
		s = min(s, len(a))
	}
	return s
}

// regexLiterals returns strings one of which any match of re contains.
func regexLiterals(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		// The longest run of ASCII letters, digits and punctuation: with
		// case folding, each matches only its ASCII case variants and the
		// runes appendFolded maps to them.
		var best, run []byte
		for _, r := range re.Rune {
			if r < utf8.RuneSelf {
				run = append(run, byte(unicode.ToLower(r)))
				if len(run) > len(best) {
					best = slices.Clone(run)
				}
			} else {
				run = run[:0]
			}
		}
		if len(best) == 0 {
			return nil, false
		}
		return []string{string(best)}, true
	case syntax.OpCapture, syntax.OpPlus:
		return regexLiterals(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return regexLiterals(re.Sub[0])
		}
	case syntax.OpConcat:
		var best []string
		for _, sub := range re.Sub {
			if l, ok := regexLiterals(sub); ok && literalScore(l) > literalScore(best) {
				best = l
			}
		}
		return best, best != nil
	case syntax.OpAlternate:
		var all []string
		for _, sub := range re.Sub {
			l, ok := regexLiterals(sub)
			if !ok {
				return nil, false
			}
			all = append(all, l...)
		}
		return all, true
	}
	return nil, false
}

// foldPair is a non-ASCII rune that case-insensitive matching equates with an
// ASCII letter.
type foldPair struct {
	r     rune
	ascii byte
}

// foldSpecial lists them: the Kelvin sign with k, the long s with s.
var foldSpecial = func() []foldPair {
	var pairs []foldPair
	for c := 'a'; c <= 'z'; c++ {
		for r := unicode.SimpleFold(c); r != c; r = unicode.SimpleFold(r) {
			if r >= utf8.RuneSelf {
				pairs = append(pairs, foldPair{r, byte(c)})
			}
		}
	}
	return pairs
}()

// appendFolded appends s with ASCII letters lower-cased and foldSpecial
// applied; other bytes are kept.
func appendFolded(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		j := len(dst)
		for _, p := range foldSpecial {
			if p.r == r {
				dst = append(dst, p.ascii)
				break
			}
		}
		if len(dst) == j {
			dst = append(dst, s[i:i+n]...)
		}
		i += n
	}
	return dst
}

// containsAny reports whether text contains one of lits.
func containsAny(text []byte, lits [][]byte) bool {
	for _, l := range lits {
		if bytes.Contains(text, l) {
			return true
		}
	}
	return false
}
