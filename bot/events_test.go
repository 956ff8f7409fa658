package bot

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/cluster"
	"github.com/wirewatch/wirewatch/cluster/eventset"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/sqlite"
	"github.com/wirewatch/wirewatch/story"
)

func readEventSet(t *testing.T, path string) []eventset.Story {
	t.Helper()
	stories, err := eventset.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]eventset.Story, 0, len(stories))
	for _, i := range eventset.Order(stories) {
		out = append(out, stories[i])
	}
	return out
}

// TestEventSetsThroughTheStore clusters the hand-labelled event sets the
// way the bot does, through a SQLite store (term counts, fingerprint keys,
// candidates read back in the ingest transaction), one story a fetch at
// its publication time, and holds the pairwise figures to those that
// cluster.TestEvents and cluster.TestHeldOut report for the same sets
// (docs/PERFORMANCE.md): the store loses no candidate the judge needs.
func TestEventSetsThroughTheStore(t *testing.T) {
	for _, set := range []struct {
		path                   string
		wantTP, wantFP, wantFN int
	}{
		{path: "events.jsonl", wantTP: 304, wantFP: 0, wantFN: 20},
		{path: "heldout.jsonl", wantTP: 289, wantFP: 4, wantFN: 26},
		{path: "heldout2.jsonl", wantTP: 315, wantFP: 4, wantFN: 10},
		{path: "heldout3.jsonl", wantTP: 300, wantFP: 10, wantFN: 25},
		{path: "heldout4.jsonl", wantTP: 280, wantFP: 92, wantFN: 22},
		{path: "heldout5.jsonl", wantTP: 215, wantFP: 36, wantFN: 37},
		{path: "heldout6.jsonl", wantTP: 270, wantFP: 27, wantFN: 89},
		{path: "heldout7.jsonl", wantTP: 212, wantFP: 4, wantFN: 95},
		{path: "heldout8.jsonl", wantTP: 193, wantFP: 6, wantFN: 83},
		{path: "heldout9.jsonl", wantTP: 219, wantFP: 3, wantFN: 60},
		{path: "heldout10.jsonl", wantTP: 168, wantFP: 20, wantFN: 48},
		{path: "heldout11.jsonl", wantTP: 258, wantFP: 10, wantFN: 75},
		{path: "heldout12.jsonl", wantTP: 220, wantFP: 39, wantFN: 119},
		{path: "heldout13.jsonl", wantTP: 190, wantFP: 37, wantFN: 103},
		{path: "heldout14.jsonl", wantTP: 236, wantFP: 24, wantFN: 74},
		{path: "heldout15.jsonl", wantTP: 224, wantFP: 23, wantFN: 97},
		{path: "heldout16.jsonl", wantTP: 224, wantFP: 9, wantFN: 103},
		{path: "heldout17.jsonl", wantTP: 189, wantFP: 26, wantFN: 112},
		{path: "heldout18.jsonl", wantTP: 239, wantFP: 2, wantFN: 88},
		{path: "heldout19.jsonl", wantTP: 228, wantFP: 7, wantFN: 124},
		{path: "heldout20.jsonl", wantTP: 208, wantFP: 4, wantFN: 132},
		{path: "heldout21.jsonl", wantTP: 211, wantFP: 24, wantFN: 129},
		{path: "heldout22.jsonl", wantTP: 250, wantFP: 1, wantFN: 87},
		{path: "heldout23.jsonl", wantTP: 212, wantFP: 6, wantFN: 83},
		{path: "heldout24.jsonl", wantTP: 253, wantFP: 3, wantFN: 89},
		{path: "heldout25.jsonl", wantTP: 204, wantFP: 23, wantFN: 125},
		{path: "heldout26.jsonl", wantTP: 256, wantFP: 12, wantFN: 83},
		{path: "heldout27.jsonl", wantTP: 205, wantFP: 7, wantFN: 99},
		{path: "heldout28.jsonl", wantTP: 235, wantFP: 14, wantFN: 82},
		{path: "heldout29.jsonl", wantTP: 233, wantFP: 7, wantFN: 109},
		{path: "heldout30.jsonl", wantTP: 201, wantFP: 20, wantFN: 121},
		{path: "heldout31.jsonl", wantTP: 232, wantFP: 21, wantFN: 94},
		{path: "heldout32.jsonl", wantTP: 180, wantFP: 11, wantFN: 114},
		{path: "heldout33.jsonl", wantTP: 162, wantFP: 20, wantFN: 103},
		{path: "heldout34.jsonl", wantTP: 210, wantFP: 12, wantFN: 114},
		{path: "heldout35.jsonl", wantTP: 254, wantFP: 43, wantFN: 94},
	} {
		t.Run(set.path, func(t *testing.T) {
			t.Parallel() // each set has a store of its own
			stories := readEventSet(t, filepath.Join("..", "cluster", "testdata", set.path))
			clusters := clusterThroughStore(t, stories)
			tp, fp, fn := 0, 0, 0
			for i := range stories {
				for j := i + 1; j < len(stories); j++ {
					same := stories[i].Event == stories[j].Event
					together := clusters[stories[i].ID] == clusters[stories[j].ID]
					switch {
					case same && together:
						tp++
					case together:
						fp++
					case same:
						fn++
					}
				}
			}
			t.Logf("%d stories: precision %.3f, recall %.3f (tp %d, fp %d, fn %d)", len(stories),
				float64(tp)/float64(tp+fp), float64(tp)/float64(tp+fn), tp, fp, fn)
			if tp != set.wantTP || fp != set.wantFP || fn != set.wantFN {
				t.Errorf("through the store tp %d, fp %d, fn %d; the cluster package's judge alone gives tp %d, fp %d, fn %d",
					tp, fp, fn, set.wantTP, set.wantFP, set.wantFN)
			}
		})
	}
}

