package bot_test

import (
	"context"
	"strings"
	"testing"

	"github.com/wirewatch/wirewatch/store"
)

func TestEveryFetchAttemptIsLogged(t *testing.T) {
	h := newHarness(t)
	h.feeds.set("/a", backlog(3)...)
	h.source("Feed A", "/a", 0)
	h.source("Missing", "/missing", 0)
	h.start()
	h.once() // A: 200 with 3 new items
	h.once() // A: 304

	ctx := context.Background()
	srcs, err := h.st.Sources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]store.Source{}
	for _, s := range srcs {
		byName[s.Name] = s
	}

	log, err := h.st.FetchLog(ctx, byName["Feed A"].ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 2 {
		t.Fatalf("fetch log of Feed A = %+v, want 2 entries", log)
	}
	notModified, full := log[0], log[1]
	if full.Status != 200 || full.NotModified || full.Items != 3 || full.Fresh != 3 || full.Bytes <= 0 || full.Error != "" {
		t.Errorf("first fetch = %+v, want 200 with 3 items, 3 new, a size and no error", full)
	}
	if notModified.Status != 304 || !notModified.NotModified || notModified.Items != 0 || notModified.Fresh != 0 || notModified.Error != "" {
		t.Errorf("second fetch = %+v, want 304 not modified with no items", notModified)
	}
	if notModified.At.Before(full.At) {
		t.Errorf("entries out of order: %v before %v", notModified.At, full.At)
	}

	log, err = h.st.FetchLog(ctx, byName["Missing"].ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 2 {
		t.Fatalf("fetch log of Missing = %+v, want 2 entries", log)
	}
	for _, e := range log {
		if e.Status != 404 || e.Error == "" || !strings.Contains(e.Error, "Missing") || e.Items != 0 {
			t.Errorf("failed fetch = %+v, want 404 with the error naming the source", e)
		}
	}
}
