package cluster

import (
	"cmp"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/wirewatch/wirewatch/rules"
)

// Kind says what a term of a story's Facts is.
type Kind uint8

// Kinds of terms. A name or a number says more about which event a story
// tells than a word does, so Weigh gives them more weight.
const (
	// Word is any other content word, lightly stemmed ("layoffs", "layoff").
	Word Kind = iota
	// Name is a word written with a capital inside a sentence: a person, a
	// company, a place ("Wichita", "Tarrant").
	Name
	// Number is an amount, count, score, percentage or year, by its value:
	// "$1.2bn", "1.2 billion" and "1,200 million" are one term, as are
	// "nine" and "9".
	Number
)

// Marks added to a Facts' kinds: a term of the title; a name seen only as
// the second or later word of a run of names ("Tutu" in "Desmond Tutu"),
// which does not count again as a distinctive term of its own; and the two
// sides of an amount given roughly. A hedged number ("nearly $49 million",
// "some 200mm") is filed as its rough value, and an exact one ("$48.6
// million", "198 mm") as its value rounded to one and to two significant
// figures too: a hedged number meets an exact one it rounds, while two
// exact numbers meet only by their exact values.
const (
	inTitle Kind = 4
	tail    Kind = 8
	rounded Kind = 16
	hedged  Kind = 32
)

// base returns the kind without its marks.
func (k Kind) base() Kind { return k &^ (inTitle | tail | rounded | hedged) }

// rough reports whether a term is a number's rough value.
func (k Kind) rough() bool { return k&(rounded|hedged) != 0 }

// meets reports whether two terms with one hash are one fact: not when both
// are exact numbers' roundings.
func meets(a, b Kind) bool { return a&b&rounded == 0 }

// Boosts of the kinds over a term's rarity: a name weighs its rarity, a
// number twice that (an amount or a count names one event better than
// anything), a word a tenth of it. Words are many and paraphrases change
// them; names and numbers are few and every outlet keeps them. Tuned on
// testdata/events.jsonl (docs/PERFORMANCE.md).
const (
	nameBoost   = 1.0
	numberBoost = 2.0
	wordBoost   = 0.1
)

// MaxTerms bounds the terms kept of one story: the first ones read (a
// sentence-case title's, the summary's, then a Title Case title's, whose
// kinds wait for the summary).
const MaxTerms = 64

// TermKeys is the number of a story's most telling terms (its rarest names
// and numbers, the headline's first) that are also its candidate keys
// (Facts.Keys): a rewrite in other words shares few word pairs with the
// original but most of its names. On the hand-labelled sets four find 84 %
// of the pairs of paraphrases; eight find more but triple the candidates
// to judge, and leave the clustering on the same precision-recall curve
// (docs/PERFORMANCE.md).
const TermKeys = 4

// termKeyTag is the top byte of a term key, apart from the MinHash keys
// (1 to NumKeys) and the headline key (0).
const termKeyTag = 0x40

// weightScale is the fixed-point scale of a stored weight.
const weightScale = 1000

// Facts are the terms of a story's title and summary that can tell one event
// from another — names, numbers and content words, each by a 32-bit hash —
// with the weight Weigh gave each: its rarity among stored stories (inverse
// document frequency) times its kind's boost. Texts, kept only on the Facts
// that Extract returns, are the terms as the story wrote them, to explain a
// decision.
type Facts struct {
	terms   []uint32 // distinct term hashes, sorted
	kinds   []Kind
	texts   []string
	weights []uint16 // weight × weightScale, once weighed
	gist    []int8   // what its words mean (gistOf), once weighed
	norm    uint32   // sum of weights
	sums    termSums // of the weights, by where and what the terms are
}

// termSums are sums of a story's weights that the same-event model reads
// (pairFeatures), kept so that a pair does not add them up again. An exact
// number's roundings count in none.
type termSums struct {
	title      uint32 // the headline's terms
	titleNames uint32 // the headline's names and numbers
	names      uint32 // names and numbers anywhere
}

// sum adds up the weights' sums.
func (f *Facts) sum() {
	f.norm, f.sums = 0, termSums{}
	for i, k := range f.kinds {
		if k&rounded != 0 {
			continue
		}
		w := uint32(f.weights[i])
		f.norm += w
		if k&inTitle != 0 {
			f.sums.title += w
			if k.base() != Word {
				f.sums.titleNames += w
			}
		}
		if k.base() != Word {
			f.sums.names += w
		}
	}
}

