package cluster

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// benchStories is the size of the index the benchmarks hold.
const benchStories = 100_000

// benchText is a title and summary from the corpus.
type benchText struct{ title, summary string }

var (
	benchOnce   sync.Once
	benchCorpus []benchText
	benchErr    error
)

// corpusTexts returns the titles and summaries of the shared corpus, or
// skips the benchmark when it is not there.
func corpusTexts(b *testing.B) []benchText {
	benchOnce.Do(func() {
		f, err := os.Open(corpusPath)
		if err != nil {
			benchErr = err
			return
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var r struct{ Title, Summary string }
			if benchErr = json.Unmarshal(sc.Bytes(), &r); benchErr != nil {
				return
			}
			benchCorpus = append(benchCorpus, benchText{r.Title, r.Summary})
		}
		benchErr = sc.Err()
	})
	if benchErr != nil {
		b.Skip("no corpus:", benchErr)
	}
	return benchCorpus
}

// variant k of corpus story i: the story with about half its words, chosen
// by a hash of the word and k, changed into other words (each gets k as a
// suffix). Variant 0 is the story itself. Variants share a quarter of their
// bigrams, so they are different events with the vocabulary, lengths and
// chance overlaps of real ones.
func variant(texts []benchText, i, k int) benchText {
	if k == 0 {
		return texts[i]
	}
	change := func(text string) string {
		ws := strings.Fields(text)
		for j, w := range ws {
			if mix64(wordHash(w)^uint64(k))&1 == 1 {
				ws[j] = w + strconv.Itoa(k)
			}
		}
		return strings.Join(ws, " ")
	}
	return benchText{change(texts[i].title), change(texts[i].summary)}
}

// benchSpacing spaces the stories so that benchStories of them fill the
// default window.
const benchSpacing = DefaultWindow / benchStories

// benchPrint is a story's signature and unweighed facts.
type benchPrint struct {
	sig   Signature
	facts Facts
}

// fixture returns the signatures and facts of benchStories stories: the
// corpus, then its variants.
func fixture(b *testing.B) []benchPrint {
	texts := corpusTexts(b)
	out := make([]benchPrint, benchStories)
	for j := range out {
		t := variant(texts, j%len(texts), j/len(texts))
		out[j] = benchPrint{Sign(t.title, t.summary), Extract(t.title, t.summary)}
	}
	return out
}

var (
	fixtureOnce sync.Once
	fixtureSigs []benchPrint
)

func cachedFixture(b *testing.B) []benchPrint {
	corpusTexts(b)
	fixtureOnce.Do(func() { fixtureSigs = fixture(b) })
	return fixtureSigs
}

// buildPool files the fixture in a pool, each story's facts weighed by the
// terms of the stories filed before it, as a store counts them, with ids of
// 32 hex digits like story ids.
func buildPool(prints []benchPrint) *pool {
	p := newPool(Options{})
	for j, pr := range prints {
		f := pr.facts
		p.weigh(&f)
		p.addFacts(pr.sig, f, fmt.Sprintf("%032x", j), t0.Add(time.Duration(j)*benchSpacing))
	}
	return p
}

// BenchmarkAssign: the decision for one new story against a pool of 100,000
// stories of the last 72 hours (the corpus and its variants 1 to 9): its
// facts weighed by the pool's term counts, the candidates that share a key
// (MinHash and term keys), judged by signature and facts. A store does the
// lookups in the ingest transaction; this is the work around them. Three
// stories in four are new events (variants from 10 on, which share about
// half their words with the filed variants of the same corpus story), one
// in four a re-titled copy of a filed story of variant 9, the newest.
// Signatures and facts are extracted before the timer (BenchmarkSign,
// BenchmarkExtract).
func BenchmarkAssign(b *testing.B) {
	prints := cachedFixture(b)
	texts := corpusTexts(b)
	p := buildPool(prints)
	queries := make([]benchPrint, b.N)
	for j := range queries {
		i, round := j%len(texts), j/len(texts)
		if j%4 == 3 {
			t := variant(texts, i, benchStories/len(texts)-1)
			title := "Breaking: " + t.title + " (report)"
			queries[j] = benchPrint{Sign(title, t.summary), Extract(title, t.summary)}
			continue
		}
		t := variant(texts, i, benchStories/len(texts)+4*round+j%4)
		queries[j] = benchPrint{Sign(t.title, t.summary), Extract(t.title, t.summary)}
	}
	joined, byFacts, cands := 0, 0, 0
	// The garbage of building the pool is collected before the timer, not
	// by the GC workers during it.
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for j := range b.N {
		at := t0.Add(time.Duration(benchStories+j) * benchSpacing)
		q := &queries[j]
		p.weigh(&q.facts)
		id := fmt.Sprintf("q%031x", j)
		c, v := p.assignFacts(id, q.sig, q.facts, at)
		if c != id {
			joined++
		}
		if v.ByFacts {
			byFacts++
		}
		cands += p.lastCandidates
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "stories/s")
	b.ReportMetric(float64(joined)/float64(b.N), "joined/op")
	b.ReportMetric(float64(byFacts)/float64(b.N), "by-facts/op")
	b.ReportMetric(float64(cands)/float64(b.N), "candidates/op")
}

// BenchmarkPoolMemory: the heap a pool of 100,000 stories holds per story
// (signatures, weighed facts, key lists, term counts), and the bytes a store
// keeps per story: the fingerprint blob and the number of keys it is filed
// under.
func BenchmarkPoolMemory(b *testing.B) {
	prints := cachedFixture(b)
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		p := buildPool(prints)
		runtime.GC()
		runtime.ReadMemStats(&after)
		blob, keys := 0, 0
		for _, c := range p.filed {
			f, _ := c.Facts.MarshalBinary()
			blob += SignatureSize + len(f)
			keys += len(c.Sig.Keys()) + len(c.Facts.Keys())
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/benchStories, "heap-B/story")
		b.ReportMetric(float64(blob)/benchStories, "blob-B/story")
		b.ReportMetric(float64(keys)/benchStories, "keys/story")
		b.ReportMetric(float64(len(p.df)), "terms")
		runtime.KeepAlive(p)
	}
}

// BenchmarkExtract: the facts of one corpus story.
func BenchmarkExtract(b *testing.B) {
	texts := corpusTexts(b)
	b.ReportAllocs()
	for j := range b.N {
		t := texts[j%len(texts)]
		Extract(t.title, t.summary)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "stories/s")
}

// BenchmarkSign: the signature of one corpus story.
func BenchmarkSign(b *testing.B) {
	texts := corpusTexts(b)
	b.ReportAllocs()
	for j := range b.N {
		t := texts[j%len(texts)]
		Sign(t.title, t.summary)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "stories/s")
}
