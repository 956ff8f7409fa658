package cluster

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/cluster/eventset"
)

var writeModel = flag.Bool("write-model", false, "refit model.bin to the training sets")

// modelSets are the sets the model is fitted to: the event set, the
// held-out sets heldout.jsonl to heldout27.jsonl (each scored blind when it
// was written, and fitted to from the sixth round on), and the training
// sets written for the model (testdata/README.md). heldout28.jsonl and
// after are not among them: they measure it.
func modelSets(t *testing.T) []string {
	t.Helper()
	train, err := filepath.Glob("testdata/train/*.jsonl")
	if err != nil || len(train) == 0 {
		t.Fatalf("no training sets: %v", err)
	}
	sets := []string{"testdata/events.jsonl", "testdata/heldout.jsonl"}
	for n := 2; n <= lastFittedSet; n++ {
		sets = append(sets, fmt.Sprintf("testdata/heldout%d.jsonl", n))
	}
	return append(sets, train...)
}

// lastFittedSet is the number of the last held-out set the model is fitted
// to. Fitting to heldout3 to heldout27 as well as the 17 sets before gave
// 2 points more recall at equal precision on heldout28 to heldout35
// (docs/PERFORMANCE.md, "The sixth round").
const lastFittedSet = 27

// hiddenUnits is the number of the model's hidden units. Cross-validation
// over the training sets (TestModelCrossValidation) gave eight a little
// more recall than none at every threshold, and four or sixteen no more
// than eight (docs/PERFORMANCE.md).
const hiddenUnits = 8

// example is one pair of stories the judge weighs by their facts, with
// whether they are one event.
type example struct {
	x     [numFeatures]float64
	novel []uint32
	same  bool
}

// examples clusters a set as the judge does and returns every pair of a
// story and a candidate it weighs by their facts.
func examples(stories []eventset.Story) []example {
	var out []example
	// The pool files the stories by their signatures alone, so that the
	// examples do not depend on the model they fit.
	assignSet(newPool(Options{FactsThreshold: -1}), stories, func(s *setStory, cands []filedStory) {
		at := stories[s.i].Published
		for _, c := range cands {
			d := c.At.Sub(at)
			if d > DefaultWindow || d < -DefaultWindow || c.Facts.norm == 0 || s.facts.norm == 0 {
				continue
			}
			x, novel, ok := pairFeatures(&s.sig, &s.facts, &s.ix, &c.Sig, &c.Facts, d, nil)
			if ok {
				out = append(out, example{x, novel, stories[c.story].Event == stories[s.i].Event})
			}
		}
	})
	return out
}

// setStory is a story of a set as assignSet shows it before assigning it.
type setStory struct {
	i     int // its index in the set
	facts Facts
	sig   Signature
	ix    termIndex // facts' terms
}

// filedStory is a candidate of a story of a set: a filed story, and its
// index in the set.
type filedStory struct {
	*Candidate
	story int
}

// assignSet assigns a set's stories to p in order of publication, as
// clusterEvents does, and returns each story's cluster. Before it assigns a
// story, it calls look with the story, weighed and signed, and its
// candidates.
func assignSet(p *pool, stories []eventset.Story, look func(s *setStory, cands []filedStory)) []string {
	clusters := make([]string, len(stories))
	var storyOf []int // set's story of each filed entry
	for _, i := range eventset.Order(stories) {
		st := stories[i]
		s := &setStory{i: i, facts: Extract(st.Title, st.Summary), sig: Sign(st.Title, st.Summary)}
		p.weigh(&s.facts)
		s.ix.index(&s.facts)
		idx := p.candidates(s.sig, s.facts)
		cands := make([]filedStory, len(idx))
		for k, j := range idx {
			cands[k] = filedStory{&p.filed[j], storyOf[j]}
		}
		look(s, cands)
		n := len(p.filed)
		clusters[i], _ = p.assignFacts(st.ID, s.sig, s.facts, st.Published)
		if len(p.filed) > n {
			storyOf = append(storyOf, i)
		}
	}
	return clusters
}

// clusterExample is one cluster a story was judged against, with whether
// the story is of its event.
type clusterExample struct {
	x    [numClusterFeatures]float64
	same bool
	// ceiling is what model.clusterCeiling gave before the members were
	// read.
	ceiling float64
}

