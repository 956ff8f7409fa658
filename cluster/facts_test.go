package cluster

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/cluster/eventset"
)

// termsOf returns the texts of a story's facts of one kind, sorted.
func termsOf(f Facts, kind Kind) []string {
	var out []string
	for i, k := range f.kinds {
		if k.base() == kind && !k.rough() {
			out = append(out, f.texts[i])
		}
	}
	slices.Sort(out)
	return out
}

func TestExtractNumbers(t *testing.T) {
	tests := []struct {
		a, b string // one number written two ways
	}{
		{"1,150 jobs", "1150 jobs"},
		{"$1.2 billion", "1.2bn"},
		{"€340m fine", "340 million euros"},
		{"9.50%", "9.5 percent"},
		{"SKr520mn penalty", "520 million crowns"},
		{"US$58bn in orders", "58 billion dollars"},
		{"fourteen dead", "14 dead"},
		{"twenty-two hurt", "22 hurt"},
		{"half a billion barrels", "500 million barrels"},
		{"a dozen killed", "12 killed"},
		{"200k tonnes", "200,000 tonnes"},
		// Decimal commas, and dots that group thousands before the scale
		// words of languages that write numbers so.
		{"1,4 milliard d'euros", "1.4 billion euros"},
		{"US$1.200 millones", "$1.2 billion"},
		{"3,9 Milliarden Euro", "3.9bn euros"},
		{"40,2 %", "40.2%"},
		{"1.234,5 tonnes", "1,234.5 tonnes"},
		{"1.234.567 votes", "1,234,567 votes"},
		{"R$ 2,5 bilhões", "2.5 billion reais"},
		{"10 lakh tonnes", "1 million tonnes"},
		{"Rs 4,000 crore", "Rs 40 billion"},
	}
	for _, tt := range tests {
		a, b := Extract("", tt.a), Extract("", tt.b)
		na, nb := numberTerms(a), numberTerms(b)
		if len(na) == 0 || !slices.Equal(na, nb) {
			t.Errorf("numbers of %q = %v, of %q = %v; want one equal number", tt.a, na, tt.b, nb)
		}
	}
	for _, text := range []string{"737MAX", "h20 chips", "1.2.3 release", "1,23,4 units", "1.2,3.4 mixed"} {
		if n := numberTerms(Extract("", text)); len(n) != 0 {
			t.Errorf("numbers of %q = %v, want none", text, n)
		}
	}
}

// numberTerms returns the hashes of the numeric terms (the keys start "#").
func numberTerms(f Facts) []uint32 {
	var out []uint32
	for i, text := range f.texts {
		if (f.kinds[i].base() == Number || isDigitStart(text)) && !f.kinds[i].rough() && f.terms[i] != 0 {
			out = append(out, f.terms[i])
		}
	}
	slices.Sort(out)
	return out
}

func isDigitStart(s string) bool {
	for _, r := range s {
		return r >= '0' && r <= '9' || r == '$' || r == '€'
	}
	return false
}

func TestExtractKinds(t *testing.T) {
	f := Extract("Boeing supplier Tarrant Aero to lay off 900 workers in Wichita",
		"The aircraft parts maker Tarrant Aerostructures will lay off about 900 employees at its Wichita, Kansas, plant from May.")
	if got, want := termsOf(f, Name), []string{"Aero", "Aerostructures", "Boeing", "Kansas", "Tarrant", "Wichita"}; !slices.Equal(got, want) {
		t.Errorf("names %v, want %v", got, want)
	}
	if got := termsOf(f, Number); !slices.Equal(got, []string{"900"}) {
		t.Errorf("numbers %v, want [900]", got)
	}
	// In a Title Case headline a capital says nothing: the summary decides.
	g := Extract("Storm Knocks Out Power To 250,000 In Ireland", "Storm Ingrid hit Ireland on Tuesday.")
	if got := termsOf(g, Name); !slices.Contains(got, "Ireland") || slices.Contains(got, "Power") {
		t.Errorf("names of a Title Case headline: %v", got)
	}
	// Years, days of the month and small counts weigh as words.
	h := Extract("", "On Oct. 12-18 of 2026, 3 people and 4,000 others")
	if got := termsOf(h, Number); !slices.Equal(got, []string{"4,000"}) {
		t.Errorf("numbers %v, want [4,000]", got)
	}
}

