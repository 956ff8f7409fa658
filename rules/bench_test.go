package rules

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/story"
)

// The benchmarks match the real headlines of the shared corpus (title and
// summary as stories) against rule sets generated from the corpus's own
// vocabulary. Set WIREWATCH_CORPUS to another JSON Lines file to use it.
const defaultCorpus = "../../shared/corpus/news/huffpost_news_category_v3_head9999.jsonl"

var (
	corpusOnce    sync.Once
	corpusStories []story.Story
	corpusErr     error
)

func loadCorpus(b testing.TB) []story.Story {
	corpusOnce.Do(func() {
		path := os.Getenv("WIREWATCH_CORPUS")
		if path == "" {
			path = defaultCorpus
		}
		f, err := os.Open(path)
		if err != nil {
			corpusErr = err
			return
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var rec struct{ ID, Title, Summary string }
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
				corpusErr = err
				return
			}
			corpusStories = append(corpusStories, story.Story{ID: rec.ID, Title: rec.Title, Summary: rec.Summary})
		}
		corpusErr = sc.Err()
	})
	if corpusErr != nil || len(corpusStories) == 0 {
		b.Skipf("corpus not available: %v", corpusErr)
	}
	return corpusStories
}

// ruleGen writes queries from a corpus's vocabulary: mostly words that are
// neither stop-words nor unseen (drawn uniformly from the words found in at
// least two stories), some unseen words, stop-words only inside phrases.
type ruleGen struct {
	r     *rand.Rand
	vocab []string   // words of document frequency >= 2, not stop-words
	texts [][]string // each story's tokens, for phrases and NEAR
}

func newRuleGen(stories []story.Story, seed uint64) *ruleGen {
	g := &ruleGen{r: rand.New(rand.NewPCG(seed, seed))}
	df := map[string]int{}
	for _, s := range stories {
		toks := tokens(s.Title + " " + s.Summary)
		g.texts = append(g.texts, toks)
		seen := map[string]bool{}
		for _, t := range toks {
			if !seen[t] {
				seen[t] = true
				df[t]++
			}
		}
	}
	for w, n := range df {
		if n >= 2 && !stopWords[w] && len(w) > 1 {
			g.vocab = append(g.vocab, w)
		}
	}
	slices.Sort(g.vocab)
	return g
}

func (g *ruleGen) word() string {
	if g.r.IntN(10) == 0 { // unseen
		b := make([]byte, 7)
		for i := range b {
			b[i] = byte('a' + g.r.IntN(26))
		}
		return string(b)
	}
	return g.vocab[g.r.IntN(len(g.vocab))]
}

// window returns n consecutive tokens of a random story.
func (g *ruleGen) window(n int) []string {
	for {
		t := g.texts[g.r.IntN(len(g.texts))]
		if len(t) >= n {
			i := g.r.IntN(len(t) - n + 1)
			return t[i : i+n]
		}
	}
}

func (g *ruleGen) phrase() string { return `"` + strings.Join(g.window(2), " ") + `"` }

func (g *ruleGen) prefix() string {
	for {
		w := g.vocab[g.r.IntN(len(g.vocab))]
		if len(w) >= 5 {
			return w[:3+g.r.IntN(len(w)-4)] + "*"
		}
	}
}

// query returns one generated query; the mix is documented in PERFORMANCE.md.
func (g *ruleGen) query() string {
	w := g.word
	switch n := g.r.IntN(1000); {
	case n < 300:
		return w()
	case n < 450:
		return w() + " " + w()
	case n < 530:
		return w() + " " + w() + " " + w()
	case n < 560:
		return w() + " " + w() + " " + w() + " " + w()
	case n < 660:
		return w() + " (" + w() + " OR " + w() + ")"
	case n < 710:
		return w() + " OR " + w()
	case n < 790:
		if g.r.IntN(2) == 0 {
			return g.phrase()
		}
		return g.phrase() + " " + w()
	case n < 850:
		if g.r.IntN(2) == 0 {
			return g.prefix()
		}
		return g.prefix() + " " + w()
	case n < 910:
		if g.r.IntN(2) == 0 {
			return w() + " -" + w()
		}
		return w() + " -" + g.phrase()
	case n < 950:
		if g.r.IntN(2) == 0 {
			return "title:" + w()
		}
		return "title:(" + w() + " OR " + w() + ") " + w()
	case n < 995:
		t := g.window(2 + g.r.IntN(3))
		return fmt.Sprintf("%s NEAR/3 %s", t[0], t[len(t)-1])
	default:
		return fmt.Sprintf(`/\b%ss?\b/ %s`, regexp.QuoteMeta(g.vocab[g.r.IntN(len(g.vocab))]), w())
	}
}

