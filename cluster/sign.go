package cluster

import (
	"encoding/binary"
	"errors"
	"math"
	"math/bits"
	"slices"
	"strings"

	"github.com/wirewatch/wirewatch/rules"
)

// numHashes is the number of MinHash functions in a Signature. Each keeps
// only the low 8 bits of its minimum (b-bit MinHash): 256 one-byte values
// estimate a Jaccard similarity with a standard error of 0.03 at 0.35, where
// 128 two-byte values, the same 256 bytes, give 0.042.
const numHashes = 256

// chance is the probability that the minima of two unrelated sets agree in
// their low 8 bits.
const chance = 1.0 / 256

// NumKeys is the number of MinHash functions whose whole 64-bit minima are a
// signature's candidate keys (Keys): two texts of Jaccard similarity J share
// at least one with probability 1-(1-J)^6, 0.97 at J = 0.45 and 0.99 at
// J = 0.55, while unrelated texts seldom share any. On the labelled set
// (testdata/README.md) six keys and the headline key find every pair the
// verification joins, as the 24 two-value LSH bands of an in-memory index
// did, with a quarter of the rows to store.
const NumKeys = 6

// SignatureSize is the length in bytes of a marshalled Signature.
const SignatureSize = numHashes + 2 + 8

// shortText is the number of content words below which a story's text counts
// as short: single words join its shingles, and Assign asks for a closer match.
const shortText = 6

// summaryWeight is how many times each summary shingle counts. A summary
// sentence shared word for word is the mark of one wire story carried by
// several outlets, while headlines are rewritten by every desk and recur as
// templates ("What To Watch On Netflix That's New This Week"), so the summary
// weighs more than the title. On the labelled set (testdata/README.md),
// weight 1 reaches a recall of 0.8 only at a threshold of 0.25, where
// precision is 0.93; weight 3 holds precision 1.0 and recall 0.8 from 0.45
// to 0.5, with the closest pair of different events at 0.38.
const summaryWeight = 3

// shortSignature is the number of shingles below which a signature is short:
// a headline of a few words with no summary. One changed word moves such a
// text a long way ("Senate Passes Relief Bill", "House Passes Relief Bill"),
// so Assign needs Options.ShortThreshold to join it.
const shortSignature = 10

// headlineWords is the number of content words from which a headline is
// distinctive enough that the same headline, word for word, within the
// window is the same story even under a different summary: one wire
// headline under each outlet's own standfirst. Shorter headlines recur as
// templates ("Here Are The Movies Coming To Netflix This Week").
const headlineWords = 7

// Signature is the MinHash fingerprint of a story's title and summary: for
// each of 256 fixed hash functions, the low 8 bits of the smallest hash of
// the text's shingles, and the whole minima of the first NumKeys (its
// candidate keys); the number of distinct shingles; and a hash of the
// headline's content words when it has at least 7. It is a plain value,
// comparable with ==; equal texts give equal signatures on every machine and
// every run. It marshals to SignatureSize bytes without its keys, which a
// store keeps apart to look candidates up by (Keys).
type Signature struct {
	mins     [numHashes]uint8 // low 8 bits of each minimum
	keys     [NumKeys]uint64  // the whole first minima
	size     uint16           // distinct shingles, capped at math.MaxUint16; 0: no words at all
	headline uint64           // hash of the headline's content words; 0 when it has fewer than 7
}

// Empty reports whether the text had no words to sign. An empty signature
// never joins a cluster.
func (s Signature) Empty() bool { return s.size == 0 }

// Short reports whether the text was short: fewer than 10 shingles, as a
// headline of a few words with no summary gives.
func (s Signature) Short() bool { return s.size > 0 && s.size < shortSignature }

// Same reports whether two signatures are of the same text, keys aside (a
// signature read back from bytes has none): a verbatim copy.
func (s Signature) Same(o Signature) bool {
	return s.mins == o.mins && s.size == o.size && s.headline == o.headline
}

// Shingles returns the number of distinct shingles the text had (at most 65535).
func (s Signature) Shingles() int { return int(s.size) }

