package rules

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/story"
)

// vocabulary is small so that random queries and stories meet often; it has
// accents, CJK, a split term, digits and words that are prefixes of others.
var vocabulary = []string{"alpha", "alphabet", "beta", "gamma", "delta", "Zürich", "zurich", "英", "伟", "达",
	"u.s.", "us", "export", "exports", "h20", "h200", "and", "the", "ソ", "ニ"}

// randomQuery writes a random query over the vocabulary; many do not parse.
func randomQuery(r *rand.Rand, depth int) string {
	word := func() string { return vocabulary[r.IntN(len(vocabulary))] }
	phrase := func() string {
		n := 1 + r.IntN(3)
		ws := make([]string, n)
		for i := range ws {
			ws[i] = word()
		}
		return `"` + strings.Join(ws, " ") + `"`
	}
	term := func() string {
		switch r.IntN(12) {
		case 0:
			return phrase()
		case 1:
			w := strings.ToLower(word())
			if len(w) > 3 {
				w = w[:2+r.IntN(len(w)-2)]
			}
			return w + "*"
		case 2:
			return fmt.Sprintf("%s NEAR/%d %s", word(), r.IntN(4), []string{word(), phrase()}[r.IntN(2)])
		case 3:
			return []string{"title:", "summary:", "content:", "source:", "author:", "category:", "url:"}[r.IntN(7)] + word()
		case 4:
			return "site:" + []string{"a.com", "b.a.com", "com", "nota.com"}[r.IntN(4)]
		case 5:
			return []string{"/alp/", "/^beta/", `/h\d+/`, "/ü/", "/a.c/"}[r.IntN(5)]
		}
		return word()
	}
	if depth <= 0 {
		return term()
	}
	n := 1 + r.IntN(3)
	parts := make([]string, n)
	for i := range parts {
		switch r.IntN(6) {
		case 0:
			parts[i] = "(" + randomQuery(r, depth-1) + ")"
		case 1:
			parts[i] = "-" + term()
		case 2:
			parts[i] = "NOT (" + randomQuery(r, depth-1) + ")"
		case 3:
			parts[i] = []string{"title:", "category:", "url:"}[r.IntN(3)] + "(" + randomQuery(r, depth-1) + ")"
		default:
			parts[i] = term()
		}
	}
	sep := []string{" ", " AND ", " OR "}[r.IntN(3)]
	return strings.Join(parts, sep)
}

// randomText strings vocabulary words with separators that tokenize apart.
func randomText(r *rand.Rand, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString([]string{" ", " ", "-", ", ", "'s ", ".", "\u00ad", ""}[r.IntN(8)])
		}
		w := vocabulary[r.IntN(len(vocabulary))]
		if r.IntN(4) == 0 {
			w = strings.ToUpper(w)
		}
		b.WriteString(w)
	}
	return b.String()
}

func randomStory(r *rand.Rand) story.Story {
	s := story.Story{
		Title:   randomText(r, r.IntN(6)),
		Summary: randomText(r, r.IntN(10)),
		Source:  randomText(r, r.IntN(2)),
		Author:  randomText(r, r.IntN(2)),
		URL: []string{"", "https://a.com/alpha-beta", "https://www.A.com/x", "https://nota.com/", "https://a.com.evil.net/h20",
			"http://u@b.a.com:80/zurich"}[r.IntN(6)],
	}
	if r.IntN(3) == 0 {
		s.Content = randomText(r, r.IntN(20))
	}
	for range r.IntN(3) {
		s.Categories = append(s.Categories, randomText(r, 1+r.IntN(2)))
	}
	return s
}

// oracle is what Match must return: every rule evaluated straightforwardly.
func oracle(names []string, queries map[string]*Query, s *story.Story) []Match {
	v := newStoryView(s)
	var out []Match
	for _, n := range names {
		if terms, fields, ok := queries[n].evalFull(v); ok {
			out = append(out, Match{Rule: n, Terms: terms, Fields: fieldsByMask[fields]})
		}
	}
	return out
}

func sameMatches(a, b []Match) bool {
	return slices.EqualFunc(a, b, func(x, y Match) bool {
		return x.Rule == y.Rule && slices.Equal(x.Terms, y.Terms) && slices.Equal(x.Fields, y.Fields)
	})
}

