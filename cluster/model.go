package cluster

import (
	_ "embed"
	"encoding/binary"
	"math"
	"sort"
	"time"
)

// modelData is the same-event model: a small neural network over a pair of
// stories' features (see pairFeatures) — a logistic regression plus a layer
// of hidden units — and a weight for each word of either headline that the
// other story lacks; and its cluster stage, a logistic regression over what
// the pairs of a new story and a cluster's stories give together
// (clusterFeatures). It was fitted by TestModel to the hand-labelled sets
// of testdata (events.jsonl, heldout.jsonl to heldout27.jsonl and
// train/*.jsonl; testdata/README.md), which rebuilds it and checks it is
// current. The layout, little-endian, every weight a float32 with the
// features' scaling folded in: "WWM3"; the number of features as a uint16;
// each feature's weight, then the bias; the number of hidden units as a
// uint16, and for each its features' weights, its bias and its weight in
// the output; the number of cluster features (clusterFeatures) as a
// uint16, each one's weight, then their bias; the number of words as a
// uint32; then each word's term hash as a uint32 and its weight, by hash.
//
//go:embed model.bin
var modelData []byte

// modelMagic starts modelData.
const modelMagic = "WWM3"

// numFeatures is the number of pairFeatures.
const numFeatures = 16

// featureGap is the time apart at which the gap-discounted overlap counts
// half.
const featureGap = 8 * time.Hour

// model is modelData read.
type model struct {
	weights [numFeatures]float64
	bias    float64
	hidden  []unit
	// cluster and clusterBias weigh a cluster's features
	// (clusterFeatures) into the probability that a new story is one
	// more version of its event.
	cluster     [numClusterFeatures]float64
	clusterBias float64
	words       []uint32 // term hashes, sorted
	word        []float64
}

// unit is one hidden unit of the model: the tanh of its weighed features,
// which adds out times itself to the log-odds.
type unit struct {
	w      [numFeatures]float64
	b, out float64
}

// theModel is the model the judge uses.
var theModel = mustModel(modelData)

// mustModel reads a model; bytes that are not one give a model that weighs
// nothing (every pair at probability one half), which TestModel catches.
func mustModel(b []byte) *model {
	m, ok := readModel(b)
	if !ok {
		return &model{}
	}
	return m
}

// modelReader reads the fields of modelData in turn; ok turns false at the
// first that the bytes lack.
type modelReader struct {
	b  []byte
	ok bool
}

// next returns the next n bytes (zeros past the end).
func (r *modelReader) next(n int) []byte {
	if !r.ok || len(r.b) < n {
		r.ok = false
		return make([]byte, n)
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

func (r *modelReader) u16() int    { return int(binary.LittleEndian.Uint16(r.next(2))) }
func (r *modelReader) u32() uint32 { return binary.LittleEndian.Uint32(r.next(4)) }

// f32 reads a weight; one that is not a finite number is not a model's.
func (r *modelReader) f32() float64 {
	v := float64(math.Float32frombits(r.u32()))
	if math.IsNaN(v) || math.IsInf(v, 0) {
		r.ok = false
	}
	return v
}

// readModel reads the layout modelData documents.
func readModel(b []byte) (*model, bool) {
	r := modelReader{b: b, ok: true}
	if string(r.next(4)) != modelMagic || r.u16() != numFeatures {
		return nil, false
	}
	m := &model{}
	for k := range numFeatures {
		m.weights[k] = r.f32()
	}
	m.bias = r.f32()
	h := r.u16()
	if !r.ok || len(r.b) < h*4*(numFeatures+2) {
		return nil, false
	}
	m.hidden = make([]unit, h)
	for i := range m.hidden {
		u := &m.hidden[i]
		for k := range numFeatures {
			u.w[k] = r.f32()
		}
		u.b, u.out = r.f32(), r.f32()
	}
	if r.u16() != numClusterFeatures {
		return nil, false
	}
	for k := range numClusterFeatures {
		m.cluster[k] = r.f32()
	}
	m.clusterBias = r.f32()
	n := int(r.u32())
	if !r.ok || len(r.b) != 8*n {
		return nil, false
	}
	m.words, m.word = make([]uint32, n), make([]float64, n)
	for i := range n {
		m.words[i], m.word[i] = r.u32(), r.f32()
		if i > 0 && m.words[i] <= m.words[i-1] {
			return nil, false
		}
	}
	return m, r.ok
}

// marshal writes a model in the layout modelData documents; its words must
// be sorted.
func (m *model) marshal() []byte {
	b := append([]byte(modelMagic), 0, 0)
	binary.LittleEndian.PutUint16(b[4:], numFeatures)
	f32 := func(v float64) { b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(v))) }
	for _, w := range m.weights {
		f32(w)
	}
	f32(m.bias)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(m.hidden)))
	for _, u := range m.hidden {
		for _, w := range u.w {
			f32(w)
		}
		f32(u.b)
		f32(u.out)
	}
	b = binary.LittleEndian.AppendUint16(b, numClusterFeatures)
	for _, w := range m.cluster {
		f32(w)
	}
	f32(m.clusterBias)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(m.words)))
	for i, k := range m.words {
		b = binary.LittleEndian.AppendUint32(b, k)
		f32(m.word[i])
	}
	return b
}

