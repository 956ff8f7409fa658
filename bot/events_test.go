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
		{path: "events.jsonl", wantTP: 298, wantFP: 0, wantFN: 26},
		{path: "heldout.jsonl", wantTP: 280, wantFP: 8, wantFN: 35},
		{path: "heldout2.jsonl", wantTP: 314, wantFP: 8, wantFN: 11},
		{path: "heldout3.jsonl", wantTP: 295, wantFP: 3, wantFN: 30},
		{path: "heldout4.jsonl", wantTP: 271, wantFP: 59, wantFN: 31},
		{path: "heldout5.jsonl", wantTP: 213, wantFP: 28, wantFN: 39},
		{path: "heldout6.jsonl", wantTP: 277, wantFP: 15, wantFN: 82},
		{path: "heldout7.jsonl", wantTP: 205, wantFP: 0, wantFN: 102},
		{path: "heldout8.jsonl", wantTP: 195, wantFP: 4, wantFN: 81},
		{path: "heldout9.jsonl", wantTP: 215, wantFP: 0, wantFN: 64},
		{path: "heldout10.jsonl", wantTP: 172, wantFP: 5, wantFN: 44},
		{path: "heldout11.jsonl", wantTP: 258, wantFP: 9, wantFN: 75},
		{path: "heldout12.jsonl", wantTP: 224, wantFP: 42, wantFN: 115},
		{path: "heldout13.jsonl", wantTP: 197, wantFP: 21, wantFN: 96},
		{path: "heldout14.jsonl", wantTP: 242, wantFP: 18, wantFN: 68},
		{path: "heldout15.jsonl", wantTP: 220, wantFP: 10, wantFN: 101},
		{path: "heldout16.jsonl", wantTP: 244, wantFP: 1, wantFN: 83},
		{path: "heldout17.jsonl", wantTP: 185, wantFP: 10, wantFN: 116},
		{path: "heldout18.jsonl", wantTP: 249, wantFP: 4, wantFN: 78},
		{path: "heldout19.jsonl", wantTP: 246, wantFP: 4, wantFN: 106},
		{path: "heldout20.jsonl", wantTP: 227, wantFP: 3, wantFN: 113},
		{path: "heldout21.jsonl", wantTP: 248, wantFP: 19, wantFN: 92},
		{path: "heldout22.jsonl", wantTP: 275, wantFP: 2, wantFN: 62},
		{path: "heldout23.jsonl", wantTP: 226, wantFP: 3, wantFN: 69},
		{path: "heldout24.jsonl", wantTP: 285, wantFP: 4, wantFN: 57},
		{path: "heldout25.jsonl", wantTP: 227, wantFP: 18, wantFN: 102},
		{path: "heldout26.jsonl", wantTP: 276, wantFP: 6, wantFN: 63},
		{path: "heldout27.jsonl", wantTP: 226, wantFP: 3, wantFN: 78},
		{path: "heldout28.jsonl", wantTP: 234, wantFP: 3, wantFN: 83},
		{path: "heldout29.jsonl", wantTP: 236, wantFP: 4, wantFN: 106},
		{path: "heldout30.jsonl", wantTP: 189, wantFP: 26, wantFN: 133},
		{path: "heldout31.jsonl", wantTP: 227, wantFP: 12, wantFN: 99},
		{path: "heldout32.jsonl", wantTP: 171, wantFP: 4, wantFN: 123},
		{path: "heldout33.jsonl", wantTP: 163, wantFP: 22, wantFN: 102},
		{path: "heldout34.jsonl", wantTP: 198, wantFP: 4, wantFN: 126},
		{path: "heldout35.jsonl", wantTP: 246, wantFP: 12, wantFN: 102},
		{path: "heldout36.jsonl", wantTP: 261, wantFP: 6, wantFN: 100},
		{path: "heldout37.jsonl", wantTP: 230, wantFP: 2, wantFN: 103},
		{path: "heldout38.jsonl", wantTP: 233, wantFP: 0, wantFN: 128},
		{path: "heldout39.jsonl", wantTP: 243, wantFP: 6, wantFN: 105},
		{path: "heldout40.jsonl", wantTP: 243, wantFP: 0, wantFN: 106},
		{path: "heldout41.jsonl", wantTP: 252, wantFP: 3, wantFN: 98},
		{path: "heldout42.jsonl", wantTP: 211, wantFP: 2, wantFN: 150},
		{path: "heldout43.jsonl", wantTP: 204, wantFP: 5, wantFN: 123},
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
