package bot

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/wirewatch/wirewatch/cluster"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

// ClusterWindow is how far apart two stories may be and still be one event.
const ClusterWindow = 72 * time.Hour

// clusters assigns new stories to clusters of near-duplicates and remembers
// which sources carried each cluster, for follow-ups and surge alerts. It is
// rebuilt from the store's recent stories at start, so cluster ids and source
// counts survive restarts.
type clusters struct {
	index  *cluster.Index
	window time.Duration

	mu       sync.Mutex
	loaded   bool
	carriers map[string][]sighting // cluster id → sources that carried it
}

// sighting is one source carrying a cluster at a time.
type sighting struct {
	source string
	at     time.Time
}

func newClusters(window time.Duration) *clusters {
	return &clusters{
		index:    cluster.NewIndex(cluster.Options{Window: window}),
		window:   window,
		carriers: map[string][]sighting{},
	}
}

// load indexes the stored stories of the last window, oldest first, once.
func (c *clusters) load(ctx context.Context, st store.Store, now time.Time) error {
	c.mu.Lock()
	done := c.loaded
	c.mu.Unlock()
	if done {
		return nil
	}
	recent, err := st.Stories(ctx, store.StoryQuery{FetchedSince: now.Add(-c.window), Limit: 1 << 30})
	if err != nil {
		return fmt.Errorf("load story clusters: %w", err)
	}
	slices.SortStableFunc(recent, func(a, b story.Story) int { return a.Fetched.Compare(b.Fetched) })
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range recent {
		s := &recent[i]
		id := s.Cluster
		if id == "" {
			id = s.ID
		}
		c.index.Add(s.ID, id, cluster.Sign(s.Title, s.Summary), s.Fetched)
		c.carriers[id] = append(c.carriers[id], sighting{s.Source, s.Fetched})
	}
	c.loaded = true
	return nil
}

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

// assign finds the cluster of a new story, given its signature, and records
// its source. isNew reports whether the story starts the cluster.
func (c *clusters) assign(s *story.Story, sig cluster.Signature) (id string, isNew bool) {
	id, isNew = c.index.Assign(s.ID, sig, s.Fetched)
	if id == s.ID {
		isNew = true // a story is always first in the cluster named after it
	}
	c.mu.Lock()
	c.carriers[id] = append(c.carriers[id], sighting{s.Source, s.Fetched})
	c.mu.Unlock()
	return id, isNew
}

// sources returns the distinct sources that carried a cluster since a time,
// in the order they first did.
func (c *clusters) sources(id string, since time.Time) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, s := range c.carriers[id] {
		if !s.at.Before(since) && !slices.Contains(out, s.source) {
			out = append(out, s.source)
		}
	}
	return out
}

// expire forgets stories and sightings older than the window.
func (c *clusters) expire(now time.Time) {
	c.index.Expire(now)
	cutoff := now.Add(-c.window)
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, ss := range c.carriers {
		keep := ss[:0]
		for _, s := range ss {
			if !s.at.Before(cutoff) {
				keep = append(keep, s)
			}
		}
		if len(keep) == 0 {
			delete(c.carriers, id)
		} else {
			c.carriers[id] = keep
		}
	}
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
