package api

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/wirewatch/wirewatch/service"
	"github.com/wirewatch/wirewatch/store"
)

// MaxOutlines is the most feeds one OPML import adds.
const MaxOutlines = 500

// opml is an OPML 1.0/2.0 document, as far as feeds go.
type opml struct {
	XMLName xml.Name  `xml:"opml"`
	Version string    `xml:"version,attr"`
	Title   string    `xml:"head>title"`
	Body    []outline `xml:"body>outline"`
}

type outline struct {
	Text     string    `xml:"text,attr"`
	Title    string    `xml:"title,attr,omitempty"`
	Type     string    `xml:"type,attr,omitempty"`
	XMLURL   string    `xml:"xmlUrl,attr,omitempty"`
	HTMLURL  string    `xml:"htmlUrl,attr,omitempty"`
	Outlines []outline `xml:"outline"`
}

// ImportResult is what happened to one outline of an OPML import.
type ImportResult struct {
	// URL is the outline's xmlUrl.
	URL string `json:"url"`
	// Name is the source's name: the stored one when added, else the outline's.
	Name string `json:"name,omitempty"`
	// Status is "added", "exists" or "error".
	Status string `json:"status"`
	// ID is the new source's id when added.
	ID int64 `json:"id,omitempty"`
	// Error says why an outline was not added.
	Error string `json:"error,omitempty"`
}

// ImportReport is the answer of POST /api/v1/sources/import.
type ImportReport struct {
	Added   int            `json:"added"`
	Exists  int            `json:"exists"`
	Failed  int            `json:"failed"`
	Results []ImportResult `json:"results"`
}

// ImportOPML adds every outline's xmlUrl of an OPML document as a source,
// each through service.ImportSource (the address is checked, nothing is
// fetched: a feed that cannot be fetched becomes a failing source on its
// first fetch, so that a list imports whole, offline too), and reports each
// outcome. Nested outlines (folders) are walked. An error means the
// document itself could not be read; it says so in plain words.
func ImportOPML(ctx context.Context, svc *service.Service, r io.Reader, addedBy string) (ImportReport, error) {
	var doc opml
	dec := xml.NewDecoder(r)
	dec.Strict = false
	if err := dec.Decode(&doc); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return ImportReport{}, fmt.Errorf("OPML body is larger than %d bytes", MaxOPML)
		}
		if errors.Is(err, io.EOF) {
			return ImportReport{}, errors.New("the file is empty or is not an OPML document (the XML file a feed reader exports)")
		}
		return ImportReport{}, errors.New("the file is not an OPML document (the XML file a feed reader exports): it does not read as XML with an <opml> element")
	}
	var feeds []outline
	var walk func(os []outline, depth int)
	walk = func(os []outline, depth int) {
		for _, o := range os {
			if depth > 8 || len(feeds) > MaxOutlines {
				return
			}
			if strings.TrimSpace(o.XMLURL) != "" {
				feeds = append(feeds, o)
			}
			walk(o.Outlines, depth+1)
		}
	}
	walk(doc.Body, 0)
	if len(feeds) == 0 {
		return ImportReport{}, errors.New("the OPML document has no outline with an xmlUrl")
	}
	if len(feeds) > MaxOutlines {
		return ImportReport{}, fmt.Errorf("the OPML document has more than %d feeds; split it", MaxOutlines)
	}
	rep := ImportReport{Results: make([]ImportResult, 0, len(feeds))}
	for _, o := range feeds {
		name := strings.TrimSpace(o.Title)
		if name == "" {
			name = strings.TrimSpace(o.Text)
		}
		res := ImportResult{URL: strings.TrimSpace(o.XMLURL), Name: name}
		src, err := svc.ImportSource(ctx, res.URL, name, addedBy)
		switch {
		case err == nil:
			res.Status, res.ID, res.Name = "added", src.ID, src.Name
			rep.Added++
		case errors.Is(err, store.ErrExists):
			res.Status, res.Error = "exists", plainError(err)
			rep.Exists++
		default:
			if ctx.Err() != nil {
				return rep, ctx.Err()
			}
			if !errors.Is(err, service.ErrInvalid) {
				return rep, err
			}
			res.Status, res.Error = "error", plainError(err)
			rep.Failed++
		}
		rep.Results = append(rep.Results, res)
	}
	return rep, nil
}

// plainError is the reason of an *service.InvalidError, else the error's text.
func plainError(err error) string {
	var ie *service.InvalidError
	if errors.As(err, &ie) {
		return ie.Reason
	}
	return err.Error()
}

// WriteOPML writes the sources as an OPML 2.0 document.
func WriteOPML(w io.Writer, sources []store.Source) error {
	doc := opml{Version: "2.0", Title: "wirewatch sources"}
	for _, s := range sources {
		doc.Body = append(doc.Body, outline{Text: s.Name, Title: s.Name, Type: "rss", XMLURL: s.URL})
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
