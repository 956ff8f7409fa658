package cluster

import (
	"math"
	"slices"
	"testing"
)

// FuzzSign: Sign never panics, is a function of its input, and its signature
// survives a round trip through bytes. Seeds: testdata/fuzz/FuzzSign.
func FuzzSign(f *testing.F) {
	f.Add("Senate Gives Final Approval To Ukraine Aid", "The Senate has given final congressional approval.")
	f.Add("UPDATE 1-Zürich café owner sues", "ZÜRICH (Reuters) -")
	f.Fuzz(func(t *testing.T, title, summary string) {
		s := Sign(title, summary)
		if again := Sign(title, summary); again != s {
			t.Fatalf("Sign(%q, %q) differs between calls", title, summary)
		}
		b, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var back Signature
		if err := back.UnmarshalBinary(b); err != nil || back != withoutKeys(s) {
			t.Fatalf("round trip: %v, equal %v", err, back == withoutKeys(s))
		}
		if len(s.Keys()) != 0 && s.Empty() {
			t.Fatalf("an empty signature has keys %v", s.Keys())
		}
		want := 1.0
		if s.Empty() {
			want = 0
		}
		if got := Similarity(s, s); got != want {
			t.Fatalf("Similarity(s, s) = %v, want %v", got, want)
		}
		if s.Empty() != (s.Shingles() == 0) {
			t.Fatalf("Empty %v with %d shingles", s.Empty(), s.Shingles())
		}
	})
}

// FuzzExtract: Extract never panics, is a function of its input, keeps at
// most MaxTerms sorted distinct terms, and its weighed facts survive a round
// trip through bytes. Seeds: testdata/fuzz/FuzzExtract.
func FuzzExtract(f *testing.F) {
	f.Add("Boeing supplier to cut 1,150 jobs", "OSLO, March 2 (Reuters) - It will cut $1.2bn, 9.50% or twenty-two.")
	f.Add("SKr520mn", "half a billion 1.2.3 9,99,9 .5 5. ,5")
	f.Fuzz(func(t *testing.T, title, summary string) {
		a := Extract(title, summary)
		b := Extract(title, summary)
		if !slices.Equal(a.terms, b.terms) || !slices.Equal(a.kinds, b.kinds) {
			t.Fatalf("Extract(%q, %q) differs between calls", title, summary)
		}
		if a.Len() > MaxTerms || !slices.IsSorted(a.terms) || len(slices.Compact(slices.Clone(a.terms))) != a.Len() {
			t.Fatalf("terms not sorted and distinct, or too many: %d", a.Len())
		}
		a.Weigh(10, func(uint32) int64 { return 3 })
		raw, err := a.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var back Facts
		if err := back.UnmarshalBinary(raw); err != nil {
			t.Fatalf("round trip: %v", err)
		}
		if !slices.Equal(back.terms, a.terms) || back.norm != a.norm || !slices.Equal(back.gist, a.gist) {
			t.Fatal("round trip changed the facts")
		}
	})
}

// FuzzReadModel: readModel never panics on any bytes, and a model it reads
// has finite weights (its hidden units' and its cluster stage's too) and
// writes back as the same bytes. Seeds: a small model, and the shipped one
// cut short (testdata/fuzz/FuzzReadModel).
func FuzzReadModel(f *testing.F) {
	small := &model{bias: -1, hidden: []unit{{b: 0.5, out: 2}}, words: []uint32{9, 12}, word: []float64{-1, 0.25}, clusterBias: 0.3}
	small.weights[0], small.hidden[0].w[3], small.cluster[2] = 3, -0.5, 1.5
	f.Add(small.marshal())
	f.Add(modelData[:100])
	f.Fuzz(func(t *testing.T, b []byte) {
		m, ok := readModel(b)
		if !ok {
			return
		}
		weights := append(append(m.weights[:], m.bias, m.clusterBias), m.word...)
		for _, u := range m.hidden {
			weights = append(append(weights, u.w[:]...), u.b, u.out)
		}
		for _, w := range append(weights, m.cluster[:]...) {
			if math.IsNaN(w) || math.IsInf(w, 0) {
				t.Fatalf("a weight of %v read", w)
			}
		}
		if back := m.marshal(); !slices.Equal(back, b) {
			t.Fatalf("%d bytes read as a model that writes %d different bytes", len(b), len(back))
		}
	})
}

// FuzzReadVectors: readVectors never panics on any bytes, and a table it
// reads finds each of its words by its term. Seeds: a small table, and the
// shipped one cut short (testdata/fuzz/FuzzReadVectors).
func FuzzReadVectors(f *testing.F) {
	f.Add(vectorBytes([]wordVector{{term: 5}, {term: 9, v: [vectorDims]int8{1, -2}}}))
	f.Add(vectorData[:200])
	f.Fuzz(func(t *testing.T, b []byte) {
		vs := readVectors(b)
		for i, term := range vs.terms {
			if v := vs.of(term); v == nil || &v[0] != &vs.v[i*vectorDims] {
				t.Fatalf("word %d of %d not found by its term", i, len(vs.terms))
			}
		}
	})
}
