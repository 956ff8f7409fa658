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

// signatures signs every story of one fetch, outside the ingest transaction
// (signing is the costly part). Summaries a feed repeats on every item are
// left out: they say nothing about which event a story is.
func signatures(batch []story.Story) map[string]cluster.Signature {
	boilerplate := boilerplateSummary(batch)
	sigs := make(map[string]cluster.Signature, len(batch))
	for i := range batch {
		summary := batch[i].Summary
		if boilerplate {
			summary = ""
		}
		sigs[batch[i].ID] = cluster.Sign(batch[i].Title, summary)
	}
	return sigs
}

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
	fresh    int // pool entries from index fresh on are this batch's
}

// newBatchClusters reads the candidates of the fresh stories' signatures.
func newBatchClusters(ctx context.Context, judge *cluster.Judge, tx store.PlanTx, fresh []story.Story, sigs map[string]cluster.Signature) (*batchClusters, error) {
	var keys []uint64
	since := time.Time{}
	for i := range fresh {
		keys = append(keys, sigs[fresh[i].ID].Keys()...)
		if at := fresh[i].Fetched.Add(-judge.Window()); since.IsZero() || at.Before(since) {
			since = at
		}
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	cands, err := tx.Candidates(ctx, keys, since, cluster.PerKey)
	if err != nil {
		return nil, err
	}
	bc := &batchClusters{judge: judge, tx: tx, byKey: map[uint64][]int{}}
	for _, c := range cands {
		var sig cluster.Signature
		if sig.UnmarshalBinary(c.Sig) != nil {
			continue // written by another version: no candidate
		}
		id := c.Cluster
		if id == "" {
			id = c.StoryID
		}
		bc.add(sig, c.Keys, c.Fetched, id, c.Source, c.StoryID)
	}
	bc.fresh = len(bc.pool)
	return bc, nil
}

func (bc *batchClusters) add(sig cluster.Signature, keys []uint64, at time.Time, id, source, storyID string) {
	for _, k := range keys {
		bc.byKey[k] = append(bc.byKey[k], len(bc.pool))
	}
	bc.pool = append(bc.pool, cluster.Candidate{Sig: sig, At: at})
	bc.clusters = append(bc.clusters, id)
	bc.sources = append(bc.sources, source)
	bc.stories = append(bc.stories, storyID)
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
}

// assign returns where a fresh story goes, and adds it to the candidates of
// the rest of the batch.
func (bc *batchClusters) assign(s *story.Story, sig cluster.Signature) assignment {
	keys := sig.Keys()
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
	if best := bc.judge.Best(&sig, s.Fetched, cands); best >= 0 {
		j := idx[best]
		a.cluster = bc.clusters[j]
		if bc.pool[j].Sig.Same(sig) {
			a.copyOf, a.stored = bc.stories[j], j < bc.fresh
		}
	}
	a.isNew = a.cluster == s.ID
	if a.copyOf != "" {
		// A verbatim copy adds nothing to find: the story it copies is
		// found under the same keys. It still counts as a carrier.
		bc.add(sig, nil, s.Fetched, a.cluster, s.Source, s.ID)
		return a
	}
	bc.add(sig, keys, s.Fetched, a.cluster, s.Source, s.ID)
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