// ruleSet generates n parsed rules, three of them lone regular expressions
// (which go to the always-check list).
func ruleSet(b testing.TB, stories []story.Story, n int) ([]string, []*Query) {
	g := newRuleGen(stories, uint64(n))
	var srcs []string
	var qs []*Query
	for i := 0; len(qs) < n; i++ {
		src := g.query()
		if i < 3 {
			src = []string{`/\bcovid-?19\b/`, `/\$[0-9]+ (million|billion)/`, `/^breaking\b/`}[i]
		}
		q, err := Parse(src)
		if err != nil {
			b.Fatalf("generated query %q: %v", src, err)
		}
		srcs = append(srcs, src)
		qs = append(qs, q)
	}
	return srcs, qs
}

func newLoadedEngine(qs []*Query) *Engine {
	e := newTestEngine()
	for i, q := range qs {
		e.Set(fmt.Sprintf("rule-%d", i), q)
	}
	e.Flush()
	return e
}

// TestCorpusAgreesWithEval holds the engine to the straightforward evaluator
// on the real headlines (curly quotes, accents and all) with a generated rule
// set of the benchmarks' kind, and the highlighter to the engine: every term
// a rule matched is shown.
func TestCorpusAgreesWithEval(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	stories := loadCorpus(t)
	_, qs := ruleSet(t, stories, 2000)
	e := newLoadedEngine(qs)
	names := make([]string, len(qs))
	queries := map[string]*Query{}
	for i, q := range qs {
		names[i] = fmt.Sprintf("rule-%d", i)
		queries[names[i]] = q
	}
	m := e.NewMatcher()
	matches := 0
	for i := 0; i < len(stories); i += 3 {
		s := &stories[i]
		got, want := m.Match(s), oracle(names, queries, s)
		if !sameMatches(got, want) {
			t.Fatalf("story %s:\n got  %+v\n want %+v", s.ID, got, want)
		}
		for _, match := range got {
			checkHighlighted(t, match.Rule, match.Terms, s)
		}
		matches += len(want)
	}
	if matches == 0 {
		t.Error("no matches: the test says nothing")
	}
}

var sizes = []struct {
	name string
	n    int
}{{"1k", 1000}, {"10k", 10000}, {"100k", 100000}}

// BenchmarkMatch measures ns per story over the corpus, with the rules
// verified and matched per story, latency percentiles and the index size.
func BenchmarkMatch(b *testing.B) {
	stories := loadCorpus(b)
	for _, size := range sizes {
		b.Run("rules="+size.name, func(b *testing.B) {
			_, qs := ruleSet(b, stories, size.n)
			e := newLoadedEngine(qs)
			m := e.NewMatcher()
			// One untimed pass for the counts and per-story latencies.
			var verified, matches int
			lat := make([]time.Duration, len(stories))
			for i := range stories {
				t0 := time.Now()
				matches += len(m.Match(&stories[i]))
				lat[i] = time.Since(t0)
				verified += m.verified
			}
			slices.Sort(lat)
			b.ReportAllocs()
			b.ResetTimer()
			i, n := 0, 0
			cpu0 := cpuTime()
			for b.Loop() {
				m.Match(&stories[i])
				if i++; i == len(stories) {
					i = 0
				}
				n++
			}
			b.StopTimer()
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(n), "cpu-ns/story")
			st := e.Stats()
			b.ReportMetric(float64(verified)/float64(len(stories)), "verified/story")
			b.ReportMetric(float64(matches)/float64(len(stories)), "matches/story")
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
			b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
			b.ReportMetric(float64(st.IndexBytes)/float64(size.n), "index-B/rule")
			b.ReportMetric(float64(st.AlwaysScan), "always-check")
		})
	}
}

// BenchmarkBuild measures parsing and indexing 100k rules from their text,
// and the heap the engine then holds (queries included).
func BenchmarkBuild(b *testing.B) {
	stories := loadCorpus(b)
	srcs, _ := ruleSet(b, stories, 100000)
	var heap uint64
	var cpu time.Duration
	n := 0
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		b.StartTimer()
		cpu0 := cpuTime()
		n++
		e := newTestEngine()
		for i, src := range srcs {
			q, err := Parse(src)
			if err != nil {
				b.Fatal(err)
			}
			e.Set(fmt.Sprintf("rule-%d", i), q)
		}
		e.Flush()
		cpu += cpuTime() - cpu0
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap = after.HeapAlloc - before.HeapAlloc
		runtime.KeepAlive(e)
		b.StartTimer()
	}
	b.ReportMetric(float64(heap)/float64(len(srcs)), "heap-B/rule")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), "cpu-ns/op")
}