// Len returns the number of distinct terms.
func (f Facts) Len() int { return len(f.terms) }

// Terms returns the distinct term hashes, sorted: what a store counts the
// stories of (document frequencies) for Weigh.
func (f Facts) Terms() []uint32 { return f.terms }

// Weighed reports whether the facts have weights: from Weigh, or read back
// from bytes.
func (f Facts) Weighed() bool { return f.weights != nil || len(f.terms) == 0 }

// Weigh sets the weight of every term from the number of stored stories n and
// df, the number of them that have a term: ln((n+N0+1)/(df+df0+1)) times the
// term's boost, where N0 and df0 are the counts of a prior corpus shipped
// with the package (so that a new store does not take every word for rare).
func (f *Facts) Weigh(n int64, df func(term uint32) int64) {
	f.weights = make([]uint16, len(f.terms))
	for i, t := range f.terms {
		w := idf(n, df(t), t)
		switch f.kinds[i].base() {
		case Name:
			w *= nameBoost
		case Number:
			w *= numberBoost
		default:
			w *= wordBoost
		}
		f.weights[i] = uint16(min(math.Round(w*weightScale), math.MaxUint16))
	}
	f.sum()
	f.gist = theVectors.gistOf(f)
}

// idf is the inverse document frequency of a term among n stored stories of
// which df have it, with the prior corpus counted in.
func idf(n, df int64, term uint32) float64 {
	n0, d0 := priorCounts(term)
	return max(0, math.Log(float64(max(n, 0)+n0+1)/float64(max(df, 0)+d0+1)))
}

// Keys returns the keys under which a store files the facts, and which find
// a story's candidates: its TermKeys most telling terms (on a tie the
// smaller hash), tagged apart from the MinHash keys. Unweighed facts have
// none. A term tells by its weight, but a number no more than a name of the
// same rarity (outlets write amounts in other units and currencies, and
// keep the names), and a headline's term half as much again as the
// summary's (every outlet's headline names the event): on the hand-labelled
// sets this finds 84 % of the pairs of paraphrases instead of 78 %, for 2 %
// more candidates (docs/PERFORMANCE.md).
func (f Facts) Keys() []uint64 {
	if f.weights == nil || len(f.terms) == 0 {
		return nil
	}
	idx := make([]int, 0, len(f.terms))
	for i, k := range f.kinds {
		if f.weights[i] > 0 && !k.rough() {
			idx = append(idx, i)
		}
	}
	tells := func(i int) float64 {
		w := float64(f.weights[i])
		if f.kinds[i].base() == Number {
			w /= numberBoost
		}
		if f.kinds[i]&inTitle != 0 {
			w *= 1.5
		}
		return w
	}
	slices.SortFunc(idx, func(a, b int) int {
		if c := cmp.Compare(tells(b), tells(a)); c != 0 {
			return c
		}
		return cmpUint32(f.terms[a], f.terms[b])
	})
	out := make([]uint64, 0, TermKeys)
	for _, i := range idx[:min(len(idx), TermKeys)] {
		out = append(out, uint64(termKeyTag)<<56|uint64(f.terms[i]))
	}
	return out
}