func TestFactsRoundTrip(t *testing.T) {
	f := Extract("Hoshino Electric to buy Crestline for $6.8 billion", "Japan's Hoshino Electric agreed on Sunday to buy Crestline Semiconductor.")
	f.Weigh(100, func(uint32) int64 { return 1 })
	b, err := f.MarshalBinary()
	if err != nil || len(b) != FactsSize(f.Len()) {
		t.Fatalf("marshal: %d bytes, %v", len(b), err)
	}
	var back Facts
	if err := back.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.terms, f.terms) || !slices.Equal(back.weights, f.weights) || !slices.Equal(back.kinds, f.kinds) || back.norm != f.norm {
		t.Errorf("round trip changed the facts")
	}
	if !slices.Equal(back.Keys(), f.Keys()) || len(f.Keys()) == 0 {
		t.Errorf("keys %v after a round trip, %v before", back.Keys(), f.Keys())
	}
	if !slices.Equal(back.gist, f.gist) || len(f.gist) != gistSize || !slices.ContainsFunc(f.gist, func(x int8) bool { return x != 0 }) {
		t.Errorf("gist %v after a round trip, %v before", back.gist, f.gist)
	}
	// Facts stored before they had a gist read, and get it again.
	old := b[:len(b)-gistSize]
	if err := back.UnmarshalBinary(old); err != nil || !slices.Equal(back.gist, f.gist) {
		t.Errorf("facts without a gist: %v, gist %v", err, back.gist)
	}
	badKind := slices.Clone(b)
	badKind[8+7*(f.Len()-1)] = 0xff
	for _, bad := range [][]byte{nil, {1}, {1, 0, 1, 2, 3}, badKind, b[:len(b)-1], append(slices.Clone(b), 0)} {
		if back.UnmarshalBinary(bad) == nil {
			t.Errorf("UnmarshalBinary(%v) accepted", bad)
		}
	}
}

// TestFactsKeysPreferTheHeadlinesNames: the keys are a story's most
// telling terms — a headline's name before a summary's name as rare, and a
// name before a number as rare though the number weighs more — so that two
// outlets that write the amount differently still share the names they
// are filed under.
func TestFactsKeysPreferTheHeadlinesNames(t *testing.T) {
	f := Extract("Zorvath and Kalgoorlie: Quellin signs deal",
		"Quellin agreed with Zorvath and Mirabel on 4,317 tonnes of 8,921 and 6,143 and 2,777 at Tarrant.")
	f.Weigh(1000, func(uint32) int64 { return 0 }) // every term as rare
	keys := f.Keys()
	if len(keys) != TermKeys {
		t.Fatalf("%d keys, want %d", len(keys), TermKeys)
	}
	key := func(text string) uint64 {
		for i, x := range f.texts {
			if x == text {
				return uint64(termKeyTag)<<56 | uint64(f.terms[i])
			}
		}
		t.Fatalf("no term %q in %v", text, f.texts)
		return 0
	}
	for _, name := range []string{"Zorvath", "Kalgoorlie", "Quellin"} {
		if !slices.Contains(keys, key(name)) {
			t.Errorf("the headline's name %s is not a key", name)
		}
	}
	if slices.Contains(keys, key("Tarrant")) == slices.Contains(keys, key("Mirabel")) {
		t.Error("want one of the summary's names as the last key (the smaller hash)")
	}
	for _, n := range []string{"4,317", "8,921", "6,143", "2,777"} {
		if slices.Contains(keys, key(n)) {
			t.Errorf("the number %s is a key before a name as rare", n)
		}
	}
}

// layoffs and layoffsRewrite are one event told by two outlets in their
// own words.
var (
	layoffs = story{"orig", "Boeing supplier Tarrant Aero to lay off 900 workers in Wichita",
		"The aircraft parts maker Tarrant Aerostructures will lay off about 900 employees at its Wichita, Kansas, plant from May, citing lower production rates on Boeing's 737 program."}
	layoffsRewrite = story{"rewrite", "Tarrant to shed roughly 900 jobs at its Wichita plant as 737 output slows",
		"Workers at the fuselage supplier learned Saturday that cuts begin in May; the company pointed to Boeing building fewer of its best-selling jets."}
)

