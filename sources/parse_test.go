package sources

import (
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"github.com/wirewatch/wirewatch/story"
)

// fetchFile serves testdata/name on 127.0.0.1 under /feeds/name and fetches it.
func fetchFile(t *testing.T, name, contentType string) (Result, string) {
	t.Helper()
	body, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return fetchBody(t, body, contentType)
}

func fetchBody(t *testing.T, body []byte, contentType string) (Result, string) {
	t.Helper()
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.Write(body)
	})
	f := newTestFetcher(t, Options{})
	feedURL := srv.URL + "/feeds/feed.xml"
	res, err := f.Fetch(t.Context(), Request{SourceID: 3, Name: "Wire", URL: feedURL})
	if err != nil {
		t.Fatal(err)
	}
	return res, srv.URL
}

func TestNormaliseRSS(t *testing.T) {
	res, base := fetchFile(t, "normalise.xml", "application/rss+xml")
	feedURL := base + "/feeds/feed.xml"
	if res.Title != "Chip & Policy <Wire>" {
		t.Errorf("feed title = %q", res.Title)
	}
	if len(res.Stories) != 5 {
		t.Fatalf("%d stories, want 5", len(res.Stories))
	}
	pub := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	link := base + "/world/nvidia-china.html?utm_source=rss&utm_medium=feed&id=42&fbclid=abc#top"
	want := story.Story{
		ID:           story.MakeID(feedURL, "urn:story:1", link, "", time.Time{}),
		SourceID:     3,
		Source:       "Wire",
		GUID:         "urn:story:1",
		Title:        "Nvidia curbs H20 sales & exports to China",
		Summary:      "Shares fell after the announcement. Beijing responded.",
		Content:      "Full text: Nvidia & AMD. Second paragraph — more.",
		URL:          link,
		CanonicalURL: base + "/world/nvidia-china.html?id=42",
		Author:       "Jane Doe",
		Categories:   []string{"Tech", "Trade & Policy"},
		Published:    pub,
		Fetched:      fixedNow,
	}
	checkStory(t, res.Stories[0], want)

	future := res.Stories[1]
	if !future.Published.Equal(fixedNow) {
		t.Errorf("future date not clamped: %v", future.Published)
	}
	if future.CanonicalURL != "https://news.example/future?a=1&b=2" {
		t.Errorf("CanonicalURL = %q", future.CanonicalURL)
	}

	undated := res.Stories[2]
	if !undated.Published.Equal(fixedNow) || undated.URL != "" || undated.CanonicalURL != "" {
		t.Errorf("undated story: %+v", undated)
	}
	if want := story.MakeID(feedURL, "", "", "No date, no link", time.Time{}); undated.ID != want {
		t.Errorf("undated ID = %s, want the title-only id %s (stable across fetches)", undated.ID, want)
	}
	if undated.Summary != "Plain description" || undated.Content != "" {
		t.Errorf("summary %q, content %q", undated.Summary, undated.Content)
	}

	permalink := res.Stories[3]
	if permalink.URL != "https://news.example/permalink/7" || permalink.GUID != permalink.URL {
		t.Errorf("permalink guid: URL %q, GUID %q", permalink.URL, permalink.GUID)
	}
	if want := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC); !permalink.Published.Equal(want) || permalink.Published.Location() != time.UTC {
		t.Errorf("Published = %v, want %v in UTC", permalink.Published, want)
	}

	if odd := res.Stories[4]; odd.URL != "" || odd.CanonicalURL != "" {
		t.Errorf("javascript: link kept: %q", odd.URL)
	}
}

func checkStory(t *testing.T, got, want story.Story) {
	t.Helper()
	if got.ID != want.ID {
		t.Errorf("ID = %q, want %q", got.ID, want.ID)
	}
	if got.SourceID != want.SourceID || got.Source != want.Source {
		t.Errorf("source = %d %q, want %d %q", got.SourceID, got.Source, want.SourceID, want.Source)
	}
	for _, f := range []struct{ name, got, want string }{
		{"GUID", got.GUID, want.GUID},
		{"Title", got.Title, want.Title},
		{"Summary", got.Summary, want.Summary},
		{"Content", got.Content, want.Content},
		{"URL", got.URL, want.URL},
		{"CanonicalURL", got.CanonicalURL, want.CanonicalURL},
		{"Author", got.Author, want.Author},
	} {
		if f.got != f.want {
			t.Errorf("%s = %q, want %q", f.name, f.got, f.want)
		}
	}
	if !slices.Equal(got.Categories, want.Categories) {
		t.Errorf("Categories = %q, want %q", got.Categories, want.Categories)
	}
	if !got.Published.Equal(want.Published) {
		t.Errorf("Published = %v, want %v", got.Published, want.Published)
	}
	if !got.Fetched.Equal(want.Fetched) {
		t.Errorf("Fetched = %v, want %v", got.Fetched, want.Fetched)
	}
}