// wordWeight returns a headline word's weight; 0 for a word the model has
// none for.
func (m *model) wordWeight(term uint32) float64 {
	i := sort.Search(len(m.words), func(i int) bool { return m.words[i] >= term })
	if i < len(m.words) && m.words[i] == term {
		return m.word[i]
	}
	return 0
}

// probability returns the model's estimate that two stories with these
// features and novel headline words are one event.
func (m *model) probability(x *[numFeatures]float64, novel []uint32) float64 {
	z := m.bias
	for k, v := range x {
		z += m.weights[k] * v
	}
	for i := range m.hidden {
		u := &m.hidden[i]
		a := u.b
		for k, v := range x {
			a += u.w[k] * v
		}
		z += u.out * math.Tanh(a)
	}
	for _, t := range novel {
		z += m.wordWeight(t)
	}
	return 1 / (1 + math.Exp(-z))
}

// clusterProbability returns the model's estimate that a new story is one
// more version of the event of a cluster with these features.
func (m *model) clusterProbability(x *[numClusterFeatures]float64) float64 {
	z := m.clusterBias
	for k, v := range x {
		z += m.cluster[k] * v
	}
	return 1 / (1 + math.Exp(-z))
}

// pairFeatures describes two stories d apart for the model, and appends to
// novel the words of either headline that the other story lacks. ok is
// false when they share fewer than minStrong distinctive terms: one name is
// a topic, not an event. The features:
//
//  0. the weighted overlap: the weight of the shared terms (each with the
//     larger of its two weights) over the geometric mean of the two
//     stories' total weights;
//  1. ln(1 + hours apart);
//  2. the overlap divided by 1 + gap/featureGap;
//  3. and 4. the larger and the smaller share of a headline's distinctive
//     names and numbers that the other story lacks;
//  5. ln of the number of distinctive terms shared (distinctive);
//  6. the signatures' estimated similarity;
//  7. the headlines' overlap with each other, weighted as in 0;
//  8. and 9. the smaller and the larger share of a headline's weight that
//     the other story has anywhere;
//  10. and 11. the same for names and numbers only;
//  12. the overlap of names and numbers alone;
//  13. the headlines' overlap in names and numbers alone;
//  14. and 15. how alike the words of the headlines, and of the whole
//     stories, are in meaning: the cosine of their word vectors' sums,
//     each word by its weight: their gists (gistOf, vectorData).
func pairFeatures(sa *Signature, a *Facts, ix *termIndex, sb *Signature, b *Facts, d time.Duration, novel []uint32) (x [numFeatures]float64, _ []uint32, ok bool) {
	if !ix.sharesStrong(a, b) {
		return x, novel, false
	}
	var p pairSums
	novel = p.add(a, b, novel)
	gap := math.Abs(d.Hours())
	s0 := ratio(p.shared, float64(a.norm)*float64(b.norm))
	missA, missB := share(p.missA, p.distinctA), share(p.missB, p.distinctB)
	if p.distinctA == 0 {
		missA = 0
	}
	if p.distinctB == 0 {
		missB = 0
	}
	covA, covB := share(p.titleHaveA, float64(a.sums.title)), share(p.titleHaveB, float64(b.sums.title))
	scovA, scovB := share(p.namesHaveA, float64(a.sums.titleNames)), share(p.namesHaveB, float64(b.sums.titleNames))
	x = [numFeatures]float64{
		s0,
		math.Log1p(gap),
		s0 / (1 + gap/featureGap.Hours()),
		max(missA, missB), min(missA, missB),
		lnCount[min(p.strong, len(lnCount)-1)],
		max(0, (float64(matches(sa, sb))/numHashes-chance)/(1-chance)),
		ratio(p.titleShared, float64(a.sums.title)*float64(b.sums.title)),
		min(covA, covB), max(covA, covB),
		min(scovA, scovB), max(scovA, scovB),
		ratio(p.namesShared, float64(a.sums.names)*float64(b.sums.names)),
		ratio(p.titleNamesShared, float64(a.sums.titleNames)*float64(b.sums.titleNames)),
		alike(a.gist, b.gist, true), alike(a.gist, b.gist, false),
	}
	return x, novel, true
}

// lnCount is ln n for the counts of shared distinctive terms.
var lnCount = func() [MaxTerms + 1]float64 {
	var t [MaxTerms + 1]float64
	for n := 1; n <= MaxTerms; n++ {
		t[n] = math.Log(float64(n))
	}
	return t
}()

// termIndex finds a story's terms by hash: an open-addressed table of
// their indexes (plus one; 0 is an empty slot), by the hash's low bits,
// which termHash has mixed. MaxTerms fill a quarter of it.
type termIndex [4 * MaxTerms]struct {
	term uint32
	i    uint8
}

