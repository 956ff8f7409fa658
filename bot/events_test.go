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
		{path: "events.jsonl", wantTP: 299, wantFP: 0, wantFN: 25},
		{path: "heldout.jsonl", wantTP: 278, wantFP: 4, wantFN: 37},
		{path: "heldout2.jsonl", wantTP: 314, wantFP: 7, wantFN: 11},
		{path: "heldout3.jsonl", wantTP: 298, wantFP: 7, wantFN: 27},
		{path: "heldout4.jsonl", wantTP: 275, wantFP: 55, wantFN: 27},
		{path: "heldout5.jsonl", wantTP: 214, wantFP: 21, wantFN: 38},
		{path: "heldout6.jsonl", wantTP: 282, wantFP: 20, wantFN: 77},
		{path: "heldout7.jsonl", wantTP: 210, wantFP: 0, wantFN: 97},
		{path: "heldout8.jsonl", wantTP: 200, wantFP: 8, wantFN: 76},
		{path: "heldout9.jsonl", wantTP: 219, wantFP: 0, wantFN: 60},
		{path: "heldout10.jsonl", wantTP: 175, wantFP: 5, wantFN: 41},
		{path: "heldout11.jsonl", wantTP: 270, wantFP: 10, wantFN: 63},
		{path: "heldout12.jsonl", wantTP: 224, wantFP: 42, wantFN: 115},
		{path: "heldout13.jsonl", wantTP: 201, wantFP: 24, wantFN: 92},
		{path: "heldout14.jsonl", wantTP: 242, wantFP: 20, wantFN: 68},
		{path: "heldout15.jsonl", wantTP: 228, wantFP: 10, wantFN: 93},
		{path: "heldout16.jsonl", wantTP: 245, wantFP: 0, wantFN: 82},
		{path: "heldout17.jsonl", wantTP: 175, wantFP: 12, wantFN: 126},
		{path: "heldout18.jsonl", wantTP: 251, wantFP: 5, wantFN: 76},
		{path: "heldout19.jsonl", wantTP: 249, wantFP: 1, wantFN: 103},
		{path: "heldout20.jsonl", wantTP: 228, wantFP: 3, wantFN: 112},
		{path: "heldout21.jsonl", wantTP: 254, wantFP: 17, wantFN: 86},
		{path: "heldout22.jsonl", wantTP: 268, wantFP: 0, wantFN: 69},
		{path: "heldout23.jsonl", wantTP: 235, wantFP: 4, wantFN: 60},
		{path: "heldout24.jsonl", wantTP: 294, wantFP: 4, wantFN: 48},
		{path: "heldout25.jsonl", wantTP: 234, wantFP: 20, wantFN: 95},
		{path: "heldout26.jsonl", wantTP: 270, wantFP: 6, wantFN: 69},
		{path: "heldout27.jsonl", wantTP: 229, wantFP: 0, wantFN: 75},
		{path: "heldout28.jsonl", wantTP: 235, wantFP: 8, wantFN: 82},
		{path: "heldout29.jsonl", wantTP: 238, wantFP: 4, wantFN: 104},
		{path: "heldout30.jsonl", wantTP: 195, wantFP: 22, wantFN: 127},
		{path: "heldout31.jsonl", wantTP: 232, wantFP: 12, wantFN: 94},
		{path: "heldout32.jsonl", wantTP: 174, wantFP: 9, wantFN: 120},
		{path: "heldout33.jsonl", wantTP: 163, wantFP: 23, wantFN: 102},
		{path: "heldout34.jsonl", wantTP: 198, wantFP: 4, wantFN: 126},
		{path: "heldout35.jsonl", wantTP: 239, wantFP: 12, wantFN: 109},
		{path: "heldout36.jsonl", wantTP: 267, wantFP: 6, wantFN: 94},
		{path: "heldout37.jsonl", wantTP: 235, wantFP: 3, wantFN: 98},
		{path: "heldout38.jsonl", wantTP: 238, wantFP: 0, wantFN: 123},
		{path: "heldout39.jsonl", wantTP: 244, wantFP: 6, wantFN: 104},
		{path: "heldout40.jsonl", wantTP: 245, wantFP: 4, wantFN: 104},
		{path: "heldout41.jsonl", wantTP: 252, wantFP: 5, wantFN: 98},
		{path: "heldout42.jsonl", wantTP: 215, wantFP: 2, wantFN: 146},
		{path: "heldout43.jsonl", wantTP: 204, wantFP: 7, wantFN: 123},
		{path: "heldout44.jsonl", wantTP: 245, wantFP: 4, wantFN: 91},
		{path: "heldout45.jsonl", wantTP: 218, wantFP: 1, wantFN: 100},
		{path: "heldout46.jsonl", wantTP: 210, wantFP: 4, wantFN: 102},
		{path: "heldout47.jsonl", wantTP: 238, wantFP: 4, wantFN: 102},
		{path: "heldout48.jsonl", wantTP: 203, wantFP: 0, wantFN: 124},
		{path: "heldout49.jsonl", wantTP: 255, wantFP: 2, wantFN: 102},
		{path: "heldout50.jsonl", wantTP: 249, wantFP: 9, wantFN: 108},
		{path: "heldout51.jsonl", wantTP: 235, wantFP: 4, wantFN: 107},
		{path: "heldout52.jsonl", wantTP: 372, wantFP: 0, wantFN: 29},
		{path: "heldout53.jsonl", wantTP: 284, wantFP: 11, wantFN: 86},
		{path: "heldout54.jsonl", wantTP: 332, wantFP: 12, wantFN: 33},
		{path: "heldout55.jsonl", wantTP: 239, wantFP: 0, wantFN: 43},
		{path: "heldout56.jsonl", wantTP: 241, wantFP: 9, wantFN: 43},
		{path: "heldout57.jsonl", wantTP: 261, wantFP: 0, wantFN: 90},
		{path: "heldout58.jsonl", wantTP: 259, wantFP: 0, wantFN: 34},
		{path: "heldout59.jsonl", wantTP: 239, wantFP: 1, wantFN: 49},
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