// TestEngineAgreesWithEval is the property test: for random queries over a
// small vocabulary and random stories (soft hyphens and all), the indexed
// engine returns exactly what evaluating every rule returns, terms and fields
// included, and every term a rule matched is highlighted in the story.
func TestEngineAgreesWithEval(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	rounds, stories := 12, 150
	if testing.Short() {
		rounds = 3
	}
	matches, verified := 0, 0
	for round := range rounds {
		e := newTestEngine()
		queries := map[string]*Query{}
		var names []string
		add := func(name string) {
			for {
				q, err := Parse(randomQuery(r, 2))
				if err != nil {
					continue
				}
				if _, ok := queries[name]; !ok {
					names = append(names, name)
				}
				e.Set(name, q)
				queries[name] = q
				return
			}
		}
		// A base of 200 rules, then a delta of 100 more, 20 replaced and
		// 20 removed, so that both layers and the dead map take part.
		for i := range 200 {
			add(fmt.Sprintf("r%d", i))
		}
		e.compact()
		for i := range 100 {
			add(fmt.Sprintf("s%d", i))
		}
		for range 20 {
			add(names[r.IntN(len(names))])
		}
		for range 20 {
			i := r.IntN(len(names))
			e.Remove(names[i])
			delete(queries, names[i])
			names = slices.Delete(names, i, i+1)
		}
		if st := e.Stats(); st.Rules != len(names) {
			t.Fatalf("Stats().Rules = %d, want %d", st.Rules, len(names))
		}
		m := e.NewMatcher()
		for range stories {
			s := randomStory(r)
			got, want := m.Match(&s), oracle(names, queries, &s)
			if !sameMatches(got, want) {
				t.Fatalf("round %d, story %+v:\n got  %+v\n want %+v", round, s, got, want)
			}
			for _, match := range got {
				checkHighlighted(t, match.Rule, match.Terms, &s)
			}
			matches += len(want)
			verified += m.verified
		}
	}
	if matches < rounds*stories {
		t.Errorf("only %d matches in %d stories: the test says little", matches, rounds*stories)
	}
	t.Logf("%d matches, %d rules verified", matches, verified)
}

// TestEngineChanges sets, replaces and removes rules across every publishing
// path (eager delta, batched delta, base rebuild, dead-rule rebuild) and
// checks each state against the straightforward evaluator.
func TestEngineChanges(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	e := newTestEngine()
	m := e.NewMatcher()
	queries := map[string]*Query{}
	var order []string // names in the order they were first added
	check := func(step int) {
		if e.Len() != len(order) {
			t.Fatalf("step %d: Len = %d, want %d", step, e.Len(), len(order))
		}
		for range 10 {
			s := randomStory(r)
			got, want := m.Match(&s), oracle(order, queries, &s)
			if !sameMatches(got, want) {
				t.Fatalf("step %d, story %+v:\n got  %+v\n want %+v", step, s, got, want)
			}
		}
	}
	next := 0
	for step := range 3000 {
		switch op := r.IntN(10); {
		case op < 6 || len(order) == 0: // add
			q, err := Parse(randomQuery(r, 1))
			if err != nil {
				continue
			}
			name := fmt.Sprintf("n%d", next)
			next++
			e.Set(name, q)
			queries[name] = q
			order = append(order, name)
		case op < 8: // replace
			q, err := Parse(randomQuery(r, 1))
			if err != nil {
				continue
			}
			name := order[r.IntN(len(order))]
			e.Set(name, q)
			queries[name] = q
		default: // remove
			i := r.IntN(len(order))
			e.Remove(order[i])
			delete(queries, order[i])
			order = slices.Delete(order, i, i+1)
		}
		if step%50 == 0 || step > 2900 {
			check(step)
		}
	}
	// a bulk load past every threshold, published by one Flush
	for i := range 3000 {
		q, err := Parse(randomQuery(r, 1))
		if err != nil {
			continue
		}
		name := fmt.Sprintf("bulk%d", i)
		e.Set(name, q)
		queries[name] = q
		order = append(order, name)
	}
	e.Flush()
	check(-1)
	for _, n := range slices.Clone(order)[:len(order)/2] {
		e.Remove(n)
		delete(queries, n)
		order = order[1:]
	}
	check(-2)
}

