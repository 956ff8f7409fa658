package web_test

import (
	"context"
	"fmt"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

func TestSourcePageShowsFetchLog(t *testing.T) {
	e := newEnv(t)
	e.seed()
	ctx := context.Background()
	srcs, err := e.st.Sources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wire, flaky := srcs[0], srcs[1]

	_, body := e.request("GET", fmt.Sprintf("/sources/%d", wire.ID), "")
	if !strings.Contains(body, "No fetches logged yet.") || strings.Contains(body, `id="fetch-log"`) {
		t.Fatal("a source never fetched shows a fetch log")
	}
	if strings.Contains(body, "keeps no history") {
		t.Fatal("the page still says there is no fetch history")
	}

	// 60 fetches of Wire, every other one a 304: the page shows the newest 50.
	for i := range 60 {
		entry := store.FetchLogEntry{SourceID: wire.ID, At: now.Add(time.Duration(i-60) * time.Minute), Status: 200,
			Items: 20, Fresh: 7, Bytes: 2048, Duration: 250 * time.Millisecond}
		if i%2 == 1 {
			entry = store.FetchLogEntry{SourceID: wire.ID, At: entry.At, Status: 304, NotModified: true, Duration: 1500 * time.Millisecond}
		}
		if err := e.st.LogFetch(ctx, entry); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.st.LogFetch(ctx, store.FetchLogEntry{SourceID: flaky.ID, At: now.Add(-time.Minute), Status: 503,
		Duration: 3 * time.Second, Error: `fetch "Flaky": status 503 <b>bold</b>`}); err != nil {
		t.Fatal(err)
	}

	resp, body := e.request("GET", fmt.Sprintf("/sources/%d", wire.ID), "")
	if resp.StatusCode != 200 {
		t.Fatalf("source page: %d", resp.StatusCode)
	}
	table := between(t, body, `<table class="fetch-log" id="fetch-log">`, `</table>`)
	rows := strings.Split(between(t, table, "<tbody>", "</tbody>"), "<tr>")[1:]
	if len(rows) != 50 {
		t.Fatalf("fetch log shows %d rows, want the newest 50", len(rows))
	}
	// The newest (i = 59) is a 304, the one before it a 200 with items.
	for _, want := range []string{"not modified", "<td>304</td>", "1.5 s"} {
		if !strings.Contains(rows[0], want) {
			t.Errorf("newest row lacks %q: %s", want, rows[0])
		}
	}
	for _, want := range []string{`<span class="badge ok">ok</span>`, "<td>200</td>", "<td>20</td>", "<td>7</td>", "2.0 KiB", "250 ms"} {
		if !strings.Contains(rows[1], want) {
			t.Errorf("second row lacks %q: %s", want, rows[1])
		}
	}

	_, body = e.request("GET", fmt.Sprintf("/sources/%d", flaky.ID), "")
	table = between(t, body, `<table class="fetch-log" id="fetch-log">`, `</table>`)
	for _, want := range []string{"failed", "<td>503</td>", `fetch &#34;Flaky&#34;: status 503 &lt;b&gt;bold&lt;/b&gt;`, "3.0 s"} {
		if !strings.Contains(table, want) {
			t.Errorf("failed fetch lacks %q: %s", want, table)
		}
	}
}

func TestAlertsPagesKeepTheirFilters(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var ds []store.Delivery
	for i := range 120 {
		target := "console"
		if i%2 == 0 {
			target = "ops"
		}
		ds = append(ds, store.Delivery{Target: target, Kind: "health", Text: fmt.Sprintf("note %d", i)})
	}
	if _, err := e.st.Enqueue(ctx, ds); err != nil {
		t.Fatal(err)
	}

	path := "/alerts?target=ops"
	seen := map[string]bool{}
	for pages := 0; path != ""; pages++ {
		if pages > 2 {
			t.Fatal("paging does not end")
		}
		resp, body := e.request("GET", path, "")
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		rows := strings.Split(between(t, body, "<tbody>", "</tbody>"), `<tr id="alert-`)[1:]
		for _, row := range rows {
			if !strings.Contains(row, `<td data-label="Target">ops</td>`) {
				t.Fatalf("%s shows a row of another target: %s", path, row)
			}
			id, _, _ := strings.Cut(row, `"`)
			if seen[id] {
				t.Fatalf("alert %s on two pages", id)
			}
			seen[id] = true
		}
		path = ""
		if m := nextLink.FindStringSubmatch(body); m != nil {
			path = html.UnescapeString(m[1])
		}
		if path != "" && !strings.Contains(path, "target=ops") {
			t.Fatalf("next page %q drops the target filter", path)
		}
	}
	if len(seen) != 60 {
		t.Fatalf("paged through %d alerts to ops, want 60", len(seen))
	}
}

// nextLink finds the link to the next, older page.
var nextLink = regexp.MustCompile(`<a href="([^"]+)" rel="next">`)

// between returns the text of s from the first start to the next end.
func between(t *testing.T, s, start, end string) string {
	t.Helper()
	_, rest, ok := strings.Cut(s, start)
	if !ok {
		t.Fatalf("no %q in the page", start)
	}
	in, _, ok := strings.Cut(rest, end)
	if !ok {
		t.Fatalf("no %q after %q", end, start)
	}
	return in
}
