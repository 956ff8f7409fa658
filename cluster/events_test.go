package cluster

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wirewatch/wirewatch/cluster/eventset"
)

// eventStory is one story of an event set (testdata/README.md).
type eventStory = eventset.Story

func readEvents(t testing.TB, path string) []eventStory {
	t.Helper()
	out, err := eventset.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// eventRun is the outcome of clustering the event set once.
type eventRun struct {
	stories  []eventStory
	clusters []string
	verdicts []Verdict
}

// clusterEvents assigns the stories to a pool in order of publication.
func clusterEvents(stories []eventStory, o Options) eventRun {
	return clusterWith(stories, o, nil)
}

// clusterWith is clusterEvents with the judge using model m (nil: the
// shipped one).
func clusterWith(stories []eventStory, o Options, m *model) eventRun {
	order := eventset.Order(stories)
	p := newPool(o)
	if m != nil {
		p.judge.model = m
	}
	r := eventRun{stories: stories, clusters: make([]string, len(stories)), verdicts: make([]Verdict, len(stories))}
	for _, i := range order {
		s := stories[i]
		r.clusters[i], r.verdicts[i] = p.assignStory(s.ID, s.Title, s.Summary, s.Published)
	}
	return r
}

// eventScore is the pairwise score overall and by the kind of the event: a
// pair wrongly put together counts against the kind of the event that is
// not a near miss (the first story's when neither is one); nearFP counts
// the wrong pairs with a near miss in them.
type eventScore struct {
	all    pairScore
	byKind map[string]*pairScore
	nearFP int
	wrong  [][2]int
	missed [][2]int
}

func (r eventRun) score() eventScore {
	sc := eventScore{byKind: map[string]*pairScore{}}
	kind := func(k string) *pairScore {
		if sc.byKind[k] == nil {
			sc.byKind[k] = &pairScore{}
		}
		return sc.byKind[k]
	}
	st := r.stories
	for i := range st {
		for j := i + 1; j < len(st); j++ {
			same, together := st[i].Event == st[j].Event, r.clusters[i] == r.clusters[j]
			switch {
			case same && together:
				sc.all.tp++
				kind(st[i].Kind).tp++
			case together:
				sc.all.fp++
				sc.wrong = append(sc.wrong, [2]int{i, j})
				k := st[i].Kind
				if k == "near" {
					k = st[j].Kind
				}
				kind(k).fp++
				if st[i].Kind == "near" || st[j].Kind == "near" {
					sc.nearFP++
				}
			case same:
				sc.all.fn++
				kind(st[i].Kind).fn++
				sc.missed = append(sc.missed, [2]int{i, j})
			}
		}
	}
	return sc
}

// TestEvents holds the clustering to the goal on the hand-written
// event set: pairwise precision ≥ 0.95 and recall ≥ 0.9.
func TestEvents(t *testing.T) {
	sc := reportEvents(t, "testdata/events.jsonl", Options{})
	if sc.all.precision() < 0.95 {
		t.Errorf("precision %.3f < 0.95", sc.all.precision())
	}
	if sc.all.recall() < 0.9 {
		t.Errorf("recall %.3f < 0.9", sc.all.recall())
	}
}

// TestHeldOut scores the clustering on the held-out sets, each written by
// someone who had not seen the method (testdata/README.md). Each was first
// scored blind; heldout.jsonl and heldout2.jsonl were then used with
// events.jsonl to tune the method, and heldout.jsonl to heldout27.jsonl
// are among the sets the same-event model is fitted to (modelSets);
// heldout28.jsonl to heldout51.jsonl measure it. Not all reach the goal
// (precision 0.95 and recall 0.9 on every set: docs/PERFORMANCE.md). The
// test holds each to a floor under the figures it gave: a change that
// loses much on stories it was not made for fails.
func TestHeldOut(t *testing.T) {
	for _, set := range []struct {
		path              string
		precision, recall float64
	}{
		{"testdata/heldout.jsonl", 0.9, 0.85},
		{"testdata/heldout2.jsonl", 0.9, 0.9},
		{"testdata/heldout3.jsonl", 0.85, 0.85},
		// Most of its near misses are same-day reactions that name the
		// event's company and place: the facts join them.
		{"testdata/heldout4.jsonl", 0.6, 0.85},
		// Written after the rest; a third of its paraphrases put a headline
		// in another language or an amount in another currency or unit.
		{"testdata/heldout5.jsonl", 0.7, 0.75},
		// Written with the last six training sets and scored once, blind
		// (heldout6 and heldout7), or written after the model was chosen
		// and scored once (heldout8 to heldout11): most of their
		// paraphrases share no more than a name or two.
		{"testdata/heldout6.jsonl", 0.85, 0.65},
		{"testdata/heldout7.jsonl", 0.9, 0.6},
		{"testdata/heldout8.jsonl", 0.9, 0.65},
		{"testdata/heldout9.jsonl", 0.85, 0.65},
		{"testdata/heldout10.jsonl", 0.85, 0.7},
		{"testdata/heldout11.jsonl", 0.9, 0.65},
		// Written while the word vectors were added, scored once with the
		// model before them and once with it after (heldout12 to
		// heldout15): harder still, a sixth to a third of their
		// paraphrase pairs found.
		{"testdata/heldout12.jsonl", 0.8, 0.6},
		{"testdata/heldout13.jsonl", 0.8, 0.6},
		{"testdata/heldout14.jsonl", 0.85, 0.7},
		{"testdata/heldout15.jsonl", 0.85, 0.6},
		// Written while a cluster came to be judged as a whole, scored
		// once with the judge before that and once after (heldout16 to
		// heldout19).
		{"testdata/heldout16.jsonl", 0.95, 0.65},
		{"testdata/heldout17.jsonl", 0.85, 0.55},
		{"testdata/heldout18.jsonl", 0.9, 0.7},
		{"testdata/heldout19.jsonl", 0.95, 0.6},
		// Written at the same time by eight more writers and scored once
		// with each judge when it had been chosen: the last blind figures
		// (heldout20 to heldout27).
		{"testdata/heldout20.jsonl", 0.95, 0.55},
		{"testdata/heldout21.jsonl", 0.85, 0.55},
		{"testdata/heldout22.jsonl", 0.95, 0.7},
		{"testdata/heldout23.jsonl", 0.95, 0.65},
		{"testdata/heldout24.jsonl", 0.95, 0.7},
		{"testdata/heldout25.jsonl", 0.85, 0.55},
		{"testdata/heldout26.jsonl", 0.9, 0.7},
		{"testdata/heldout27.jsonl", 0.9, 0.6},
		// Written while the cluster stage was added, scored once with the
		// judge before it and once after (heldout28 to heldout31).
		{"testdata/heldout28.jsonl", 0.9, 0.7},
		{"testdata/heldout29.jsonl", 0.95, 0.65},
		{"testdata/heldout30.jsonl", 0.85, 0.55},
		{"testdata/heldout31.jsonl", 0.85, 0.65},
		// Written at the same time by four more writers and scored once
		// with each judge when the cluster stage had been chosen: the
		// last blind figures (heldout32 to heldout35).
		{"testdata/heldout32.jsonl", 0.9, 0.55},
		{"testdata/heldout33.jsonl", 0.85, 0.6},
		{"testdata/heldout34.jsonl", 0.9, 0.6},
		{"testdata/heldout35.jsonl", 0.8, 0.65},
		// Written while the model was refitted to heldout3 to heldout27,
		// and scored once with the model before and once after: the last
		// blind figures (heldout36 to heldout39).
		{"testdata/heldout36.jsonl", 0.95, 0.65},
		{"testdata/heldout37.jsonl", 0.95, 0.65},
		{"testdata/heldout38.jsonl", 0.95, 0.6},
		{"testdata/heldout39.jsonl", 0.95, 0.65},
		// Written when the round had been chosen and scored once with
		// each model (heldout40 to heldout43).
		{"testdata/heldout40.jsonl", 0.95, 0.65},
		{"testdata/heldout41.jsonl", 0.95, 0.65},
		{"testdata/heldout42.jsonl", 0.95, 0.55},
		{"testdata/heldout43.jsonl", 0.95, 0.6},
		// Written while rare words came to count as distinctive terms,
		// and scored once with the judge before and after (heldout44 to
		// heldout51; docs/PERFORMANCE.md, "The seventh round").
		{"testdata/heldout44.jsonl", 0.95, 0.7},
		{"testdata/heldout45.jsonl", 0.95, 0.65},
		{"testdata/heldout46.jsonl", 0.95, 0.65},
		{"testdata/heldout47.jsonl", 0.95, 0.65},
		{"testdata/heldout48.jsonl", 0.95, 0.6},
		{"testdata/heldout49.jsonl", 0.95, 0.7},
		{"testdata/heldout50.jsonl", 0.95, 0.65},
		{"testdata/heldout51.jsonl", 0.95, 0.65},
		// Written in the ninth round with a prompt that asks for every
		// version of an event to be a report of it (heldout52 to
		// heldout59; docs/PERFORMANCE.md, "The ninth round"), and scored
		// once with each judge tried.
		{"testdata/heldout52.jsonl", 0.95, 0.9},
		{"testdata/heldout53.jsonl", 0.95, 0.75},
		{"testdata/heldout54.jsonl", 0.95, 0.9},
		{"testdata/heldout55.jsonl", 0.95, 0.8},
		{"testdata/heldout56.jsonl", 0.95, 0.8},
		{"testdata/heldout57.jsonl", 0.95, 0.7},
		{"testdata/heldout58.jsonl", 0.95, 0.85},
		{"testdata/heldout59.jsonl", 0.95, 0.8},
	} {
		t.Run(set.path, func(t *testing.T) {
			sc := reportEvents(t, set.path, Options{})
			if sc.all.precision() < set.precision {
				t.Errorf("precision %.3f < %.2f", sc.all.precision(), set.precision)
			}
			if sc.all.recall() < set.recall {
				t.Errorf("recall %.3f < %.2f", sc.all.recall(), set.recall)
			}
		})
	}
}

// reportEvents clusters an event set and logs its score: overall, by kind,
// the wrong pairs, and with -v the missed ones.
func reportEvents(t *testing.T, path string, o Options) eventScore {
	t.Helper()
	r := clusterEvents(readEvents(t, path), o)
	sc := r.score()
	t.Logf("%d stories: precision %.3f, recall %.3f (tp %d, fp %d, fn %d)",
		len(r.stories), sc.all.precision(), sc.all.recall(), sc.all.tp, sc.all.fp, sc.all.fn)
	for _, k := range []string{"syndicated", "rewrite", "paraphrase"} {
		if s := sc.byKind[k]; s != nil {
			t.Logf("%s: precision %.3f, recall %.3f (%d of %d pairs; %d wrong pairs)", k, s.precision(), s.recall(), s.tp, s.tp+s.fn, s.fp)
		}
	}
	t.Logf("wrong pairs with a near miss in them: %d", sc.nearFP)
	st := r.stories
	for _, w := range sc.wrong {
		a, b := st[w[0]], st[w[1]]
		t.Logf("wrongly joined: %s %q / %s %q", a.ID, a.Title, b.ID, b.Title)
	}
	if testing.Verbose() {
		for _, m := range sc.missed {
			a, b := st[m[0]], st[m[1]]
			t.Logf("missed: %s %q / %s %q", a.ID, a.Title, b.ID, b.Title)
		}
	}
	return sc
}

// TestEventsThresholds prints precision and recall on the event set across
// FactsThreshold and GapHalving (go test -run EventsThresholds -v
// ./cluster/), the tables in docs/PERFORMANCE.md.
func TestEventsThresholds(t *testing.T) {
	if !testing.Verbose() {
		t.Skip("prints a table; run with -v")
	}
	stories := readEvents(t, "testdata/events.jsonl")
	labelled := readLabelled(t, "testdata/labelled.jsonl")
	var b strings.Builder
	row := func(label string, o Options) {
		sc := clusterEvents(stories, o).score()
		k := func(name string) string {
			s := sc.byKind[name]
			if s == nil {
				return "-"
			}
			return fmt.Sprintf("%.3f / %.3f", s.precision(), s.recall())
		}
		old, _ := score(labelled, clusterAll(labelled, o))
		fmt.Fprintf(&b, "| %s | %.3f | %.3f | %d | %d | %d | %s | %s | %s | %d | %.3f / %.3f |\n", label,
			sc.all.precision(), sc.all.recall(), sc.all.tp, sc.all.fp, sc.all.fn,
			k("syndicated"), k("rewrite"), k("paraphrase"), sc.nearFP, old.precision(), old.recall())
	}
	head := "| P | R | tp | fp | fn | syndicated P / R | rewrite P / R | paraphrase P / R | fp pairs with a near miss | old set P / R |\n"
	fmt.Fprint(&b, "| FactsThreshold "+head)
	fmt.Fprintln(&b, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	row("off (signature only)", Options{FactsThreshold: -1})
	for _, th := range thresholdRows {
		row(fmt.Sprintf("%v", th), Options{FactsThreshold: th})
	}
	t.Log("\n" + b.String())
}

// thresholdRows are the FactsThreshold rows of the tables.
var thresholdRows = []float64{0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.575, 0.6, 0.7, 0.8, 0.9}

// TestHeldOutThresholds prints precision and recall on the held-out sets
// across FactsThreshold (go test -run HeldOutThresholds -v ./cluster/).
func TestHeldOutThresholds(t *testing.T) {
	if !testing.Verbose() {
		t.Skip("prints a table; run with -v")
	}
	groups := []struct {
		name string
		sets []int // heldout numbers; 1 is heldout.jsonl
	}{
		{"heldout, heldout2", []int{1, 2}},
		{"heldout3–7", []int{3, 4, 5, 6, 7}},
		{"heldout8–11", []int{8, 9, 10, 11}},
		{"heldout12–15", []int{12, 13, 14, 15}},
		{"heldout16–19", []int{16, 17, 18, 19}},
		{"heldout20–23", []int{20, 21, 22, 23}},
		{"heldout24–27", []int{24, 25, 26, 27}},
		{"heldout28–31", []int{28, 29, 30, 31}},
		{"heldout32–35", []int{32, 33, 34, 35}},
		{"heldout36–39", []int{36, 37, 38, 39}},
		{"heldout40–43", []int{40, 41, 42, 43}},
		{"heldout44–47", []int{44, 45, 46, 47}},
		{"heldout48–51", []int{48, 49, 50, 51}},
		{"heldout52–55", []int{52, 53, 54, 55}},
		{"heldout56–59", []int{56, 57, 58, 59}},
	}
	ths := append([]float64{-1}, thresholdRows...)
	var b strings.Builder
	fmt.Fprint(&b, "| set | off (signature only) |")
	for _, th := range thresholdRows {
		fmt.Fprintf(&b, " %v |", th)
	}
	fmt.Fprint(&b, "\n| --- |"+strings.Repeat(" ---: |", len(ths))+"\n")
	var pooled []string
	for _, g := range groups {
		sums := make([]pairScore, len(ths))
		for _, n := range g.sets {
			path := "testdata/heldout.jsonl"
			if n > 1 {
				path = fmt.Sprintf("testdata/heldout%d.jsonl", n)
			}
			stories := readEvents(t, path)
			fmt.Fprintf(&b, "| %s |", filepath.Base(path))
			for k, th := range ths {
				sc := clusterEvents(stories, Options{FactsThreshold: th}).score().all
				sums[k].tp, sums[k].fp, sums[k].fn = sums[k].tp+sc.tp, sums[k].fp+sc.fp, sums[k].fn+sc.fn
				fmt.Fprintf(&b, " %.3f / %.3f |", sc.precision(), sc.recall())
			}
			fmt.Fprintln(&b)
		}
		row := fmt.Sprintf("| %s pooled |", g.name)
		for _, sc := range sums {
			row += fmt.Sprintf(" %.3f / %.3f |", sc.precision(), sc.recall())
		}
		pooled = append(pooled, row)
	}
	fmt.Fprintln(&b, strings.Join(pooled, "\n"))
	t.Log("\n" + b.String())
}

// versionFate is what became of one version of an event, after the event's
// first, when it was assigned.
type versionFate int

// The fates of a version: it joined a cluster of its event's earlier
// versions; or it did not, because none of them was its candidate (no
// shared key), or none of those shares two distinctive terms with it and
// its signature matched none (the model never judged them), or the model
// judged them and they fell short of the threshold, or it joined another
// event's cluster.
const (
	joinedEvent versionFate = iota
	noSharedKey
	notJudged
	belowThreshold
	joinedOther
	numFates
)

// versionFates assigns a set's stories as clusterEvents does and counts,
// by the kind of each event, the fates of its versions after the first.
func versionFates(stories []eventStory, o Options) map[string]*[numFates]int {
	p := newPool(o)
	fates := make([]versionFate, len(stories))
	clusters := assignSet(p, stories, func(s *setStory, cands []filedStory) {
		fates[s.i] = noSharedKey
		for _, c := range cands {
			if stories[c.story].Event != stories[s.i].Event {
				continue
			}
			fates[s.i] = max(fates[s.i], notJudged)
			if matches(&s.sig, &c.Sig) >= p.judge.need || c.Facts.norm > 0 && s.facts.norm > 0 && s.ix.sharesStrong(&s.facts, &c.Facts) {
				fates[s.i] = belowThreshold
			}
		}
	})
	out := map[string]*[numFates]int{}
	seen := map[string][]int{}
	for _, i := range eventset.Order(stories) {
		s := stories[i]
		earlier := seen[s.Event]
		seen[s.Event] = append(earlier, i)
		if s.Kind == "near" || len(earlier) == 0 {
			continue
		}
		fate := fates[i]
		if clusters[i] != s.ID {
			fate = joinedOther
		}
		for _, e := range earlier {
			if clusters[e] == clusters[i] {
				fate = joinedEvent
			}
		}
		if out[s.Kind] == nil {
			out[s.Kind] = &[numFates]int{}
		}
		out[s.Kind][fate]++
	}
	return out
}

// TestWhereVersionsAreLost prints, for the sets no model is fitted to, what
// became of each version of an event after its first: whether it joined
// its event's cluster and, if not, why (versionFates). A better judge of
// the pairs it sees can win back only the last column (go test -run
// WhereVersionsAreLost -v ./cluster/).
func TestWhereVersionsAreLost(t *testing.T) {
	if !testing.Verbose() {
		t.Skip("prints a table; run with -v")
	}
	var b strings.Builder
	fmt.Fprintln(&b, "| sets | kind | versions | joined | no shared key | not judged | judged, below the threshold | joined another event |")
	fmt.Fprintln(&b, "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
	for from := lastFittedSet + 1; ; from += 8 {
		var paths []string
		for n := from; n < from+8; n++ {
			if path := fmt.Sprintf("testdata/heldout%d.jsonl", n); fileExists(path) {
				paths = append(paths, path)
			}
		}
		if len(paths) == 0 {
			break
		}
		sums := map[string]*[numFates]int{}
		for _, fates := range perSet(len(paths), func(i int) map[string]*[numFates]int {
			return versionFates(readEvents(t, paths[i]), Options{})
		}) {
			for k, f := range fates {
				if sums[k] == nil {
					sums[k] = &[numFates]int{}
				}
				for x, c := range f {
					sums[k][x] += c
				}
			}
		}
		for _, k := range []string{"syndicated", "rewrite", "paraphrase"} {
			f := sums[k]
			if f == nil {
				continue
			}
			all := 0
			for _, c := range f {
				all += c
			}
			fmt.Fprintf(&b, "| heldout%d–%d | %s | %d | %d | %d | %d | %d | %d |\n", from, from+len(paths)-1, k, all,
				f[joinedEvent], f[noSharedKey], f[notJudged], f[belowThreshold], f[joinedOther])
		}
	}
	t.Log("\n" + b.String())
}

// fileExists reports whether a file can be read.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