func TestMatchOrder(t *testing.T) {
	e := newTestEngine()
	set := func(name, query string) {
		q, err := Parse(query)
		if err != nil {
			t.Fatal(err)
		}
		e.Set(name, q)
	}
	names := func() string {
		s := story.Story{Title: "nvidia china"}
		var out []string
		for _, m := range e.NewMatcher().Match(&s) {
			out = append(out, m.Rule)
		}
		return strings.Join(out, ",")
	}
	set("c", "nvidia")
	set("a", "china")
	set("b", "nvidia china")
	if got := names(); got != "c,a,b" {
		t.Errorf("order = %s, want c,a,b (the order added)", got)
	}
	set("a", "nvidia OR china")
	if got := names(); got != "c,a,b" {
		t.Errorf("after replacing a: order = %s, want c,a,b (a keeps its place)", got)
	}
	e.Remove("c")
	set("c", "china")
	if got := names(); got != "a,b,c" {
		t.Errorf("after removing and adding c: order = %s, want a,b,c", got)
	}
	e.Remove("nope")
	if e.Len() != 3 {
		t.Errorf("Len = %d, want 3", e.Len())
	}
}

// TestMatchAllocatesNothing checks the matching path in steady state.
func TestMatchAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	e := newTestEngine()
	for i, q := range []string{`nvidia AND (china OR beijing) -"stock price"`, `title:(h20 OR h200)`, `huang NEAR/3 china`,
		`export*`, `site:reuters.com chips`, `/\bh[0-9]{2,3}\b/`, `英伟达`, `category:tech OR source:reuters`, `a b OR c d`} {
		p, err := Parse(q)
		if err != nil {
			t.Fatal(err)
		}
		e.Set(fmt.Sprint(i), p)
	}
	s := story.Story{Title: "Nvidia H20: Huang says China export rules hit 英伟达", Summary: "Beijing responds; stock falls",
		URL: "https://www.reuters.com/tech", Source: "Reuters", Categories: []string{"Tech", "World"}}
	m := e.NewMatcher()
	if n := len(m.Match(&s)); n < 5 {
		t.Fatalf("only %d matches; the test story should match most rules", n)
	}
	if allocs := testing.AllocsPerRun(200, func() { m.Match(&s) }); allocs != 0 {
		t.Errorf("Match allocates %.1f times per story, want 0", allocs)
	}
}

// TestConcurrentChanges matches on several goroutines while rules change; run
// with -race. Every match must be one its rule's query really makes.
func TestConcurrentChanges(t *testing.T) {
	e := newTestEngine()
	queries := sync.Map{}
	set := func(name, src string) {
		q, err := Parse(src)
		if err != nil {
			t.Error(err)
			return
		}
		queries.Store(name+"/"+q.String(), q)
		e.Set(name, q)
	}
	for i := range 500 {
		set(fmt.Sprint(i), vocabulary[i%len(vocabulary)])
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := range 3 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 9))
			m := e.NewMatcher()
			for {
				select {
				case <-stop:
					return
				default:
				}
				s := randomStory(r)
				for _, mt := range m.Match(&s) {
					if len(mt.Terms) == 0 {
						t.Errorf("match of %s without terms", mt.Rule)
					}
				}
			}
		})
	}
	r := rand.New(rand.NewPCG(7, 7))
	for i := range 2000 {
		name := fmt.Sprint(r.IntN(700))
		if i%5 == 0 {
			e.Remove(name)
			continue
		}
		set(name, vocabulary[r.IntN(len(vocabulary))]+" OR "+vocabulary[r.IntN(len(vocabulary))])
	}
	close(stop)
	wg.Wait()
}

// TestLargeStory bounds the work on the largest story a source gives and
// the most repetitive text: matching and Eval stay fast.
func TestLargeStory(t *testing.T) {
	content := strings.Repeat("aa ", story.ContentMax/3)
	s := story.Story{Title: "aa", Content: content, Categories: slices.Repeat([]string{"aa aa"}, 1000)}
	e := newTestEngine()
	var qs []*Query
	for i, src := range []string{`aa NEAR/100 aa`, `"aa aa aa aa aa aa aa aa" b`, `aa* NEAR/50 "aa aa"`, `/(aa )+b/`, `category:(aa NEAR/100 aa)`} {
		q, err := Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		qs = append(qs, q)
		e.Set(fmt.Sprint(i), q)
	}
	m := e.NewMatcher()
	start := time.Now()
	got := m.Match(&s)
	for _, q := range qs {
		q.Eval(&s)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("matching a %d-byte story took %v", len(content), d)
	}
	if len(got) != 3 {
		t.Errorf("Match = %d rules, want 3", len(got))
	}
}
