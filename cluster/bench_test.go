package cluster

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
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

// fixture returns the signatures of benchStories stories: the corpus, then
// its variants.
func fixture(b *testing.B) []Signature {
	texts := corpusTexts(b)
	sigs := make([]Signature, benchStories)
	for j := range sigs {
		t := variant(texts, j%len(texts), j/len(texts))
		sigs[j] = Sign(t.title, t.summary)
	}
	return sigs
}

var (
	fixtureOnce sync.Once
	fixtureSigs []Signature
)

func cachedFixture(b *testing.B) []Signature {
	corpusTexts(b)
	fixtureOnce.Do(func() { fixtureSigs = fixture(b) })
	return fixtureSigs
}

// buildPool files the fixture in a pool, with ids of 32 hex digits like
// story ids.
func buildPool(sigs []Signature) *pool {
	p := newPool(Options{})
	for j, s := range sigs {
		p.add(s, fmt.Sprintf("%032x", j), t0.Add(time.Duration(j)*benchSpacing))
	}
	return p
}

// BenchmarkAssign: the decision for one new story against a pool of 100,000
// stories of the last 72 hours (the corpus and its variants 1 to 9): the
// candidates that share a key, judged with the whole signature. A store
// does the lookup in the ingest transaction; this is the work around it.
// Three stories in four are new events (variants from 10 on), one in four a
// re-titled copy of a filed story of variant 9, the newest.
func BenchmarkAssign(b *testing.B) {
	sigs := cachedFixture(b)
	texts := corpusTexts(b)
	p := buildPool(sigs)
	queries := make([]Signature, b.N)
	for j := range queries {
		i, round := j%len(texts), j/len(texts)
		if j%4 == 3 {
			t := variant(texts, i, benchStories/len(texts)-1)
			queries[j] = Sign("Breaking: "+t.title+" (report)", t.summary)
			continue
		}
		t := variant(texts, i, benchStories/len(texts)+4*round+j%4)
		queries[j] = Sign(t.title, t.summary)
	}
	joined := 0
	b.ReportAllocs()
	b.ResetTimer()
	for j := range b.N {
		at := t0.Add(time.Duration(benchStories+j) * benchSpacing)
		if _, isNew := p.assign(fmt.Sprintf("q%031x", j), queries[j], at); !isNew {
			joined++
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "stories/s")
	b.ReportMetric(float64(joined)/float64(b.N), "joined/op")
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