func cmpUint32(a, b uint32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// strongWeight is the weight (scaled) from which a shared term counts as a
// distinctive one: a name that about one stored story in 150 has, or a
// number in one in 12. Words never reach it.
const strongWeight = 5 * weightScale

// rareWordWeight is the weight (scaled) from which a shared word counts as
// a distinctive term too: a word that about one stored story in 1,100 has
// ("fourplex", "stabbing" among a week of other news) names what happened
// as a name names who. Cross-validation gave a point more recall at equal
// precision than names and numbers alone, for 6 % more time a story; 0.6
// moved along the curve (docs/PERFORMANCE.md).
const rareWordWeight = 0.7 * weightScale

// distinctive reports whether a term of kind k and weight w (scaled) tells
// an event apart: a name or number of strongWeight, or a rare word.
func distinctive(k Kind, w float64) bool {
	return w >= strongWeight || k.base() == Word && w >= rareWordWeight
}

// Shared returns the texts of the terms of a that b has too, heaviest first,
// at most limit of them: the names and numbers that make two stories one
// event. a must come from Extract (and be weighed) for texts to be there.
func Shared(a, b *Facts, limit int) []string {
	type hit struct {
		w    uint16
		text string
	}
	var hits []hit
	i, j := 0, 0
	for i < len(a.terms) && j < len(b.terms) {
		switch {
		case a.terms[i] < b.terms[j]:
			i++
		case a.terms[i] > b.terms[j]:
			j++
		default:
			if i < len(a.texts) && a.kinds[i].base() != Word && meets(a.kinds[i], b.kinds[j]) {
				w := uint16(0)
				if i < len(a.weights) {
					w = a.weights[i]
				}
				hits = append(hits, hit{w, a.texts[i]})
			}
			i++
			j++
		}
	}
	slices.SortStableFunc(hits, func(x, y hit) int { return int(y.w) - int(x.w) })
	out := make([]string, 0, min(len(hits), limit))
	for _, h := range hits[:min(len(hits), limit)] {
		out = append(out, h.text)
	}
	return out
}

// FactsSize returns the length in bytes of marshalled facts of n terms.
func FactsSize(n int) int { return 2 + 7*n + gistSize }

// MarshalBinary encodes the terms, their weights and kinds (not their
// texts), and their gist: the count as a little-endian uint16, then each
// term as a little-endian uint32, its weight as a little-endian uint16 and
// its kind in a byte (4 added for a term of the title), then the gist's
// gistSize signed bytes. Unweighed terms weigh 0, and their gist is zeros.
func (f *Facts) MarshalBinary() ([]byte, error) {
	b := make([]byte, FactsSize(len(f.terms)))
	binary.LittleEndian.PutUint16(b, uint16(len(f.terms)))
	for i, t := range f.terms {
		binary.LittleEndian.PutUint32(b[2+7*i:], t)
		if i < len(f.weights) {
			binary.LittleEndian.PutUint16(b[6+7*i:], f.weights[i])
		}
		b[8+7*i] = byte(f.kinds[i])
	}
	for i, x := range f.gist {
		b[2+7*len(f.terms)+i] = byte(x)
	}
	return b, nil
}

// ErrFacts is returned by UnmarshalBinary for bytes that are not marshalled
// facts.
var ErrFacts = errors.New("facts: malformed")

// UnmarshalBinary decodes what MarshalBinary encoded: terms, weights, kinds
// and gist, without texts. Facts marshalled before they had a gist (the
// same bytes without it) read too, their gist worked out again.
func (f *Facts) UnmarshalBinary(b []byte) error {
	if len(b) < 2 {
		return ErrFacts
	}
	n := int(binary.LittleEndian.Uint16(b))
	withGist := len(b) == FactsSize(n)
	if !withGist && len(b) != FactsSize(n)-gistSize || n > MaxTerms {
		return ErrFacts
	}
	*f = Facts{terms: make([]uint32, n), kinds: make([]Kind, n), weights: make([]uint16, n)}
	for i := range n {
		f.terms[i] = binary.LittleEndian.Uint32(b[2+7*i:])
		f.weights[i] = binary.LittleEndian.Uint16(b[6+7*i:])
		f.kinds[i] = Kind(b[8+7*i])
		if i > 0 && f.terms[i] <= f.terms[i-1] || f.kinds[i].base() > Number {
			return ErrFacts
		}
	}
	f.sum()
	if !withGist {
		f.gist = theVectors.gistOf(f)
		return nil
	}
	f.gist = make([]int8, gistSize)
	for i, c := range b[2+7*n:] {
		f.gist[i] = int8(c)
	}
	return nil
}

// Extract returns the facts of a story's title and summary, unweighed: the
// distinct names, numbers and content words, at most MaxTerms of them.
//
// A word is a name when it is written with a capital letter and is not the
// first word of a sentence, in the summary or in a title written in sentence
// case (a Title Case headline capitalises everything, so there only words
// that the summary also capitalises count). Numbers are read with their
// grouping commas, decimals (a decimal comma too: "1,4 milliard"), and the
// scale that follows them ("1.2 billion", "$340m", "2.4bn", "200k",
// "1.200 millones"), and number words up to ninety-nine ("nine",
// "twenty-two", "a dozen"); "9.50%" and "9.5 percent" are both 9.5. Words are
// folded as the rule language folds them, stop words dropped, and plurals and
// -ed/-ing endings cut.
func Extract(title, summary string) Facts {
	var x extractor
	x.titleCase = isTitleCase(title)
	x.scan(title, true)
	x.scan(summary, false)
	return x.facts()
}

// extractor gathers the terms of one story.
type extractor struct {
	titleCase bool
	seen      map[uint32]int // term → index in facts
	f         Facts
	names     map[string]bool // folded words capitalised mid-sentence in the summary
	title     []token         // title tokens, whose kinds wait for the summary's names
}

// token is one word or number of a text.
type token struct {
	text     string // as written
	folded   string // as compared
	kind     Kind
	capital  bool // written with a capital
	number   bool // folded is a number's value
	rough    Kind // rounded or hedged: folded is a rough value's key
	adjacent bool // only spaces since the token before
}

func (x *extractor) add(text, key string, kind Kind, title, isTail bool) {
	if key == "" {
		return
	}
	rough := kind & (rounded | hedged)
	kind = kind.base()
	h := termHash(key)
	if x.seen == nil {
		x.seen = map[uint32]int{}
	}
	mark := Kind(0)
	if title {
		mark = inTitle
	}
	if isTail && kind == Name {
		mark |= tail
	}
	if i, ok := x.seen[h]; ok {
		k := &x.f.kinds[i-1]
		t := *k & mark & tail // a tail only if a tail every time
		if kind > k.base() {
			*k = kind | *k&(inTitle|tail)
			x.f.texts[i-1] = text
		}
		*k = *k&^tail | mark&inTitle | t | rough
		return
	}
	if len(x.f.terms) >= MaxTerms {
		return
	}
	x.f.terms = append(x.f.terms, h)
	x.f.kinds = append(x.f.kinds, kind|mark|rough)
	x.f.texts = append(x.f.texts, text)
	x.seen[h] = len(x.f.terms)
}

// facts sorts what was gathered by term hash.
func (x *extractor) facts() Facts {
	// The title's words were held back until the summary said which are names.
	prevName := false
	for _, t := range x.title {
		kind := t.kind
		key := termKey(t.folded, kind)
		if t.rough != 0 {
			key = t.folded
			kind |= t.rough
		} else if t.number {
			key = "#" + t.folded
		} else if kind == Word && (x.names[t.folded] || t.capital && isRare(key)) {
			kind = Name
		}
		x.add(t.text, key, kind, true, prevName && t.adjacent)
		prevName = kind == Name
	}
	f := x.f
	idx := make([]int, len(f.terms))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmpUint32(f.terms[a], f.terms[b]) })
	out := Facts{terms: make([]uint32, len(idx)), kinds: make([]Kind, len(idx)), texts: make([]string, len(idx))}
	for i, j := range idx {
		out.terms[i], out.kinds[i], out.texts[i] = f.terms[j], f.kinds[j], f.texts[j]
	}
	return out
}