// TestDecideByFacts: a rewrite in other words joins by its names and
// numbers; a follow-up a day later with its own headline fact does not, and
// neither does the same rewrite when the facts are off.
func TestDecideByFacts(t *testing.T) {
	p := newPool(Options{})
	orig, rewrite := layoffs, layoffsRewrite
	later := story{"later", "Tarrant Aerostructures union calls strike vote over layoffs",
		"The machinists union at Tarrant Aerostructures in Wichita will hold a strike vote next week over how the company is carrying out 900 layoffs."}
	p.assignStory(orig.id, orig.title, orig.summary, t0)
	c, v := p.assignStory(rewrite.id, rewrite.title, rewrite.summary, t0.Add(3*time.Hour))
	if c != "orig" || !v.ByFacts {
		t.Errorf("rewrite: cluster %q, %+v; want orig, by facts", c, v)
	}
	if why := p.why["rewrite"]; !slices.Contains(why, "900") || !slices.Contains(why, "Wichita") {
		t.Errorf("rewrite joined for %v, want 900 and Wichita among them", why)
	}
	if c, _ := p.assignStory(later.id, later.title, later.summary, t0.Add(72*time.Hour)); c != "later" {
		t.Errorf("follow-up three days later joined %q", c)
	}
	off := newPool(Options{FactsThreshold: -1})
	off.assignStory(orig.id, orig.title, orig.summary, t0)
	if c, _ := off.assignStory(rewrite.id, rewrite.title, rewrite.summary, t0.Add(3*time.Hour)); c != "rewrite" {
		t.Errorf("facts off: rewrite joined %q", c)
	}
}

// TestDecideJudgesTheCluster: a story joins a cluster by its facts when it
// is one event with the cluster's stories together, not with the closest
// one alone. The aftershock hours after a quake names the city, the
// country and the quake, as the quake's wire story does, and the model
// gives that pair more than the threshold; judged against the quake's four
// versions together, it stays out.
func TestDecideJudgesTheCluster(t *testing.T) {
	var stories []eventStory
	for _, s := range readEvents(t, "testdata/heldout30.jsonl") {
		if s.Event == "h30e002" || s.ID == "h30n003" {
			stories = append(stories, s)
		}
	}
	if len(stories) != 5 {
		t.Fatalf("%d stories, want the quake's four versions and the aftershock", len(stories))
	}
	for _, alone := range []bool{false, true} {
		p := newPool(Options{})
		p.alone = alone
		got := map[string]string{}
		for _, i := range eventset.Order(stories) {
			s := stories[i]
			got[s.ID], _ = p.assignStory(s.ID, s.Title, s.Summary, s.Published)
		}
		for _, id := range []string{"h30e002b", "h30e002c", "h30e002d"} {
			if got[id] != "h30e002a" {
				t.Errorf("alone %v: version %s went to %q, want h30e002a", alone, id, got[id])
			}
		}
		want := "h30n003"
		if alone {
			want = "h30e002a"
		}
		if got["h30n003"] != want {
			t.Errorf("alone %v: the aftershock went to %q, want %q", alone, got["h30n003"], want)
		}
	}
}

// TestDecideGroupsByCluster: candidates are judged by their facts in
// groups of one cluster id, each with an empty id alone, and the verdict
// names the group's candidate the model finds closest — also past the
// 64 candidates that Decide keeps on its stack.
func TestDecideGroupsByCluster(t *testing.T) {
	p := newPool(Options{})
	orig, rewrite := layoffs, layoffsRewrite
	other := story{"other", "Heavy rain floods streets of Jakarta",
		"Monsoon downpours flooded parts of the Indonesian capital on Tuesday, stranding commuters."}
	p.assignStory(orig.id, orig.title, orig.summary, t0)
	p.assignStory(other.id, other.title, other.summary, t0)
	near, far := p.filed[0], p.filed[1]
	facts := Extract(rewrite.title, rewrite.summary)
	p.weigh(&facts)
	sig := Sign(rewrite.title, rewrite.summary)
	at := t0.Add(3 * time.Hour)
	j := NewJudge(Options{})
	with := func(c Candidate, cluster string) Candidate {
		c.Cluster = cluster
		return c
	}
	for _, tt := range []struct {
		name  string
		cands []Candidate
		want  int // the candidate named, -1 none
	}{
		{"one cluster of 70", slices.Repeat([]Candidate{with(near, "c1")}, 70), 0},
		{"the event past 69 others", append(slices.Repeat([]Candidate{with(far, "c2")}, 69), with(near, "c1")), 69},
		{"unrelated stories alone", slices.Repeat([]Candidate{with(far, "")}, 3), -1},
		{"with an unrelated member", []Candidate{with(far, "c1"), with(near, "c1")}, 1},
		// Too far back to count.
		{"out of the window", []Candidate{with(Candidate{Sig: near.Sig, Facts: near.Facts, At: at.Add(-j.Window() - time.Hour)}, "c1")}, -1},
	} {
		v := j.Decide(&sig, &facts, at, tt.cands)
		if v.Index != tt.want || v.Index >= 0 && !v.ByFacts {
			t.Errorf("%s: %+v, want candidate %d by facts", tt.name, v, tt.want)
		}
	}
	// A candidate that shares too little to be judged counts among its
	// cluster's members and in what they have of the new story, not in the
	// probabilities; copies of one candidate give its own probability.
	side := story{"side", "Fuselage makers see slower jet orders",
		"Makers of fuselage sections said on Saturday that orders for jets had slowed."}
	p.assignStory(side.id, side.title, side.summary, t0)
	var ix termIndex
	ix.index(&facts)
	pNear := j.sameEvent(&sig, &facts, &ix, &near.Sig, &near.Facts, near.At.Sub(at))
	sideCand := p.filed[2]
	if q := j.sameEvent(&sig, &facts, &ix, &sideCand.Sig, &sideCand.Facts, sideCand.At.Sub(at)); q >= 0 {
		t.Fatalf("the side story was judged (%v); it must share too little", q)
	}
	nearHas, sideHas := cover(&ix, &facts, &near.Facts), cover(&ix, &facts, &sideCand.Facts)
	if sideHas&^nearHas == 0 {
		t.Fatal("the side story has nothing of the rewrite that the original lacks")
	}
	cands := []Candidate{with(sideCand, "c1"), with(far, "c2"), with(near, "c1")}
	g := gatherCluster(2, cands, []float64{-1, -1, pNear}, &ix, &facts, at, j.Window())
	if g.n != 1 || g.members != 2 || g.sum != pNear || g.top != pNear || g.best != 2 || g.covered != nearHas|sideHas || g.gap != 3 {
		t.Errorf("with a member not judged: %+v, want 1 judged of 2, probability %v, covered %b", g, pNear, nearHas|sideHas)
	}
	copies := slices.Repeat([]Candidate{with(near, "c1")}, 70)
	prob := slices.Repeat([]float64{pNear}, 70)
	if g := gatherCluster(0, copies, prob, &ix, &facts, at, j.Window()); math.Abs(g.sum/float64(g.n)-pNear) > 1e-12 || g.n != 70 || g.members != 70 || g.covered != nearHas {
		t.Errorf("70 copies: %+v", g)
	}
}