// Keys returns the keys under which a store files the signature, so that a
// later story's Keys find it: one per candidate minimum, each tagged with its
// hash function, and the headline hash when there is one. An empty signature
// has none.
func (s Signature) Keys() []uint64 {
	if s.Empty() {
		return nil
	}
	out := make([]uint64, 0, NumKeys+1)
	for i, k := range s.keys {
		// The top byte names the hash function, so that equal minima of
		// different functions are different keys.
		out = append(out, uint64(i+1)<<56|k>>8)
	}
	if s.headline != 0 {
		out = append(out, s.headline&^(0xff<<56))
	}
	return out
}

// MarshalBinary encodes the signature, less its keys, in SignatureSize
// bytes: the low bytes of the 256 minima, the shingle count as a
// little-endian uint16, then the headline hash as a little-endian uint64.
func (s Signature) MarshalBinary() ([]byte, error) {
	b := make([]byte, SignatureSize)
	copy(b, s.mins[:])
	binary.LittleEndian.PutUint16(b[numHashes:], s.size)
	binary.LittleEndian.PutUint64(b[numHashes+2:], s.headline)
	return b, nil
}

// ErrSignatureSize is returned by UnmarshalBinary for data that is not
// SignatureSize bytes long.
var ErrSignatureSize = errors.New("signature: wrong length")

// UnmarshalBinary decodes what MarshalBinary encoded; the keys are zero.
func (s *Signature) UnmarshalBinary(b []byte) error {
	if len(b) != SignatureSize {
		return ErrSignatureSize
	}
	*s = Signature{}
	copy(s.mins[:], b)
	s.size = binary.LittleEndian.Uint16(b[numHashes:])
	s.headline = binary.LittleEndian.Uint64(b[numHashes+2:])
	return nil
}

// Similarity estimates the Jaccard similarity of the shingle sets behind two
// signatures from the share of hash functions whose minima agree, corrected
// for the agreements of 8-bit values by chance. It is 0 when either text had
// no words.
func Similarity(a, b Signature) float64 {
	if a.size == 0 || b.size == 0 {
		return 0
	}
	p := float64(matches(&a, &b)) / numHashes
	return max(0, (p-chance)/(1-chance))
}

// matches counts the hash functions on which two signatures agree: the zero
// bytes of a XOR b, eight at a time.
func matches(a, b *Signature) int {
	const low7 = 0x7f7f7f7f7f7f7f7f
	n := 0
	for i := 0; i < numHashes; i += 8 {
		x := binary.LittleEndian.Uint64(a.mins[i:]) ^ binary.LittleEndian.Uint64(b.mins[i:])
		// A byte's high bit ends up clear exactly when the byte was zero.
		n += bits.OnesCount64(^((x&low7 + low7) | x | low7))
	}
	return n
}

