package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

// TestStoryPageSaysWhyOneEvent: a story joined to an earlier one by its
// names and numbers links to it and lists them, escaped; a story that
// started its cluster says nothing of it.
func TestStoryPageSaysWhyOneEvent(t *testing.T) {
	e := newEnv(t)
	e.seed()
	src, err := e.st.Sources(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.st.Ingest(t.Context(), src[0].ID, []story.Story{{ID: "rewrite", Source: "Wire",
		Title: "Shenzhen engineers brace for Nvidia layoffs", Published: time.Now()}},
		func(_ context.Context, _ store.PlanTx, fresh []story.Story) (store.Plan, error) {
			fresh[0].Cluster, fresh[0].ClusterWhy = "s01", []string{"Shenzhen", "1,150", "<b>x</b>"}
			return store.Plan{}, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	_, body := e.request("GET", "/stories/rewrite", "")
	if !strings.Contains(body, `id="story-cluster"`) || !strings.Contains(body, `href="/stories/s01"`) ||
		!strings.Contains(body, "both name Shenzhen, 1,150, &lt;b&gt;x&lt;/b&gt;") {
		t.Errorf("story page does not say why it is one event with s01:\n%s", body)
	}
	if _, body := e.request("GET", "/stories/s01", ""); strings.Contains(body, `id="story-cluster"`) {
		t.Error("a story that started its cluster says it joined one")
	}
}