// clusterExamples files a set's stories in clusters by their true events
// and returns, for each story, every cluster among its candidates that
// model m judges, described by clusterFeatures.
func clusterExamples(stories []eventStory, m *model) []clusterExample {
	var out []clusterExample
	p := newPool(Options{})
	p.judge.model = m
	for _, i := range eventset.Order(stories) {
		s := stories[i]
		facts := Extract(s.Title, s.Summary)
		p.weigh(&facts)
		sig := Sign(s.Title, s.Summary)
		idx := p.candidates(sig, facts)
		if facts.norm > 0 {
			cands := make([]Candidate, len(idx))
			for n, j := range idx {
				cands[n] = p.filed[j]
			}
			var ix termIndex
			ix.index(&facts)
			prob := make([]float64, len(cands))
			judged := map[string]bool{}
			for n := range cands {
				prob[n] = -1
				c := &cands[n]
				if d := c.At.Sub(s.Published); d <= DefaultWindow && d >= -DefaultWindow && c.Facts.norm > 0 {
					prob[n] = p.judge.sameEvent(&sig, &facts, &ix, &c.Sig, &c.Facts, d)
				}
			}
			for n := range cands {
				if prob[n] >= 0 && !judged[cands[n].Cluster] {
					judged[cands[n].Cluster] = true
					g := judgedSums(n, cands, prob, s.Published)
					ceiling := m.clusterCeiling(&g, len(cands))
					g.addMembers(n, cands, &ix, &facts, s.Published, DefaultWindow)
					out = append(out, clusterExample{clusterFeatures(&facts, &g), cands[n].Cluster == s.Event, ceiling})
				}
			}
		}
		p.addFacts(sig, facts, s.Event, s.Published)
	}
	return out
}

// fitModel fits the model to sets and their pairs' examples: the pairs'
// network, then its cluster stage to the clusters of the same sets as the
// network judges them.
func fitModel(sets [][]eventStory, ex []example) *model {
	m := fit(ex)
	cx := perSet(len(sets), func(i int) []clusterExample { return clusterExamples(sets[i], m) })
	m.cluster, m.clusterBias = fitCluster(slices.Concat(cx...))
	return m
}

// perSet returns f of each of n sets, working on as many at once as
// there are CPUs.
func perSet[T any](n int, f func(i int) T) []T {
	out := make([]T, n)
	busy := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			busy <- struct{}{}
			defer func() { <-busy }()
			out[i] = f(i)
		})
	}
	wg.Wait()
	return out
}

// readModelSets reads the sets the model is fitted to, and their pairs'
// examples.
func readModelSets(t *testing.T) ([][]eventStory, [][]example) {
	t.Helper()
	var sets [][]eventStory
	for _, path := range modelSets(t) {
		sets = append(sets, readEvents(t, path))
	}
	return sets, perSet(len(sets), func(i int) []example { return examples(sets[i]) })
}

// moments returns the mean and the standard deviation (at least 1e-6) of
// each of dims features of n examples, x(i, k) being example i's feature k.
func moments(n, dims int, x func(i, k int) float64) (mu, sd []float64) {
	mu, sd = make([]float64, dims), make([]float64, dims)
	for k := range dims {
		var s, s2 float64
		for i := range n {
			s += x(i, k)
			s2 += x(i, k) * x(i, k)
		}
		mu[k] = s / float64(n)
		sd[k] = math.Max(1e-6, math.Sqrt(s2/float64(n)-mu[k]*mu[k]))
	}
	return mu, sd
}

// fitCluster fits the cluster stage, a logistic regression, by full-batch
// gradient descent on the features scaled to unit variance, and returns
// its weights with the scaling folded in.
//
//go:norace
func fitCluster(ex []clusterExample) (w [numClusterFeatures]float64, b float64) {
	const (
		steps = 2000
		rate  = 0.5
		l2    = 0.001
	)
	n := float64(len(ex))
	mu, sd := moments(len(ex), numClusterFeatures, func(i, k int) float64 { return ex[i].x[k] })
	xs := make([][numClusterFeatures]float64, len(ex))
	for i, e := range ex {
		for k := range numClusterFeatures {
			xs[i][k] = (e.x[k] - mu[k]) / sd[k]
		}
	}
	for range steps {
		var g [numClusterFeatures]float64
		var gb float64
		for i, x := range xs {
			z := b
			for k := range numClusterFeatures {
				z += w[k] * x[k]
			}
			r := 1 / (1 + math.Exp(-z))
			if ex[i].same {
				r--
			}
			for k := range numClusterFeatures {
				g[k] += r * x[k]
			}
			gb += r
		}
		for k := range numClusterFeatures {
			w[k] -= rate * (g[k]/n + l2*w[k])
		}
		b -= rate * gb / n
	}
	for k := range numClusterFeatures {
		w[k] /= sd[k]
		b -= w[k] * mu[k]
	}
	return w, b
}