// stopWords are dropped before shingling: function words that say nothing of
// the event, and the labels outlets and wires put in front of a headline.
// Numbers are kept, since "Sept. 10-16" and "Sept. 17-23" are different weeks.
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a an the and or but nor of in on at to for from by with
		as into onto about over after before than then so if is are was were be been being
		am do does did has have had having it its this that these those there here
		he she they we you i me him her them us our your their his my mine who whom which
		what when where why how will would can could should may might must shall not no
		s t d ll re ve m also just says said say update updated breaking exclusive
		refile reuters ap afp upi`) {
		m[w] = true
	}
	return m
}()

// words returns the content words of a text, in order: the words of the rule
// language (rules.Normalize: NFKD, accents removed, case folded, split at
// everything but letters and digits) less the stop words, and less the
// number of a leading wire label such as "UPDATE 2-" or "REFILE-UPDATE 1-".
func words(s string) []string {
	var out []string
	label := false // the last word was a leading "update"
	for w := range strings.FieldsSeq(rules.Normalize(s)) {
		if label && isNumber(w) {
			label = false
			continue
		}
		label = len(out) == 0 && w == "update"
		if !stopWords[w] {
			out = append(out, w)
		}
	}
	return out
}

// isNumber reports whether a word is all ASCII digits.
func isNumber(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < '0' || w[i] > '9' {
			return false
		}
	}
	return w != ""
}

// Sign returns the signature of a story's text. Title and summary are each
// cut into word shingles: every pair of consecutive content words (bigrams;
// pairs do not cross from title to summary), each summary bigram counting
// three times. Bigrams keep the order of words, so "Trump Says X" and "Trump
// Says Y" share only the bigrams around the word that differs. When the whole
// text has fewer than 6 content words, each word is a shingle too, so that a
// headline of three or four words still has a handful of shingles to compare
// rather than one or two; such a signature is Short and joins only a
// near-identical one. A headline of at least 7 content words is also hashed
// whole, so that the same headline over another summary joins too.
func Sign(title, summary string) Signature {
	tw, sw := words(title), words(summary)
	sig := signSet(shingles(tw, sw))
	if len(tw) >= headlineWords && !sig.Empty() {
		h := uint64(0)
		for _, w := range tw {
			h = mix64(h ^ wordHash(w))
		}
		sig.headline = h | 1 // never 0, which means none
	}
	return sig
}

// shingles returns the hashes of the shingles of a story's text, given as
// the content words of its title and summary, with repeats.
func shingles(tw, sw []string) []uint64 {
	var set []uint64
	set = appendBigrams(set, tw)
	n := len(set)
	set = appendBigrams(set, sw)
	m := len(set)
	for w := 1; w < summaryWeight; w++ {
		for _, h := range set[n:m] {
			set = append(set, mix64(h^uint64(w)*0x9e3779b97f4a7c15))
		}
	}
	if len(tw)+len(sw) < shortText {
		for _, w := range tw {
			set = append(set, wordHash(w))
		}
		for _, w := range sw {
			set = append(set, wordHash(w))
		}
	}
	return set
}

// appendBigrams appends the hashes of the bigrams of ws, or of its one word
// when it has only one.
func appendBigrams(set []uint64, ws []string) []uint64 {
	if len(ws) == 1 {
		return append(set, wordHash(ws[0]))
	}
	for i := 1; i < len(ws); i++ {
		set = append(set, mix64(wordHash(ws[i-1])*0x100000001b3^wordHash(ws[i])))
	}
	return set
}

// signSet computes the MinHash of a set of shingle hashes (duplicates
// allowed; the slice is sorted in place).
func signSet(set []uint64) Signature {
	var sig Signature
	if len(set) == 0 {
		return sig
	}
	var mins [numHashes]uint64
	for i := range mins {
		mins[i] = math.MaxUint64
	}
	slices.Sort(set)
	distinct := 0
	for j, h := range set {
		if j > 0 && h == set[j-1] {
			continue
		}
		distinct++
		for i := range mins {
			if v := mix64(h ^ seeds[i]); v < mins[i] {
				mins[i] = v
			}
		}
	}
	for i, v := range mins {
		sig.mins[i] = uint8(v)
	}
	copy(sig.keys[:], mins[:NumKeys])
	sig.size = uint16(min(distinct, math.MaxUint16))
	return sig
}

// wordHash is FNV-1a (64 bit) of a word: fixed, so signatures are the same
// on every machine and in every run.
func wordHash(w string) uint64 {
	h := uint64(0xcbf29ce484222325)
	for i := 0; i < len(w); i++ {
		h ^= uint64(w[i])
		h *= 0x100000001b3
	}
	return h
}

// mix64 is the SplitMix64 finalizer: a bijection on 64 bits whose every output
// bit depends on every input bit.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// seeds make the 256 hash functions h_i(x) = mix64(x ^ seeds[i]), drawn from
// SplitMix64 with a fixed start.
var seeds = func() (s [numHashes]uint64) {
	x := uint64(0x5eed0f3c1a57e125)
	for i := range s {
		x += 0x9e3779b97f4a7c15
		s[i] = mix64(x)
	}
	return s
}()
