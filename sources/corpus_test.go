package sources

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/wirewatch/wirewatch/story"
)

// corpusDir holds the Universal Feed Parser test suite (see
// shared/corpus/SOURCES.md): about 2,100 feeds, well-formed and not.
const corpusDir = "../../shared/corpus/feeds"

// upstreamBase is the address upstream serves the http/ cases from; their
// expectations hard-code it.
const upstreamBase = "http://127.0.0.1:8097"

var (
	expectLine = regexp.MustCompile(`Expect:\s*(.*?)\s*(?:-->|$)`)
	headerLine = regexp.MustCompile(`(?m)^\s*Header:\s*([^:\s]+)\s*:\s*(.*?)\s*$`)
	// simpleExpect is the form of expectation we can compare: one field of the
	// feed or first entry that feedparser and gofeed both have.
	simpleExpect = regexp.MustCompile(`^(?:not bozo and )?(feed\['title'\]|entries\[0\]\['(?:link|title)'\]) == (u?(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"))$`)
)

// corpusFile is one test feed with what its comment says.
type corpusFile struct {
	rel     string // path under corpusDir, with slashes
	body    []byte
	text    string // body decoded to UTF-8, to read the comment from
	headers http.Header
	expect  string
}

func loadCorpus(t *testing.T) []corpusFile {
	t.Helper()
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("corpus not found: %v", err)
	}
	var files []corpusFile
	err := filepath.WalkDir(corpusDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		body, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(corpusDir, path)
		if err != nil {
			return err
		}
		cf := corpusFile{rel: filepath.ToSlash(rel), body: body, headers: http.Header{}}
		cf.text = decodeForComment(body)
		if m := expectLine.FindStringSubmatch(cf.text); m != nil {
			cf.expect = m[1]
		}
		for _, m := range headerLine.FindAllStringSubmatch(cf.text, -1) {
			cf.headers.Add(m[1], m[2])
		}
		files = append(files, cf)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// decodeForComment decodes a test file the way upstream does before it looks
// for the comment: UTF-16/32 by BOM or first bytes, else UTF-8 without the
// bad bytes.
func decodeForComment(b []byte) string {
	if enc, skip := sniffUnicode(b); enc != nil {
		if out, err := enc.NewDecoder().Bytes(b[skip:]); err == nil {
			return string(out)
		}
	}
	return string(bytes.ToValidUTF8(bytes.TrimPrefix(b, utf8BOM), nil))
}

// pyString reads a Python string literal ('...' or "...", maybe u-prefixed).
func pyString(lit string) (string, bool) {
	lit = strings.TrimPrefix(lit, "u")
	if len(lit) < 2 || lit[0] != lit[len(lit)-1] {
		return "", false
	}
	s := lit[1 : len(lit)-1]
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch e := s[i]; e {
		case '\\', '\'', '"':
			b.WriteByte(e)
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'x', 'u', 'U':
			width := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
			if i+1+width > len(s) {
				return "", false
			}
			n, err := strconv.ParseUint(s[i+1:i+1+width], 16, 32)
			if err != nil || !utf8.ValidRune(rune(n)) {
				return "", false
			}
			b.WriteRune(rune(n))
			i += width
		default:
			b.WriteByte('\\')
			b.WriteByte(e)
		}
	}
	return b.String(), true
}

