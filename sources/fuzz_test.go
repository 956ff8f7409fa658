package sources

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary bytes (and a Content-Type) through the parse and
// normalise path: it must never panic, nor let the parser's panics through,
// and what it returns must keep the normalisation's promises.
func FuzzParse(f *testing.F) {
	f.Add([]byte(smallFeed), "application/rss+xml")
	f.Add([]byte{}, "")
	f.Add([]byte("\xff\xfe<\x00?\x00x\x00"), "text/xml; charset=utf-16")
	for _, dir := range []string{"testdata", corpusDir} {
		_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() || filepath.Ext(path) != ".xml" && filepath.Ext(path) != ".json" {
				return nil
			}
			if body, err := os.ReadFile(path); err == nil {
				f.Add(body, "text/xml")
			}
			return nil
		})
	}
	base, err := url.Parse("https://feeds.example/news/rss.xml")
	if err != nil {
		f.Fatal(err)
	}
	req := Request{SourceID: 1, Name: "Fuzz", URL: base.String()}
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		title, stories, _, err := parse(body, contentType, base, req, fixedNow)
		if errors.Is(err, errParserPanic) {
			t.Fatal(err)
		}
		if err != nil {
			return
		}
		checkInvariants(t, "input", Result{Title: title, Stories: stories})
	})
}