// termKey is what a term is compared by: numbers by their value, words by
// their stem. Names and words share one space, so that "Wichita" in one
// story's Title Case headline is the same term as in another's sentence.
func termKey(folded string, kind Kind) string {
	if kind == Number {
		return "#" + folded
	}
	return stem(folded)
}

// termHash is the low 32 bits of FNV-1a of a term key, mixed.
func termHash(key string) uint32 {
	return uint32(mix64(wordHash(key)))
}

// isTitleCase reports whether a headline capitalises most of its longer
// words, as "Boeing Supplier To Lay Off 900 Workers" does and "Boeing
// supplier to lay off 900 workers" does not.
func isTitleCase(s string) bool {
	caps, all := 0, 0
	for i, w := range strings.Fields(s) {
		r, _ := utf8.DecodeRuneInString(w)
		if i == 0 || utf8.RuneCountInString(w) < 4 || !unicode.IsLetter(r) {
			continue
		}
		all++
		if unicode.IsUpper(r) {
			caps++
		}
	}
	return all > 0 && 2*caps > all
}

// scan reads the tokens of one text.
func (x *extractor) scan(s string, isTitle bool) {
	toks := lex(s)
	prevName, prevDate := false, false
	for i := 0; i < len(toks); i++ {
		lx := toks[i]
		wasName, wasDate := prevName, prevDate
		prevName, prevDate = false, false
		if lx.num {
			continental := false
			if i+1 < len(toks) {
				_, continental = continentalScales[strings.ToLower(toks[i+1].text)]
			}
			v, ok := parseNumber(lx.text, continental)
			if !ok {
				continue
			}
			text := lx.text
			if i+1 < len(toks) {
				if m, ok := scaleWords[strings.ToLower(toks[i+1].text)]; ok && !toks[i+1].num {
					v *= m
					text += " " + toks[i+1].text
					i++
				}
			}
			// A day after a month ("Oct. 12-18") dates the story; it does
			// not tell one event of that week from another.
			date := i > 0 && (monthWords[strings.ToLower(toks[i-1].text)] || wasDate && lx.joined)
			x.addNumber(text, v, isTitle, date, hedgedAt(toks, i-strings.Count(text, " ")))
			prevDate = date
			continue
		}
		folded := rules.Normalize(lx.text)
		if folded == "" || strings.ContainsRune(folded, ' ') {
			// A word that folds into several (CJK, ligatures) is kept as one.
			folded = strings.ReplaceAll(folded, " ", "")
			if folded == "" {
				continue
			}
		}
		folded = place(folded)
		if n, ok := numberWords[folded]; ok {
			v := n
			text := lx.text
			// "twenty-two": a tens word joined to a unit word.
			if n >= 20 && int(n)%10 == 0 && i+1 < len(toks) && toks[i+1].joined {
				if u, ok := numberWords[strings.ToLower(toks[i+1].text)]; ok && u < 10 {
					v += u
					text += "-" + toks[i+1].text
					i++
				}
			}
			if i+1 < len(toks) {
				if m, ok := scaleWords[strings.ToLower(toks[i+1].text)]; ok && !toks[i+1].num {
					v *= m
					text += " " + toks[i+1].text
					i++
				}
			}
			x.addNumber(text, v, isTitle, false, hedgedAt(toks, i-strings.Count(text, " ")-strings.Count(text, "-")))
			continue
		}
		if folded == "half" && i+2 < len(toks) && strings.EqualFold(toks[i+1].text, "a") {
			if m, ok := scaleWords[strings.ToLower(toks[i+2].text)]; ok {
				x.addNumber(lx.text+" a "+toks[i+2].text, m/2, isTitle, false, hedgedAt(toks, i))
				i += 2
				continue
			}
		}
		if folded == "dozen" && i > 0 && strings.EqualFold(toks[i-1].text, "a") {
			x.addNumber("a dozen", 12, isTitle, false, hedgedAt(toks, i-1))
			continue
		}
		if factStopWords[folded] || stopWords[folded] {
			continue
		}
		r, _ := utf8.DecodeRuneInString(lx.text)
		// The first word of a sentence is a name when it is rare.
		capital := unicode.IsUpper(r) && (!lx.start || isRare(stem(folded)))
		kind := Word
		switch {
		case isTitle && x.titleCase:
			// Capitals say nothing here; the summary decides.
			if allUpper(lx.text) && utf8.RuneCountInString(lx.text) >= 2 && !lx.start {
				kind = Name // an acronym: "AFAD", "NTSB"
			}
			x.title = append(x.title, token{text: lx.text, folded: folded, kind: kind, capital: unicode.IsUpper(r), adjacent: lx.adjacent})
			continue
		case capital:
			kind = Name
		}
		if kind == Name && !isTitle {
			if x.names == nil {
				x.names = map[string]bool{}
			}
			x.names[folded] = true
		}
		x.add(lx.text, termKey(folded, kind), kind, isTitle, wasName && lx.adjacent)
		prevName = kind == Name
	}
}