// TestModel refits the model to the training sets and checks that
// model.bin is what that gives (-write-model writes it), and that the
// model reads back whole.
func TestModel(t *testing.T) {
	if _, ok := readModel(modelData); !ok && !*writeModel {
		t.Fatal("model.bin does not read as a model")
	}
	if testing.Short() && !*writeModel {
		t.Skip("fits the model to the training sets")
	}
	sets, bySet := readModelSets(t)
	ex := slices.Concat(bySet...)
	start := time.Now()
	m := fitModel(sets, ex)
	b := m.marshal()
	t.Logf("%d examples, %d words, fitted in %v", len(ex), len(m.words), time.Since(start).Round(time.Millisecond))
	if *writeModel {
		if err := os.WriteFile("model.bin", b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(b, modelData) {
		t.Fatalf("model.bin is stale (%d bytes, the training sets give %d): go test -run TestModel ./cluster/ -args -write-model", len(modelData), len(b))
	}
}

// crossFolds is the number of folds of TestModelCrossValidation.
const crossFolds = 6

// TestModelCrossValidation splits the training sets into crossFolds folds
// (set i in fold i mod crossFolds), fits the model to all the folds but one
// and clusters that one's sets with it, for each fold in turn, and prints
// the figures (go test -run ModelCrossValidation -v ./cluster/). Changes to
// the model are chosen on these figures, not on the sets that measure it.
func TestModelCrossValidation(t *testing.T) {
	if !testing.Verbose() {
		t.Skip("prints a table; run with -v")
	}
	sets := modelSets(t)
	stories, ex := readModelSets(t)
	ths := []float64{0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.575, 0.6, 0.7, 0.8}
	all := make([]pairScore, len(ths))
	para := make([]pairScore, len(ths))
	var b strings.Builder
	fmt.Fprintln(&b, "| left out | P | R | tp | fp | fn |")
	fmt.Fprintln(&b, "| --- | ---: | ---: | ---: | ---: | ---: |")
	for fold := range crossFolds {
		var train []example
		var trainSets [][]eventStory
		for j := range sets {
			if j%crossFolds != fold {
				train = append(train, ex[j]...)
				trainSets = append(trainSets, stories[j])
			}
		}
		m := fitModel(trainSets, train)
		for i := fold; i < len(sets); i += crossFolds {
			for k, th := range ths {
				es := clusterWith(stories[i], Options{FactsThreshold: th}, m).score()
				sc := es.all
				all[k].tp, all[k].fp, all[k].fn = all[k].tp+sc.tp, all[k].fp+sc.fp, all[k].fn+sc.fn
				if p := es.byKind["paraphrase"]; p != nil {
					para[k].tp, para[k].fp, para[k].fn = para[k].tp+p.tp, para[k].fp+p.fp, para[k].fn+p.fn
				}
				if th == 0.5 {
					fmt.Fprintf(&b, "| %s | %.3f | %.3f | %d | %d | %d |\n", filepath.Base(sets[i]), sc.precision(), sc.recall(), sc.tp, sc.fp, sc.fn)
				}
			}
		}
	}
	for k, th := range ths {
		a := all[k]
		fmt.Fprintf(&b, "| all at %v | %.3f | %.3f | %d | %d | %d |\n", th, a.precision(), a.recall(), a.tp, a.fp, a.fn)
		p := para[k]
		fmt.Fprintf(&b, "| paraphrases at %v | %.3f | %.3f | %d | %d | %d |\n", th, p.precision(), p.recall(), p.tp, p.fp, p.fn)
	}
	t.Log("\n" + b.String())
}

// TestClusterCeiling: the ceiling the judge reads before a cluster's
// members is never below the probability the members give, and it lets
// the judge skip many clusters (45 % of those on these two sets).
func TestClusterCeiling(t *testing.T) {
	skipped, n := 0, 0
	for _, path := range []string{"testdata/events.jsonl", "testdata/heldout24.jsonl"} {
		for _, e := range clusterExamples(readEvents(t, path), theModel) {
			if p := theModel.clusterProbability(&e.x); p > e.ceiling+1e-12 {
				t.Fatalf("%s: probability %v above the ceiling %v (%v)", path, p, e.ceiling, e.x)
			}
			if e.ceiling < DefaultFactsThreshold {
				skipped++
			}
			n++
		}
	}
	t.Logf("%d of %d clusters skipped", skipped, n)
	if skipped < n/4 {
		t.Errorf("the ceiling skips %d of %d clusters", skipped, n)
	}
}

// TestModelBytes: a model reads back as written and weighs as its
// documentation says, and bytes that are not a model (truncated, another
// magic, unsorted words) are refused.
func TestModelBytes(t *testing.T) {
	want := &model{bias: 1.5, words: []uint32{3, 7}, word: []float64{0.5, -2}, clusterBias: -0.75}
	for k := range want.weights {
		want.weights[k] = float64(k) - 6
	}
	for k := range want.cluster {
		want.cluster[k] = float64(k) / 2
	}
	for i := range 2 {
		u := unit{b: float64(i) - 0.25, out: 2 + float64(i)}
		for k := range u.w {
			u.w[k] = float64(k*i) / 4
		}
		want.hidden = append(want.hidden, u)
	}
	b := want.marshal()
	m, ok := readModel(b)
	if !ok || !reflect.DeepEqual(m, want) || m.wordWeight(7) != -2 || m.wordWeight(5) != 0 {
		t.Fatalf("read back %+v, %v", m, ok)
	}
	x := [numFeatures]float64{1, 2}
	z := want.bias - 6 - 5*2 + 2*math.Tanh(-0.25) + 3*math.Tanh(0.75+0.25*2)
	if p, q := m.probability(&x, []uint32{7, 9}), 1/(1+math.Exp(-(z-2))); math.Abs(p-q) > 1e-12 {
		t.Errorf("probability %v, want %v", p, q)
	}
	cx := [numClusterFeatures]float64{1, 0, 0, 0, 0, 0, 0, 2}
	if p, q := m.clusterProbability(&cx), 1/(1+math.Exp(-(-0.75+0+3.5*2))); math.Abs(p-q) > 1e-12 {
		t.Errorf("cluster probability %v, want %v", p, q)
	}
	for _, bad := range [][]byte{nil, b[:5], b[:60], b[:len(b)-1], append([]byte("WWM2"), b[4:]...)} {
		if _, ok := readModel(bad); ok {
			t.Errorf("%d bytes read as a model", len(bad))
		}
	}
	swapped := bytes.Clone(b)
	n := len(swapped)
	copy(swapped[n-16:n-8], b[n-8:])
	copy(swapped[n-8:], b[n-16:n-8])
	if _, ok := readModel(swapped); ok {
		t.Error("unsorted words read as a model")
	}
}

// TestTermIndex: every term of a story is found at its index, and terms it
// lacks are not, with the table as full as MaxTerms makes it.
func TestTermIndex(t *testing.T) {
	var f Facts
	for i := range MaxTerms {
		f.terms = append(f.terms, uint32(i)*uint32(4*MaxTerms)) // all in one slot
	}
	var ix termIndex
	ix.index(&f)
	for i, term := range f.terms {
		if j, ok := ix.find(term); !ok || j != i {
			t.Fatalf("term %d: index %d, %v", i, j, ok)
		}
	}
	if _, ok := ix.find(1); ok {
		t.Error("a term the story lacks was found")
	}
}

// TestPairFeaturesNeedTwoDistinctiveTerms: one shared name is a topic, not
// an event; two make the pair one the model weighs.
func TestPairFeaturesNeedTwoDistinctiveTerms(t *testing.T) {
	weigh := func(title, summary string) (Signature, Facts) {
		f := Extract(title, summary)
		f.Weigh(100, func(uint32) int64 { return 0 })
		return Sign(title, summary), f
	}
	sa, a := weigh("Zorvath Mining cuts 900 jobs in Kalgoorlie", "Zorvath Mining will cut 900 jobs at its Kalgoorlie mine.")
	sb, b := weigh("Kalgoorlie council meets", "The council of Kalgoorlie met on Monday about roads.")
	sc, c := weigh("Miner Zorvath to shed 900 workers", "Zorvath said 900 workers at Kalgoorlie would go.")
	var ix termIndex
	ix.index(&a)
	if _, _, ok := pairFeatures(&sa, &a, &ix, &sb, &b, time.Hour, nil); ok {
		t.Error("one shared place made a pair to weigh")
	}
	x, novel, ok := pairFeatures(&sa, &a, &ix, &sc, &c, time.Hour, nil)
	if !ok || x[0] <= 0 || x[1] != math.Log1p(1) {
		t.Fatalf("the rewrite: %v %v", x, ok)
	}
	if len(novel) == 0 {
		t.Error("no headline word of either story is missing from the other")
	}
}

// fit fits the model to the examples by full-batch gradient descent: the
// features scaled to unit variance, hiddenUnits hidden units started from
// small pseudo-random weights (a fixed seed: the fit is deterministic), L2
// penalties on the weights. It returns the model with the scaling folded
// in. It runs single-threaded on its own data, and
// is not instrumented for the race detector, which would slow it tenfold.
//
//go:norace
func fit(ex []example) *model {
	const (
		steps    = 3000
		rate     = 0.5
		wordRate = 2.0
		l2       = 0.001 // on the features' and the hidden units' weights
		l2Words  = 0.001
	)
	n := float64(len(ex))
	mu, sd := moments(len(ex), numFeatures, func(i, k int) float64 { return ex[i].x[k] })
	// The examples scaled, and their novel words as indexes into terms.
	xs := make([][numFeatures]float64, len(ex))
	var terms []uint32
	for i, e := range ex {
		for k := range numFeatures {
			xs[i][k] = (e.x[k] - mu[k]) / sd[k]
		}
		terms = append(terms, e.novel...)
	}
	slices.Sort(terms)
	terms = slices.Compact(terms)
	novel := make([][]int, len(ex))
	for i, e := range ex {
		for _, t := range e.novel {
			j, _ := slices.BinarySearch(terms, t)
			novel[i] = append(novel[i], j)
		}
	}
	seed := uint64(1)
	random := func() float64 {
		seed = seed*6364136223846793005 + 1442695040888963407
		return (float64(seed>>11)/(1<<53) - 0.5) * 0.6
	}
	var ws [numFeatures]float64
	var b float64
	hid, gh := make([]unit, hiddenUnits), make([]unit, hiddenUnits)
	for i := range hid {
		for k := range numFeatures {
			hid[i].w[k] = random()
		}
		hid[i].out = random()
	}
	words, gw := make([]float64, len(terms)), make([]float64, len(terms))
	act := make([]float64, hiddenUnits)
	for range steps {
		g, gb := [numFeatures]float64{}, 0.0
		clear(gw)
		clear(gh)
		for i := range ex {
			x := &xs[i]
			z := b
			for k := range numFeatures {
				z += ws[k] * x[k]
			}
			for u := range hid {
				a := hid[u].b
				for k := range numFeatures {
					a += hid[u].w[k] * x[k]
				}
				act[u] = math.Tanh(a)
				z += hid[u].out * act[u]
			}
			for _, j := range novel[i] {
				z += words[j]
			}
			r := 1 / (1 + math.Exp(-z))
			if ex[i].same {
				r--
			}
			for k := range numFeatures {
				g[k] += r * x[k]
			}
			for u := range hid {
				gh[u].out += r * act[u]
				d := r * hid[u].out * (1 - act[u]*act[u])
				gh[u].b += d
				for k := range numFeatures {
					gh[u].w[k] += d * x[k]
				}
			}
			for _, j := range novel[i] {
				gw[j] += r
			}
			gb += r
		}
		for k := range numFeatures {
			ws[k] -= rate * (g[k]/n + l2*ws[k])
		}
		for u := range hid {
			hid[u].out -= rate * (gh[u].out/n + l2*hid[u].out)
			hid[u].b -= rate * gh[u].b / n
			for k := range numFeatures {
				hid[u].w[k] -= rate * (gh[u].w[k]/n + l2*hid[u].w[k])
			}
		}
		for j := range words {
			words[j] -= wordRate * (gw[j]/n + l2Words*words[j])
		}
		b -= rate * gb / n
	}
	// Fold the scaling into the weights.
	m := &model{bias: b, words: terms, word: words}
	for k := range numFeatures {
		m.weights[k] = ws[k] / sd[k]
		m.bias -= ws[k] * mu[k] / sd[k]
	}
	for _, u := range hid {
		folded := unit{b: u.b, out: u.out}
		for k := range numFeatures {
			folded.w[k] = u.w[k] / sd[k]
			folded.b -= u.w[k] * mu[k] / sd[k]
		}
		m.hidden = append(m.hidden, folded)
	}
	return m
}
