package storetest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

// testFetchLog: every fetch attempt is kept, newest first, up to
// store.FetchLogKeep per source; a source's log goes with it.
func testFetchLog(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := addSource(t, s, "A")
	b := addSource(t, s, "B")
	t0 := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)

	if got, err := s.FetchLog(ctx, a.ID, 0); err != nil || len(got) != 0 {
		t.Fatalf("FetchLog of a new source = %+v, %v; want none", got, err)
	}
	full := store.FetchLogEntry{
		SourceID: b.ID, At: time.Date(2026, 11, 28, 10, 0, 0, 123456789, time.FixedZone("CET", 3600)),
		Status: 200, Items: 30, Fresh: 4, Bytes: 51200, Duration: 1500*time.Millisecond + 700*time.Microsecond,
	}
	failed := store.FetchLogEntry{SourceID: b.ID, At: t0.Add(2 * time.Hour), Status: 503, Duration: time.Second, Error: `fetch "B": status 503`}
	notModified := store.FetchLogEntry{SourceID: b.ID, At: t0.Add(3 * time.Hour), Status: 304, NotModified: true}
	for _, e := range []store.FetchLogEntry{full, failed, notModified} {
		check(t, s.LogFetch(ctx, e))
	}
	got, err := s.FetchLog(ctx, b.ID, 0)
	check(t, err)
	if len(got) != 3 {
		t.Fatalf("FetchLog(B) = %+v, want 3 entries", got)
	}
	for _, e := range got {
		if e.ID == 0 {
			t.Errorf("entry without an id: %+v", e)
		}
	}
	want := []store.FetchLogEntry{notModified, failed, full}
	want[2].At = time.Date(2026, 11, 28, 9, 0, 0, 123000000, time.UTC)
	want[2].Duration = 1500 * time.Millisecond
	for i := range want {
		want[i].ID = got[i].ID
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FetchLog(B) =\n%+v\nwant (newest first, times UTC to the millisecond, durations to the millisecond)\n%+v", got, want)
	}

	// The newest FetchLogKeep entries of A stay; B's are not touched.
	n := store.FetchLogKeep + 5
	for i := range n {
		check(t, s.LogFetch(ctx, store.FetchLogEntry{SourceID: a.ID, At: t0.Add(time.Duration(i) * time.Minute), Status: 200, Items: i}))
	}
	all, err := s.FetchLog(ctx, a.ID, 10*store.FetchLogKeep)
	check(t, err)
	if len(all) != store.FetchLogKeep || all[0].Items != n-1 || all[len(all)-1].Items != n-store.FetchLogKeep {
		t.Fatalf("FetchLog(A) has %d entries, items %d … %d; want the newest %d, %d … %d",
			len(all), all[0].Items, all[len(all)-1].Items, store.FetchLogKeep, n-1, n-store.FetchLogKeep)
	}
	page, err := s.FetchLog(ctx, a.ID, 0)
	check(t, err)
	if len(page) != 50 || page[0].Items != n-1 {
		t.Errorf("FetchLog(A, 0) has %d entries starting at item %d, want the newest 50", len(page), page[0].Items)
	}
	if page, _ := s.FetchLog(ctx, a.ID, 2); len(page) != 2 || page[1].Items != n-2 {
		t.Errorf("FetchLog(A, 2) = %+v, want the newest 2", page)
	}
	if got, _ := s.FetchLog(ctx, b.ID, 0); len(got) != 3 {
		t.Errorf("FetchLog(B) after A's trim has %d entries, want 3", len(got))
	}

	if err := s.LogFetch(ctx, store.FetchLogEntry{SourceID: 9999, At: t0}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LogFetch(9999) error = %v, want ErrNotFound", err)
	}
	check(t, s.RemoveSource(ctx, a.ID))
	if got, err := s.FetchLog(ctx, a.ID, 0); err != nil || len(got) != 0 {
		t.Errorf("FetchLog of a removed source = %d entries, %v; want none", len(got), err)
	}
}