// rareInPrior is the document frequency in the prior corpus below which a
// capitalised word of a Title Case headline is taken for a name.
const rareInPrior = 30

// isRare reports whether a term is in fewer than rareInPrior stories of the
// prior corpus.
func isRare(key string) bool {
	_, df := priorCounts(termHash(key))
	return df < rareInPrior
}

// addNumber adds a number read at a token, hedged when a word such as
// "nearly" comes before it.
func (x *extractor) addNumber(text string, v float64, isTitle, date, hedge bool) {
	key := strconv.FormatFloat(v, 'g', 6, 64)
	kind := Number
	if v == math.Trunc(v) && (v < 10 || v >= 1900 && v <= 2100) || date {
		// Small counts and scores, years and days of the month are in
		// every other story of their week: weighed as words.
		kind = Word
	}
	type term struct {
		key  string
		mark Kind
	}
	terms := []term{{key: "#" + key}}
	if kind == Number {
		// Rough values (see hedged): the value itself for a hedged number,
		// its roundings for an exact one.
		if hedge {
			terms = []term{{"~" + key, hedged}}
		} else {
			terms = append(terms, term{"~" + roundTo(v, 1), rounded}, term{"~" + roundTo(v, 2), rounded})
		}
	}
	for _, t := range terms {
		if isTitle && x.titleCase {
			folded, rough := key, t.mark
			if rough != 0 {
				folded = t.key
			}
			x.title = append(x.title, token{text: text, folded: folded, kind: kind, number: true, rough: rough})
			continue
		}
		x.add(text, t.key, kind|t.mark, isTitle, false)
	}
}