// clusterThroughStore ingests the stories one a fetch and returns each
// story's cluster as the store keeps it.
func clusterThroughStore(t *testing.T, stories []eventset.Story) map[string]string {
	t.Helper()
	ctx := context.Background()
	// The store's clock is the fetch time of the story being ingested: a
	// verbatim copy moves its original's fetch time up to it.
	var now atomic.Pointer[time.Time]
	now.Store(&stories[0].Published)
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "events.db"), sqlite.WithClock(func() time.Time { return *now.Load() }))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.SyncConfigSources(ctx, []store.Source{{Name: "events", URL: "http://127.0.0.1:1/events", Origin: store.OriginConfig}}); err != nil {
		t.Fatal(err)
	}
	srcs, err := st.Sources(ctx)
	if err != nil || len(srcs) != 1 {
		t.Fatalf("sources %v, %v", srcs, err)
	}
	p := planner{rules: NewRuleSet(st, slog.New(slog.NewTextHandler(io.Discard, nil))),
		judge: newJudge(cluster.Options{})}
	none := func([]story.Story) map[string]bool { return nil }
	for _, e := range stories {
		s := story.Story{ID: e.ID, SourceID: srcs[0].ID, Source: e.Source, Title: e.Title, Summary: e.Summary,
			URL: "https://news.example/" + e.ID, CanonicalURL: "https://news.example/" + e.ID,
			Published: e.Published, Fetched: e.Published}
		batch := []story.Story{s}
		now.Store(&e.Published)
		if _, err := st.Ingest(ctx, srcs[0].ID, batch, p.plan(none, prints(batch))); err != nil {
			t.Fatalf("ingest %s: %v", e.ID, err)
		}
	}
	out := make(map[string]string, len(stories))
	for _, e := range stories {
		s, err := st.Story(ctx, e.ID)
		if err != nil {
			t.Fatalf("story %s: %v", e.ID, err)
		}
		out[e.ID] = s.Cluster
	}
	return out
}