// baselineRule is a rule evaluated the naive way: one case-insensitive Go
// regexp per term, `(?i)\bterm\b`, over the story's title and summary.
type baselineRule struct {
	n  *node
	re []*regexp.Regexp // by leaf
}

func newBaselineRule(q *Query) baselineRule {
	br := baselineRule{n: q.root}
	word := func(t *term) string {
		ws := make([]string, len(t.words))
		for i, w := range t.words {
			ws[i] = regexp.QuoteMeta(w)
		}
		s := `\b` + strings.Join(ws, `\W+`)
		if t.prefix {
			return s + `\w*`
		}
		return s + `\b`
	}
	for _, l := range q.leaves {
		var src string
		switch t := l.t; t.kind {
		case kWord:
			src = word(t)
		case kNear:
			gap := fmt.Sprintf(`\W+(?:\w+\W+){0,%d}`, t.dist)
			src = word(t.a) + gap + word(t.b) + "|" + word(t.b) + gap + word(t.a)
		case kRegex:
			src = t.text
		case kSite:
			src = regexp.QuoteMeta(t.host())
		}
		br.re = append(br.re, regexp.MustCompile("(?i)"+src))
	}
	return br
}

func (br baselineRule) eval(n *node, text string) bool {
	switch n.op {
	case opTerm:
		return br.re[n.leaf].MatchString(text)
	case opNot:
		return !br.eval(n.kids[0], text)
	case opField:
		return br.eval(n.kids[0], text)
	case opAnd:
		for _, k := range n.kids {
			if !br.eval(k, text) {
				return false
			}
		}
		return true
	}
	for _, k := range n.kids {
		if br.eval(k, text) {
			return true
		}
	}
	return false
}

// BenchmarkBaseline is the naive matcher the engine is compared with: every
// rule, every term a regexp, every story. It runs on the first 200 stories.
func BenchmarkBaseline(b *testing.B) {
	stories := loadCorpus(b)[:200]
	for _, size := range sizes[:2] {
		b.Run("rules="+size.name, func(b *testing.B) {
			_, qs := ruleSet(b, loadCorpus(b), size.n)
			rules := make([]baselineRule, len(qs))
			for i, q := range qs {
				rules[i] = newBaselineRule(q)
			}
			i, n, matches := 0, 0, 0
			cpu0 := cpuTime()
			for b.Loop() {
				n++
				s := &stories[i]
				text := s.Title + "\n" + s.Summary
				for _, r := range rules {
					if r.eval(r.n, text) {
						matches++
					}
				}
				if i++; i == len(stories) {
					i = 0
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(n), "cpu-ns/story")
		})
	}
}

// BenchmarkParse measures parsing alone, over the generated queries.
func BenchmarkParse(b *testing.B) {
	srcs, _ := ruleSet(b, loadCorpus(b), 10000)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := Parse(srcs[i]); err != nil {
			b.Fatal(err)
		}
		if i++; i == len(srcs) {
			i = 0
		}
	}
}

// BenchmarkSet measures a change to a loaded engine of 100k rules: replacing
// one of 100 rules, which is published at once by rebuilding the delta.
func BenchmarkSet(b *testing.B) {
	stories := loadCorpus(b)
	_, qs := ruleSet(b, stories, 100000)
	e := newLoadedEngine(qs)
	i := 0
	for b.Loop() {
		e.Set(fmt.Sprintf("chat-%d", i%100), qs[i%len(qs)])
		i++
	}
}

// BenchmarkTokenize measures the tokenizer alone over the corpus's titles and
// summaries, reusing its buffers as the Matcher does.
func BenchmarkTokenize(b *testing.B) {
	stories := loadCorpus(b)
	var buf []byte
	var spans []span
	size := 0
	for _, s := range stories {
		size += len(s.Title) + len(s.Summary)
	}
	b.SetBytes(int64(size / len(stories)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s := &stories[i]
		buf, spans = appendTokens(buf[:0], spans[:0], s.Title)
		buf, spans = appendTokens(buf, spans, s.Summary)
		if i++; i == len(stories) {
			i = 0
		}
	}
}