// index files the terms of f.
func (ix *termIndex) index(f *Facts) {
	*ix = termIndex{}
	for i, t := range f.terms {
		k := t % uint32(len(ix))
		for ix[k].i != 0 {
			k = (k + 1) % uint32(len(ix))
		}
		ix[k].term, ix[k].i = t, uint8(i+1)
	}
}

// find returns the index of a term, and whether the story has it.
func (ix *termIndex) find(t uint32) (int, bool) {
	for k := t % uint32(len(ix)); ix[k].i != 0; k = (k + 1) % uint32(len(ix)) {
		if ix[k].term == t {
			return int(ix[k].i) - 1, true
		}
	}
	return 0, false
}

// sharesStrong reports whether a, indexed in ix, and b share at least
// minStrong distinctive terms (see pairSums.strong). Most candidates do
// not, and looking b's terms up in a's index tells so without the merge of
// their sorted terms that the features take.
func (ix *termIndex) sharesStrong(a, b *Facts) bool {
	n := 0
	for j, t := range b.terms {
		i, found := ix.find(t)
		if !found || !distinctive(a.kinds[i], float64(a.weights[i])) && !distinctive(b.kinds[j], float64(b.weights[j])) {
			continue
		}
		if ka, kb := a.kinds[i], b.kinds[j]; meets(ka, kb) && (ka&tail == 0 || kb&tail == 0) {
			if n++; n >= minStrong {
				return true
			}
		}
	}
	return false
}

// ratio is a shared weight over the geometric mean of two totals whose
// product is given; 0 when either is empty.
func ratio(shared, product float64) float64 {
	if product <= 0 {
		return 0
	}
	return shared / math.Sqrt(product)
}

// share is have over total; 1 when there is nothing to have.
func share(have, total float64) float64 {
	if total == 0 {
		return 1
	}
	return have / total
}

// pairSums are the weights pairFeatures reads, gathered in one pass over
// the two stories' sorted terms (their own totals are kept in Facts.sums).
// Exact numbers' roundings count only towards shared and strong.
type pairSums struct {
	shared                 float64
	strong                 int // shared terms distinctive in either story
	titleShared            float64
	titleNamesShared       float64 // of titleShared, names and numbers
	titleHaveA, titleHaveB float64 // of a headline's weight, what the other story has
	namesHaveA, namesHaveB float64 // the same for the headline's names and numbers
	namesShared            float64
	// distinct is the weight of a headline's distinctive names and
	// numbers, and miss the part of it the other story lacks.
	distinctA, distinctB, missA, missB float64
}

// add gathers the sums of a and b, and appends to novel the words of
// either headline that the other story lacks.
func (p *pairSums) add(a, b *Facts, novel []uint32) []uint32 {
	i, j := 0, 0
	for i < len(a.terms) || j < len(b.terms) {
		switch {
		case j == len(b.terms) || i < len(a.terms) && a.terms[i] < b.terms[j]:
			novel = p.lacked(a, i, &p.distinctA, &p.missA, novel)
			i++
			continue
		case i == len(a.terms) || a.terms[i] > b.terms[j]:
			novel = p.lacked(b, j, &p.distinctB, &p.missB, novel)
			j++
			continue
		}
		ka, kb := a.kinds[i], b.kinds[j]
		wa, wb := float64(a.weights[i]), float64(b.weights[j])
		p.distinct(ka, wa, &p.distinctA)
		p.distinct(kb, wb, &p.distinctB)
		if meets(ka, kb) {
			w := max(wa, wb)
			p.shared += w
			if (distinctive(ka, wa) || distinctive(kb, wb)) && (ka&tail == 0 || kb&tail == 0) {
				p.strong++
			}
			if ka&rounded == 0 && kb&rounded == 0 {
				if ka&inTitle != 0 && kb&inTitle != 0 {
					p.titleShared += w
					if ka.base() != Word || kb.base() != Word {
						p.titleNamesShared += w
					}
				}
				if ka&inTitle != 0 {
					p.titleHaveA += wa
					if ka.base() != Word {
						p.namesHaveA += wa
					}
				}
				if kb&inTitle != 0 {
					p.titleHaveB += wb
					if kb.base() != Word {
						p.namesHaveB += wb
					}
				}
				if ka.base() != Word || kb.base() != Word {
					p.namesShared += w
				}
			}
		}
		i++
		j++
	}
	return novel
}

// distinct adds a headline's distinctive name or number to its total.
func (p *pairSums) distinct(k Kind, w float64, total *float64) {
	if k&inTitle != 0 && !k.rough() && w >= strongWeight {
		*total += w
	}
}

// lacked counts a term of f that the other story does not have: towards
// the missing distinctive terms of its headline, or as a novel headline
// word.
func (p *pairSums) lacked(f *Facts, i int, total, miss *float64, novel []uint32) []uint32 {
	k, w := f.kinds[i], float64(f.weights[i])
	if k&inTitle == 0 || k.rough() {
		return novel
	}
	if w >= strongWeight {
		*total += w
		*miss += w
	}
	if k.base() == Word {
		novel = append(novel, f.terms[i])
	}
	return novel
}
