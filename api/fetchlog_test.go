package api_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/api"
	"github.com/wirewatch/wirewatch/store"
)

func TestSourceFetchLog(t *testing.T) {
	e := newEnv(t, envOpt{})
	ctx := context.Background()
	src, err := e.st.AddSource(ctx, store.Source{Name: "Wire", URL: "https://wire.example/rss"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		entry := store.FetchLogEntry{SourceID: src.ID, At: now.Add(time.Duration(i) * time.Minute), Status: 200,
			Items: 10, Fresh: i, Bytes: 2048, Duration: 250 * time.Millisecond}
		if i == 2 {
			entry = store.FetchLogEntry{SourceID: src.ID, At: now.Add(2 * time.Minute), Status: 503,
				Duration: time.Second, Error: `fetch "Wire": status 503`}
		}
		if err := e.st.LogFetch(ctx, entry); err != nil {
			t.Fatal(err)
		}
	}

	var log api.FetchLog
	if code := e.do("GET", fmt.Sprintf("/api/v1/sources/%d/log", src.ID), nil, &log); code != 200 || len(log.Entries) != 3 || log.SourceID != src.ID {
		t.Fatalf("log: %d %+v", code, log)
	}
	if got := log.Entries[0]; got.Status != 503 || got.Error != `fetch "Wire": status 503` || got.DurationMS != 1000 || !got.At.Equal(now.Add(2*time.Minute)) {
		t.Errorf("newest entry = %+v, want the 503", got)
	}
	if got := log.Entries[1]; got.Status != 200 || got.Items != 10 || got.Fresh != 1 || got.Bytes != 2048 || got.DurationMS != 250 || got.Error != "" {
		t.Errorf("second entry = %+v", got)
	}
	if code := e.do("GET", fmt.Sprintf("/api/v1/sources/%d/log?limit=1", src.ID), nil, &log); code != 200 || len(log.Entries) != 1 || log.Entries[0].Status != 503 {
		t.Fatalf("limit=1: %d %+v", code, log)
	}

	var apiErr api.Error
	for path, want := range map[string]int{
		"/api/v1/sources/999/log":                               404,
		"/api/v1/sources/abc/log":                               400,
		fmt.Sprintf("/api/v1/sources/%d/log?limit=0", src.ID):   400,
		fmt.Sprintf("/api/v1/sources/%d/log?limit=201", src.ID): 400,
	} {
		if code := e.do("GET", path, nil, &apiErr); code != want || apiErr.Error == "" {
			t.Errorf("GET %s: %d %+v, want %d with an error", path, code, apiErr, want)
		}
	}

	var empty api.FetchLog
	other, err := e.st.AddSource(ctx, store.Source{Name: "Quiet", URL: "https://quiet.example/rss"})
	if err != nil {
		t.Fatal(err)
	}
	if code := e.do("GET", fmt.Sprintf("/api/v1/sources/%d/log", other.ID), nil, &empty); code != 200 || empty.Entries == nil || len(empty.Entries) != 0 {
		t.Errorf("log of a source never fetched: %d %+v, want an empty list", code, empty)
	}
}