// roundTo formats v rounded to n significant figures.
func roundTo(v float64, n int) string {
	if v == 0 {
		return "0"
	}
	scale := math.Pow(10, float64(n)-math.Ceil(math.Log10(math.Abs(v))))
	return strconv.FormatFloat(math.Round(v*scale)/scale, 'g', 6, 64)
}

// hedges are the words that make the number after them a rough one.
var hedges = map[string]bool{"nearly": true, "almost": true, "about": true, "around": true,
	"roughly": true, "approximately": true, "some": true, "over": true, "approx": true, "circa": true}

// hedgedAt reports whether the number whose first token is toks[i] is
// given roughly: "nearly 200", "more than 1,000", "close to $49 million".
func hedgedAt(toks []lexeme, i int) bool {
	if i < 1 || i > len(toks) {
		return false
	}
	w := strings.ToLower(toks[i-1].text)
	if hedges[w] {
		return true
	}
	if i >= 2 && (w == "than" || w == "to") {
		switch strings.ToLower(toks[i-2].text) {
		case "more", "less", "fewer", "close":
			return true
		}
	}
	return false
}

func allUpper(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) && !unicode.IsUpper(r) {
			return false
		}
	}
	return true
}

// lexeme is a run of letters or a number as written.
type lexeme struct {
	text     string
	num      bool // starts with a digit
	start    bool // first of its sentence
	joined   bool // joined to the one before by a hyphen
	adjacent bool // only spaces since the one before
}

// lex cuts a text into runs of letters and marks, and numbers with their
// inner separators and attached scale ("1,150", "13.1", "2.4bn", "340m"). A
// lexeme starts a sentence when nothing but punctuation comes before it, or
// a full stop, question or exclamation mark, colon or dash does (a dateline
// such as "OSLO, March 2 (Reuters) -" ends with one).
func lex(s string) []lexeme {
	var out []lexeme
	start, hyphen, sep := true, false, true
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case unicode.IsDigit(r):
			j := i + n
			for j < len(s) {
				c := s[j]
				if c >= '0' && c <= '9' {
					j++
					continue
				}
				if (c == ',' || c == '.') && j+1 < len(s) && s[j+1] >= '0' && s[j+1] <= '9' {
					j++
					continue
				}
				break
			}
			// An attached scale or unit: "bn", "m", "k", "pc", "%".
			k := j
			for k < len(s) {
				r2, n2 := utf8.DecodeRuneInString(s[k:])
				if !unicode.IsLetter(r2) {
					break
				}
				k += n2
			}
			out = append(out, lexeme{text: s[i:k], num: true, start: start, joined: hyphen, adjacent: !sep})
			start, hyphen, sep = false, false, false
			i = k
		case unicode.IsLetter(r) || unicode.Is(unicode.Mn, r):
			j := i + n
			for j < len(s) {
				r2, n2 := utf8.DecodeRuneInString(s[j:])
				if unicode.IsDigit(r2) && currencyPrefixes[strings.ToLower(s[i:j])] {
					break // "SKr520mn", "Rs500": the amount follows its currency
				}
				if !unicode.IsLetter(r2) && !unicode.IsDigit(r2) && !unicode.Is(unicode.Mn, r2) {
					break
				}
				j += n2
			}
			if j < len(s) && s[j] >= '0' && s[j] <= '9' {
				i = j
				continue
			}
			out = append(out, lexeme{text: s[i:j], start: start, joined: hyphen, adjacent: !sep})
			start, hyphen, sep = false, false, false
			i = j
		default:
			switch r {
			case '.', '!', '?', ':', '—', '–', '|':
				start = true
			case '-':
				// " - " is a dash; "fast-moving" a hyphen.
				spaced := i > 0 && s[i-1] == ' ' || i+1 < len(s) && s[i+1] == ' '
				if spaced {
					start = true
				} else {
					hyphen = true
					i += n
					continue
				}
			}
			if !unicode.IsSpace(r) {
				hyphen, sep = false, true
			}
			i += n
		}
	}
	return out
}