func TestNormaliseAtom(t *testing.T) {
	res, _ := fetchFile(t, "atom.xml", "application/atom+xml")
	if res.Title != "Atom Blog" {
		t.Errorf("feed title = %q", res.Title)
	}
	if len(res.Stories) != 2 {
		t.Fatalf("%d stories", len(res.Stories))
	}
	first := res.Stories[0]
	if first.URL != "https://blog.example/posts/first.html" {
		t.Errorf("xml:base not applied: %q", first.URL)
	}
	if first.Summary != "Summary & more" || first.Content != "Body text" {
		t.Errorf("summary %q, content %q", first.Summary, first.Content)
	}
	if first.Author != "Ann, Bob" || !slices.Equal(first.Categories, []string{"ai"}) {
		t.Errorf("author %q, categories %q", first.Author, first.Categories)
	}
	if want := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC); !first.Published.Equal(want) {
		t.Errorf("updated-only entry: Published = %v, want %v", first.Published, want)
	}
	second := res.Stories[1]
	if want := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC); !second.Published.Equal(want) {
		t.Errorf("published wins over updated: %v", second.Published)
	}
	if second.Author != "Feed Author" {
		t.Errorf("feed author not used: %q", second.Author)
	}
}

func TestNormaliseJSONFeed(t *testing.T) {
	res, _ := fetchFile(t, "feed.json", "application/feed+json")
	if res.Title != "JSON & Feed" || len(res.Stories) != 1 {
		t.Fatalf("result = %+v", res)
	}
	s := res.Stories[0]
	if s.GUID != "j1" || s.Title != "JSON item" || s.Summary != "Short & sweet" || s.Content != "Hello world" {
		t.Errorf("story = %+v", s)
	}
	if s.CanonicalURL != "https://json.example/items/1" || s.Author != "Jay" || !slices.Equal(s.Categories, []string{"json", "feeds"}) {
		t.Errorf("story = %+v", s)
	}
}

func TestSummaryAndContentLimits(t *testing.T) {
	long := strings.Repeat("export controls tighten ", 3000) // 72,000 bytes
	feed := `<rss version="2.0"><channel><title>T</title>
<item><title>Long</title><guid>a</guid><description>` + long + `</description></item>
<item><title>Long content</title><guid>b</guid><description>short</description>
<content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/">` + strings.Repeat("é", 20000) + `</content:encoded></item>
</channel></rss>`
	res, _ := fetchBody(t, []byte(feed), "")
	a := res.Stories[0]
	if n := utf8.RuneCountInString(a.Summary); n > story.SummaryMax || !strings.HasSuffix(a.Summary, "…") {
		t.Errorf("summary: %d runes, %q…", n, a.Summary[:20])
	}
	if len(a.Content) != story.ContentMax-1 && len(a.Content) != story.ContentMax {
		t.Errorf("long description kept as content: %d bytes, want about %d", len(a.Content), story.ContentMax)
	}
	b := res.Stories[1]
	if b.Summary != "short" {
		t.Errorf("summary = %q", b.Summary)
	}
	if len(b.Content) > story.ContentMax || !utf8.ValidString(b.Content) || len(b.Content) < story.ContentMax-1 {
		t.Errorf("content: %d bytes, valid UTF-8 %v", len(b.Content), utf8.ValidString(b.Content))
	}
}

func TestEncodings(t *testing.T) {
	const feed = `<?xml version="1.0" encoding="%s"?>
<rss version="2.0"><channel><title>Café Ünïcode €</title><item><title>naïve</title><guid>1</guid></item></channel></rss>`
	enc := func(label string) string { return strings.Replace(feed, "%s", label, 1) }
	latin1, err := charmap.ISO8859_1.NewEncoder().String(strings.ReplaceAll(enc("iso-8859-1"), "€", "E"))
	if err != nil {
		t.Fatal(err)
	}
	cp1252, err := charmap.Windows1252.NewEncoder().String(strings.Replace(enc("x"), `encoding="x"`, "", 1))
	if err != nil {
		t.Fatal(err)
	}
	utf16le, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String(enc("utf-16"))
	if err != nil {
		t.Fatal(err)
	}
	utf16beNoBOM, err := unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewEncoder().String(enc("utf-16"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, body, contentType, wantTitle string
	}{
		{"utf-8", enc("utf-8"), "", "Café Ünïcode €"},
		{"utf-8 with BOM", "\ufeff" + enc("utf-8"), "", "Café Ünïcode €"},
		{"utf-8 labelled latin-1", enc("iso-8859-1"), "", "Café Ünïcode €"},
		{"latin-1 declared", latin1, "", "Café Ünïcode E"},
		{"windows-1252 from HTTP", cp1252, "text/xml; charset=windows-1252", "Café Ünïcode €"},
		{"HTTP says utf-8, XML says latin-1", latin1, "text/xml; charset=utf-8", "Café Ünïcode E"},
		{"utf-16 LE with BOM", utf16le, "", "Café Ünïcode €"},
		{"utf-16 BE without BOM", utf16beNoBOM, "", "Café Ünïcode €"},
		{"invalid bytes, no declaration", strings.Replace(enc("x"), `encoding="x"`, "", 1) + "\xff", "", "Café Ünïcode €"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _ := fetchBody(t, []byte(tt.body), tt.contentType)
			if res.Title != tt.wantTitle {
				t.Errorf("title = %q, want %q", res.Title, tt.wantTitle)
			}
			if len(res.Stories) != 1 || res.Stories[0].Title != "naïve" {
				t.Errorf("stories = %+v", res.Stories)
			}
		})
	}
}