func TestPyString(t *testing.T) {
	tests := map[string]string{
		`'plain'`:           "plain",
		`u'caf\xe9'`:        "café",
		`'\u2019s'`:         "’s",
		`"it's"`:            "it's",
		`'a\'b'`:            "a'b",
		`'back\\slash'`:     `back\slash`,
		`'\U0001F600'`:      "😀",
		`'keep \d unknown'`: `keep \d unknown`,
	}
	for in, want := range tests {
		if got, ok := pyString(in); !ok || got != want {
			t.Errorf("pyString(%s) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if _, ok := pyString(`'\u12'`); ok {
		t.Errorf("short \\u escape accepted")
	}
}

// TestCorpus runs every corpus file through fetch and normalisation. It fails
// on a panic (recovered or not) and on a fetch that does not return in time;
// it compares the simple expectations of the well-formed files and reports
// how many agree, without failing on disagreement (feedparser's semantics are
// not ours: it sanitises HTML where we make plain text, for one).
func TestCorpus(t *testing.T) {
	files := loadCorpus(t)
	byPath := make(map[string]*corpusFile, len(files))
	for i := range files {
		byPath["/"+files[i].rel] = &files[i]
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cf := byPath[r.URL.Path]
		if cf == nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		for k, v := range cf.headers {
			w.Header()[http.CanonicalHeaderKey(k)] = v
		}
		w.Write(cf.body)
	}))
	defer srv.Close()
	f := newTestFetcher(t, Options{Timeout: 10 * time.Second})

	type outcome struct {
		res Result
		err error
	}
	var (
		run, parsed, failed, wellformedFailed int
		checked, agreed                       = map[string]int{}, map[string]int{}
		disagreements                         []string
	)
	for _, cf := range files {
		run++
		feedURL := srv.URL + "/" + cf.rel
		done := make(chan outcome, 1)
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		go func() {
			res, err := f.Fetch(ctx, Request{Name: cf.rel, URL: feedURL})
			done <- outcome{res, err}
		}()
		var o outcome
		select {
		case o = <-done:
		case <-time.After(20 * time.Second):
			cancel()
			t.Fatalf("%s: fetch did not return within 20s", cf.rel)
		}
		cancel()
		if errors.Is(o.err, errParserPanic) {
			t.Errorf("%s: %v", cf.rel, o.err)
		}
		if o.err != nil {
			failed++
			if strings.HasPrefix(cf.rel, "feedparser/tests/wellformed/") {
				wellformedFailed++
			}
		} else {
			parsed++
			checkInvariants(t, cf.rel, o.res)
		}

		if !strings.HasPrefix(cf.rel, "feedparser/tests/wellformed/") {
			continue
		}
		m := simpleExpect.FindStringSubmatch(cf.expect)
		if m == nil {
			continue
		}
		want, ok := pyString(m[2])
		if !ok {
			continue
		}
		field := m[1]
		var got string
		switch field {
		case "feed['title']":
			got, want = o.res.Title, story.PlainText(want)
		case "entries[0]['title']":
			want = story.PlainText(want)
			if len(o.res.Stories) > 0 {
				got = o.res.Stories[0].Title
			}
		case "entries[0]['link']":
			want = strings.ReplaceAll(want, upstreamBase, srv.URL)
			if len(o.res.Stories) > 0 {
				got = o.res.Stories[0].URL
			}
		}
		checked[field]++
		if got == want && o.err == nil {
			agreed[field]++
		} else {
			disagreements = append(disagreements, cf.rel+": "+field+" = "+strconv.Quote(got)+", feedparser "+strconv.Quote(want))
		}
	}
	total, totalAgreed := 0, 0
	for field, n := range checked {
		total += n
		totalAgreed += agreed[field]
		t.Logf("%-20s %d of %d agree", field, agreed[field], n)
	}
	t.Logf("corpus: %d files run, %d parsed, %d errors (%d of them under wellformed/)", run, parsed, failed, wellformedFailed)
	t.Logf("expectations: %d of %d simple Expect lines agree", totalAgreed, total)
	for _, d := range disagreements {
		t.Logf("differs: %s", d)
	}
	if run < 2000 {
		t.Errorf("only %d corpus files found", run)
	}
}

// checkInvariants fails the test when a parsed result breaks a promise of
// the normalisation, whatever the feed.
func checkInvariants(t *testing.T, name string, res Result) {
	t.Helper()
	if !utf8.ValidString(res.Title) {
		t.Errorf("%s: feed title not UTF-8", name)
	}
	if len(res.Stories) > MaxItems {
		t.Errorf("%s: %d stories from one fetch, want at most %d", name, len(res.Stories), MaxItems)
	}
	for i, s := range res.Stories {
		if n := utf8.RuneCountInString(s.Title); n > story.TitleMax {
			t.Errorf("%s: story %d title has %d runes", name, i, n)
		}
		if strings.ContainsFunc(s.Title+s.Summary+s.Content, func(r rune) bool { return unicode.Is(unicode.Bidi_Control, r) }) {
			t.Errorf("%s: story %d keeps a bidirectional control character", name, i)
		}
		for _, text := range []string{s.ID, s.Title, s.Summary, s.Content, s.URL, s.CanonicalURL, s.Author, s.GUID} {
			if !utf8.ValidString(text) {
				t.Errorf("%s: story %d has invalid UTF-8: %q", name, i, text)
			}
		}
		if utf8.RuneCountInString(s.Summary) > story.SummaryMax {
			t.Errorf("%s: story %d summary has %d runes", name, i, utf8.RuneCountInString(s.Summary))
		}
		if len(s.Content) > story.ContentMax {
			t.Errorf("%s: story %d content has %d bytes", name, i, len(s.Content))
		}
		if len(s.ID) != 32 {
			t.Errorf("%s: story %d id %q", name, i, s.ID)
		}
		if s.Published.IsZero() || s.Published.After(fixedNow.Add(futureSlack)) {
			t.Errorf("%s: story %d published %v", name, i, s.Published)
		}
		if s.URL != "" && !strings.HasPrefix(s.URL, "http") {
			t.Errorf("%s: story %d URL %q", name, i, s.URL)
		}
	}
}