// parseNumber reads "1,150", "13.1", "2.4bn", "340m", "9.50pc", "200k" as a
// value; ok is false for what is not a number ("3rd", "h20", "737MAX",
// "1.2.3"). A comma that does not group three digits is a decimal comma
// ("1,4 milliard", "40,2 %"), and where both marks are written the last is
// the decimal one ("1.234,5"); continental says a dot groups thousands
// too, as it does before a scale word of a language that writes numbers so
// ("US$1.200 millones").
func parseNumber(s string, continental bool) (float64, bool) {
	j := 0
	for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == ',' || s[j] == '.') {
		j++
	}
	digits, ok := plainDigits(s[:j], continental)
	if !ok {
		return 0, false
	}
	suffix := strings.ToLower(s[j:])
	v, err := strconv.ParseFloat(digits, 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, false
	}
	if suffix == "" {
		return v, true
	}
	if m, ok := scaleSuffixes[suffix]; ok {
		return v * m, true
	}
	return 0, false
}

// plainDigits rewrites a number's digits and marks as ParseFloat reads
// them: grouping marks dropped, the decimal mark a dot (see parseNumber).
func plainDigits(s string, continental bool) (string, bool) {
	if s == "" {
		return "", false
	}
	// grouping reports whether every part after the first has three digits.
	grouping := func(parts []string) bool {
		for _, p := range parts[1:] {
			if len(p) != 3 {
				return false
			}
		}
		return true
	}
	dot, comma := strings.LastIndexByte(s, '.'), strings.LastIndexByte(s, ',')
	switch {
	case dot >= 0 && comma >= 0:
		group, dec := ",", "."
		if comma > dot {
			group, dec = ".", ","
		}
		whole, frac, _ := strings.Cut(s, dec)
		if strings.Contains(frac, group) || strings.Contains(frac, dec) || !grouping(strings.Split(whole, group)) {
			return "", false
		}
		return strings.ReplaceAll(whole, group, "") + "." + frac, true
	case comma >= 0:
		parts := strings.Split(s, ",")
		if grouping(parts) {
			return strings.Join(parts, ""), true
		}
		if len(parts) == 2 {
			return parts[0] + "." + parts[1], true
		}
		return "", false
	case dot >= 0:
		parts := strings.Split(s, ".")
		if (len(parts) > 2 || continental) && grouping(parts) {
			return strings.Join(parts, ""), true
		}
		if len(parts) == 2 {
			return s, true
		}
		// "1.2.3": a version or a date, kept whole.
		return "", false
	}
	return s, true
}

// scaleSuffixes are what may follow a number's digits directly.
var scaleSuffixes = map[string]float64{
	"k": 1e3, "m": 1e6, "mn": 1e6, "mln": 1e6, "bn": 1e9, "bln": 1e9, "b": 1e9, "tn": 1e12, "pc": 1,
	"pct": 1, "st": 1, "nd": 1, "rd": 1, "th": 1, "s": 1,
	// Units written against the number: "200mm", "45.9C", "3,200ha", "900MW"
	// are the numbers that "198 mm", "45.9 deg C" and "900 MW" give.
	"mm": 1, "cm": 1, "km": 1, "kg": 1, "ha": 1, "kw": 1, "mw": 1, "gw": 1, "kwh": 1, "mwh": 1,
	"gwh": 1, "mph": 1, "kph": 1, "kmh": 1, "c": 1, "f": 1,
}

