package cluster

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/cluster/eventset"
)

var writeModel = flag.Bool("write-model", false, "refit model.bin to the training sets")

// modelSets are the sets the model is fitted to: the event set, the two
// held-out sets that chose the earlier method's settings, and the training
// sets written for the model (testdata/README.md). heldout3, heldout4 and
// heldout5 are not among them: they measure it.
func modelSets(t *testing.T) []string {
	t.Helper()
	train, err := filepath.Glob("testdata/train/*.jsonl")
	if err != nil || len(train) == 0 {
		t.Fatalf("no training sets: %v", err)
	}
	return append([]string{"testdata/events.jsonl", "testdata/heldout.jsonl", "testdata/heldout2.jsonl"}, train...)
}

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
	p := newPool(Options{})
	var filedStory []int // story of each filed entry
	for _, i := range eventset.Order(stories) {
		s := stories[i]
		facts := Extract(s.Title, s.Summary)
		p.weigh(&facts)
		sig := Sign(s.Title, s.Summary)
		var ix termIndex
		ix.index(&facts)
		seen := map[int]bool{}
		for _, k := range append(sig.Keys(), facts.Keys()...) {
			list := p.byKey[k]
			for _, j := range list[max(len(list)-PerKey, 0):] {
				c := &p.filed[j]
				d := c.At.Sub(s.Published)
				if seen[j] || d > DefaultWindow || d < -DefaultWindow || c.Facts.norm == 0 || facts.norm == 0 {
					continue
				}
				seen[j] = true
				x, novel, ok := pairFeatures(&sig, &facts, &ix, &c.Sig, &c.Facts, d, nil)
				if ok {
					out = append(out, example{x, novel, stories[filedStory[j]].Event == s.Event})
				}
			}
		}
		n := len(p.filed)
		p.assignFacts(s.ID, sig, facts, s.Published)
		if len(p.filed) > n {
			filedStory = append(filedStory, i)
		}
	}
	return out
}

// fit fits a logistic regression to the examples by full-batch gradient
// descent: the features scaled to unit variance, L2 penalties on their
// weights and (stronger, as there are many) on the words'. It returns the
// weights with the scaling folded in.
func fit(ex []example) (w [numFeatures]float64, bias float64, words map[uint32]float64) {
	const (
		steps    = 3000
		rate     = 0.5
		wordRate = 2.0
		l2       = 0.001
		l2Words  = 0.001
	)
	var mu, sd [numFeatures]float64
	n := float64(len(ex))
	for k := range numFeatures {
		var s, s2 float64
		for _, e := range ex {
			s += e.x[k]
			s2 += e.x[k] * e.x[k]
		}
		mu[k] = s / n
		sd[k] = math.Max(1e-6, math.Sqrt(s2/n-mu[k]*mu[k]))
	}
	var ws [numFeatures]float64
	words = map[uint32]float64{}
	for _, e := range ex {
		for _, t := range e.novel {
			words[t] = 0
		}
	}
	var b float64
	grad := map[uint32]float64{}
	for range steps {
		var g [numFeatures]float64
		var gb float64
		clear(grad)
		for _, e := range ex {
			z := b
			for k := range numFeatures {
				z += ws[k] * (e.x[k] - mu[k]) / sd[k]
			}
			for _, t := range e.novel {
				z += words[t]
			}
			r := 1 / (1 + math.Exp(-z))
			if e.same {
				r--
			}
			for k := range numFeatures {
				g[k] += r * (e.x[k] - mu[k]) / sd[k]
			}
			for _, t := range e.novel {
				grad[t] += r
			}
			gb += r
		}
		for k := range numFeatures {
			ws[k] -= rate * (g[k]/n + l2*ws[k])
		}
		for t, v := range words {
			words[t] = v - wordRate*(grad[t]/n+l2Words*v)
		}
		b -= rate * gb / n
	}
	bias = b
	for k := range numFeatures {
		w[k] = ws[k] / sd[k]
		bias -= ws[k] * mu[k] / sd[k]
	}
	return w, bias, words
}

// TestModel refits the model to the training sets and checks that
// model.bin is what that gives (-write-model writes it), and that the
// model reads back whole.
func TestModel(t *testing.T) {
	if _, ok := readModel(modelData); !ok {
		t.Fatal("model.bin does not read as a model")
	}
	if testing.Short() && !*writeModel {
		t.Skip("fits the model to the training sets")
	}
	var ex []example
	for _, path := range modelSets(t) {
		ex = append(ex, examples(readEvents(t, path))...)
	}
	start := time.Now()
	w, bias, words := fit(ex)
	b := marshalModel(w, bias, words)
	t.Logf("%d examples, %d words, fitted in %v", len(ex), len(words), time.Since(start).Round(time.Millisecond))
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

// TestModelBytes: a model reads back as written, and bytes that are not a
// model (truncated, another magic, unsorted words) are refused.
func TestModelBytes(t *testing.T) {
	var w [numFeatures]float64
	for k := range w {
		w[k] = float64(k) - 6
	}
	b := marshalModel(w, 1.5, map[uint32]float64{7: -2, 3: 0.5})
	m, ok := readModel(b)
	if !ok || m.bias != 1.5 || m.weights[0] != -6 || m.wordWeight(7) != -2 || m.wordWeight(3) != 0.5 || m.wordWeight(5) != 0 {
		t.Fatalf("read back %+v, %v", m, ok)
	}
	for _, bad := range [][]byte{nil, b[:5], b[:len(b)-1], append([]byte("WWM2"), b[4:]...)} {
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