// TestRoughAmounts: an amount given roughly meets the exact amounts it
// rounds, whichever story says it; two exact amounts meet only when equal,
// however close.
func TestRoughAmounts(t *testing.T) {
	weigh := func(title, summary string) Facts {
		f := Extract(title, summary)
		f.Weigh(1000, func(uint32) int64 { return 1 })
		return f
	}
	shared := func(a, b Facts) []string { return Shared(&a, &b, 10) }
	exact := weigh("Painting fetches record $48.6 million", "")
	tests := []struct {
		name string
		a, b Facts
		want []string
	}{
		{"hedged meets the exact it rounds to two figures", weigh("Landscape sells for nearly $49 million", ""), exact, []string{"49 million"}},
		{"exact meets the hedged", exact, weigh("Landscape sells for nearly $49 million", ""), []string{"48.6 million"}},
		{"hedged meets the exact it rounds to one figure", weigh("Pictora fined nearly 800 million euros", ""), weigh("Pictora fined 780 mln euros", ""), []string{"800 million", "Pictora"}},
		{"more than", weigh("More than 200mm of rain", ""), weigh("198 mm of rain", ""), []string{"200mm"}},
		{"two exact amounts apart", weigh("Fine of $48.6 million", ""), weigh("Fine of $48.7 million", ""), nil},
		{"a hedged amount far off", weigh("Nearly $60 million", ""), exact, nil},
	}
	for _, tt := range tests {
		got := shared(tt.a, tt.b)
		got = slices.DeleteFunc(got, func(s string) bool { return !isDigitStart(s) && s != "Pictora" })
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: shared %q, want %q", tt.name, got, tt.want)
		}
	}
	// The roundings of an exact amount are the amount again: they add
	// nothing to a story's total weight.
	sum, roundings := uint32(0), 0
	for i, k := range exact.kinds {
		if k&rounded != 0 {
			roundings++
			continue
		}
		sum += uint32(exact.weights[i])
	}
	if roundings != 2 || exact.norm != sum {
		t.Errorf("%d roundings, total weight %d; want 2 and %d, the weight of the other terms", roundings, exact.norm, sum)
	}
}

// TestCountryAdjectives: a country's adjective is the country.
func TestCountryAdjectives(t *testing.T) {
	a := Extract("Lithuanian premier quits", "The Lithuanian prime minister resigned.")
	b := Extract("Lithuania's government falls", "The government of Lithuania fell.")
	if got := Shared(&a, &b, 10); !slices.Contains(got, "Lithuanian") {
		t.Errorf("shared %q, want Lithuanian", got)
	}
}
