package bot

import (
	"context"
	"slices"
	"time"

	"github.com/wirewatch/wirewatch/cluster"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

// ClusterWindow is how far apart two stories may be and still be one event.
const ClusterWindow = 72 * time.Hour

// newJudge returns the judge of clusters for the options, over ClusterWindow.
func newJudge(o cluster.Options) *cluster.Judge {
	o.Window = ClusterWindow
	return cluster.NewJudge(o)
}

// TermMemory is how long the store keeps counting a cluster term no story
// has had: a name or number quiet for this long is taken for rare again.
const TermMemory = 30 * 24 * time.Hour

// whyTerms is the most shared names and numbers kept to explain a join.
const whyTerms = 6

// textPrint is what clustering reads of a story's text: the signature of its
// wording and the facts (names, numbers, words) it tells.
type textPrint struct {
	sig   cluster.Signature
	facts cluster.Facts
}

// prints signs every story of one fetch and extracts its facts, outside the
// ingest transaction (that is the costly part). Summaries a feed repeats on
// every item are left out: they say nothing about which event a story is.
func prints(batch []story.Story) map[string]textPrint {
	boilerplate := boilerplateSummary(batch)
	out := make(map[string]textPrint, len(batch))
	for i := range batch {
		summary := batch[i].Summary
		if boilerplate {
			summary = ""
		}
		out[batch[i].ID] = textPrint{cluster.Sign(batch[i].Title, summary), cluster.Extract(batch[i].Title, summary)}
	}
	return out
}

// weigh weighs the facts of the fresh stories by the store's counts of how
// many stories had each term, read in the ingest transaction.
func weigh(ctx context.Context, tx store.PlanTx, fresh []story.Story, ps map[string]textPrint) error {
	var terms []uint32
	for i := range fresh {
		f := ps[fresh[i].ID].facts
		terms = append(terms, f.Terms()...)
	}
	slices.Sort(terms)
	terms = slices.Compact(terms)
	n, counts, err := tx.TermCounts(ctx, terms)
	if err != nil {
		return err
	}
	df := func(t uint32) int64 { return counts[t] }
	for i := range fresh {
		p := ps[fresh[i].ID]
		p.facts.Weigh(n, df)
		ps[fresh[i].ID] = p
	}
	return nil
}

// marshalPrint encodes a print as a fingerprint's bytes: the signature, then
// the weighed facts.
func marshalPrint(p textPrint) []byte {
	// Marshalling a signature or facts cannot fail.
	b, _ := p.sig.MarshalBinary()
	f, _ := p.facts.MarshalBinary()
	return append(b, f...)
}

// unmarshalPrint decodes what marshalPrint encoded; a fingerprint of the
// signature alone (written before facts were kept) has no facts.
func unmarshalPrint(b []byte) (textPrint, error) {
	var p textPrint
	if len(b) < cluster.SignatureSize {
		return p, cluster.ErrSignatureSize
	}
	if err := p.sig.UnmarshalBinary(b[:cluster.SignatureSize]); err != nil {
		return p, err
	}
	if len(b) > cluster.SignatureSize {
		if err := p.facts.UnmarshalBinary(b[cluster.SignatureSize:]); err != nil {
			return p, err
		}
	}
	return p, nil
}

// keys are the keys a print is filed and looked up under.
func (p *textPrint) keys() []uint64 { return append(p.sig.Keys(), p.facts.Keys()...) }

// batchClusters assigns the fresh stories of one ingest to clusters, inside
// the ingest transaction: a story's candidates are the stored stories filed
// under one of its signature's keys within the window, and the fresh stories
// assigned before it that share a key, so that two copies in one fetch join
// too.
type batchClusters struct {
	judge *cluster.Judge
	tx    store.PlanTx

	pool     []cluster.Candidate
	clusters []string // cluster id of each pool entry
	sources  []string // source of each pool entry
	stories  []string // story id of each pool entry
	byKey    map[uint64][]int
	byStory  map[string]int // pool entry of each stored story
	fresh    int            // pool entries from index fresh on are this batch's
}

// newBatchClusters reads the candidates of the fresh stories' prints, in two
// steps. First under the signatures' keys: a story whose signature is the
// same as a candidate's, or as an earlier fresh story's, is a verbatim copy,
// and the signature decides it alone. The other stories' facts are then
// weighed by the store's term counts and their candidates read under the
// facts' keys too. A copy's facts are neither weighed nor looked up: on a
// syndicated feed that is most of the reading.
func newBatchClusters(ctx context.Context, judge *cluster.Judge, tx store.PlanTx, fresh []story.Story, ps map[string]textPrint) (*batchClusters, error) {
	since := time.Time{}
	var keys []uint64
	for i := range fresh {
		keys = append(keys, ps[fresh[i].ID].sig.Keys()...)
		if at := fresh[i].Fetched.Add(-judge.Window()); since.IsZero() || at.Before(since) {
			since = at
		}
	}
	bc := &batchClusters{judge: judge, tx: tx, byKey: map[uint64][]int{}, byStory: map[string]int{}}
	if err := bc.read(ctx, keys, since); err != nil {
		return nil, err
	}
	rest := bc.notCopies(fresh, ps)
	if err := weigh(ctx, tx, rest, ps); err != nil {
		return nil, err
	}
	keys = keys[:0]
	for i := range rest {
		keys = append(keys, ps[rest[i].ID].facts.Keys()...)
	}
	if err := bc.read(ctx, keys, since); err != nil {
		return nil, err
	}
	bc.fresh = len(bc.pool)
	return bc, nil
}

// read adds the stored stories filed under keys since a time to the pool; a
// story already in it is filed under the new keys too.
func (bc *batchClusters) read(ctx context.Context, keys []uint64, since time.Time) error {
	if len(keys) == 0 {
		return nil
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	cands, err := bc.tx.Candidates(ctx, keys, since, cluster.PerKey)
	if err != nil {
		return err
	}
	for _, c := range cands {
		if j, ok := bc.byStory[c.StoryID]; ok {
			bc.file(j, c.Keys)
			continue
		}
		p, err := unmarshalPrint(c.Sig)
		if err != nil {
			continue // written by another version: no candidate
		}
		id := c.Cluster
		if id == "" {
			id = c.StoryID
		}
		bc.byStory[c.StoryID] = len(bc.pool)
		bc.add(p, c.Keys, c.Fetched, id, c.Source, c.StoryID)
	}
	return nil
}

// notCopies returns the fresh stories that are not verbatim copies of a
// stored candidate within the window or of an earlier fresh story.
func (bc *batchClusters) notCopies(fresh []story.Story, ps map[string]textPrint) []story.Story {
	var out []story.Story
	var firsts []textPrint // fresh stories kept so far
	for i := range fresh {
		p := ps[fresh[i].ID]
		copied := false
		if keys := p.sig.Keys(); len(keys) > 0 {
			for _, j := range bc.byKey[keys[0]] {
				d := bc.pool[j].At.Sub(fresh[i].Fetched)
				if bc.pool[j].Sig.Same(p.sig) && d <= bc.judge.Window() && d >= -bc.judge.Window() {
					copied = true
					break
				}
			}
			for k := 0; k < len(firsts) && !copied; k++ {
				copied = firsts[k].sig.Same(p.sig)
			}
		}
		if !copied {
			out = append(out, fresh[i])
			firsts = append(firsts, p)
		}
	}
	return out
}

func (bc *batchClusters) add(p textPrint, keys []uint64, at time.Time, id, source, storyID string) {
	bc.file(len(bc.pool), keys)
	bc.pool = append(bc.pool, cluster.Candidate{Sig: p.sig, Facts: p.facts, At: at, Cluster: id})
	bc.clusters = append(bc.clusters, id)
	bc.sources = append(bc.sources, source)
	bc.stories = append(bc.stories, storyID)
}

// file files pool entry j under keys.
func (bc *batchClusters) file(j int, keys []uint64) {
	for _, k := range keys {
		bc.byKey[k] = append(bc.byKey[k], j)
	}
}

// assignment is where a fresh story went.
type assignment struct {
	cluster string
	isNew   bool // the story starts its cluster
	// copyOf is the story the fresh one is a verbatim copy of (""
	// none), and stored is true when that story is a stored one: its
	// fingerprint stands in for the copy's.
	copyOf string
	stored bool
	// why are the names and numbers shared with the story it joined, when
	// its facts joined it and its wording did not.
	why []string
}

// assign returns where a fresh story goes, and adds it to the candidates of
// the rest of the batch.
func (bc *batchClusters) assign(s *story.Story, p textPrint) assignment {
	keys := p.keys()
	var idx []int
	for _, k := range keys {
		idx = append(idx, bc.byKey[k]...)
	}
	slices.Sort(idx)
	idx = slices.Compact(idx)
	cands := make([]cluster.Candidate, len(idx))
	for i, j := range idx {
		cands[i] = bc.pool[j]
	}
	a := assignment{cluster: s.ID}
	if v := bc.judge.Decide(&p.sig, &p.facts, s.Fetched, cands); v.Index >= 0 {
		j := idx[v.Index]
		a.cluster = bc.clusters[j]
		switch {
		case bc.pool[j].Sig.Same(p.sig):
			a.copyOf, a.stored = bc.stories[j], j < bc.fresh
		case v.ByFacts:
			a.why = cluster.Shared(&p.facts, &bc.pool[j].Facts, whyTerms)
		}
	}
	a.isNew = a.cluster == s.ID
	if a.copyOf != "" {
		// A verbatim copy adds nothing to find: the story it copies is
		// found under the same keys. It still counts as a carrier.
		bc.add(p, nil, s.Fetched, a.cluster, s.Source, s.ID)
		return a
	}
	bc.add(p, keys, s.Fetched, a.cluster, s.Source, s.ID)
	return a
}

// carriers returns the distinct sources that carried a cluster since a time,
// in the order they first did: the stored stories', then this batch's.
func (bc *batchClusters) carriers(ctx context.Context, id string, since time.Time) ([]string, error) {
	out, err := bc.tx.ClusterSources(ctx, id, since)
	if err != nil {
		return nil, err
	}
	for i := bc.fresh; i < len(bc.pool); i++ {
		if bc.clusters[i] == id && !bc.pool[i].At.Before(since) && !slices.Contains(out, bc.sources[i]) {
			out = append(out, bc.sources[i])
		}
	}
	return out, nil
}

// boilerplateSummary reports whether the stories of one fetch all carry the
// same summary ("Click here to read the full story").
func boilerplateSummary(batch []story.Story) bool {
	if len(batch) < 3 || batch[0].Summary == "" {
		return false
	}
	for _, s := range batch[1:] {
		if s.Summary != batch[0].Summary {
			return false
		}
	}
	return true
}