// monthWords are the names of months as headlines write them.
var monthWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`jan january feb february mar march apr april may jun june
		jul july aug august sep sept september oct october nov november dec december`) {
		m[w] = true
	}
	return m
}()

// currencyPrefixes are currency marks written straight before an amount.
var currencyPrefixes = map[string]bool{
	"skr": true, "nkr": true, "dkr": true, "rs": true, "r": true, "us": true, "a": true,
	"c": true, "nz": true, "hk": true, "s": true, "usd": true, "eur": true, "gbp": true,
}

// scaleWords are the words that multiply the number before them.
var scaleWords = func() map[string]float64 {
	m := map[string]float64{
		"thousand": 1e3, "million": 1e6, "millions": 1e6, "mn": 1e6, "mln": 1e6, "billion": 1e9,
		"billions": 1e9, "bn": 1e9, "bln": 1e9, "trillion": 1e12, "tn": 1e12,
		// India's press counts in lakhs and crores: "10 lakh tonnes" is a
		// million, "Rs 4,000 crore" forty billion.
		"lakh": 1e5, "lakhs": 1e5, "crore": 1e7, "crores": 1e7,
	}
	for w, v := range continentalScales {
		m[w] = v
	}
	return m
}()

// continentalScales are the scale words of languages that group
// thousands with a dot and write a decimal comma: Spanish, Portuguese,
// French, Italian, German and Dutch ("1.200 millones", "1,4 milliard",
// "3,9 Milliarden"). A Spanish "billón" is a million millions.
var continentalScales = map[string]float64{
	"millón": 1e6, "millones": 1e6, "billón": 1e12, "billones": 1e12,
	"milhão": 1e6, "milhões": 1e6, "bilhão": 1e9, "bilhões": 1e9,
	"milliard": 1e9, "milliards": 1e9,
	"milione": 1e6, "milioni": 1e6, "miliardo": 1e9, "miliardi": 1e9,
	"mio": 1e6, "millionen": 1e6, "milliarde": 1e9, "milliarden": 1e9, "mrd": 1e9,
	"miljoen": 1e6, "miljard": 1e9,
}

// numberWords are the number words read as numbers.
var numberWords = func() map[string]float64 {
	m := map[string]float64{}
	for i, w := range strings.Fields(`zero one two three four five six seven eight nine ten eleven
		twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen`) {
		m[w] = float64(i)
	}
	for i, w := range strings.Fields(`twenty thirty forty fifty sixty seventy eighty ninety`) {
		m[w] = float64(20 + 10*i)
	}
	m["hundred"] = 100
	delete(m, "one") // "one of the", "no one": seldom a count
	return m
}()

// factStopWords are words that say nothing of which event a story tells,
// beyond the signature's stop words: reporting verbs, time words, units.
var factStopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`than then more most some such other own same very
		all any each both few many much per cent percent via de la le el del des der und
		according told report reported reports statement added monday tuesday wednesday
		thursday friday saturday sunday`) {
		m[w] = true
	}
	return m
}()

// stem cuts common English endings so that "layoffs" and "layoff", "killed"
// and "kills" meet. It is crude and the same for every story, which is what
// matters.
func stem(w string) string {
	n := len(w)
	switch {
	case n > 5 && strings.HasSuffix(w, "ies"):
		return w[:n-3] + "y"
	case n > 6 && strings.HasSuffix(w, "ing"):
		return w[:n-3]
	case n > 5 && strings.HasSuffix(w, "ed"):
		return w[:n-2]
	case n > 4 && strings.HasSuffix(w, "es") && (strings.HasSuffix(w, "ches") || strings.HasSuffix(w, "shes") || strings.HasSuffix(w, "sses") || strings.HasSuffix(w, "xes")):
		return w[:n-2]
	case n > 3 && w[n-1] == 's' && w[n-2] != 's' && w[n-2] != 'u' && w[n-2] != 'i':
		return w[:n-1]
	}
	return w
}
