package sources

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"

	"github.com/wirewatch/wirewatch/story"
)

// futureSlack is how far in the future an item's date may lie before it is
// taken for a wrong clock and replaced by the fetch time.
const futureSlack = 24 * time.Hour

// MaxItems is the most items one fetch of a feed reads: of a longer feed
// only the newest MaxItems (by date, feed order among equal dates) become
// stories, so that a hostile 100,000-item feed costs what a long real one
// does. Result.Items still counts them all.
const MaxItems = 1000

// parse turns a feed body into its title and normalised stories, and the
// number of items the feed held (more than len(stories) when it had more
// than MaxItems). base is the URL the body came from (relative links resolve
// against it), contentType the HTTP Content-Type (its charset is used when
// the body is not UTF-8).
func parse(body []byte, contentType string, base *url.URL, r Request, now time.Time) (string, []story.Story, int, error) {
	feed, err := parseFeed(toUTF8(body, contentType))
	if err != nil {
		return "", nil, 0, err
	}
	items := newestItems(feed.Items, MaxItems)
	stories := make([]story.Story, 0, len(items))
	for _, it := range items {
		stories = append(stories, normalise(it, feed, base, r, now))
	}
	total := 0
	for _, it := range feed.Items {
		if it != nil {
			total++
		}
	}
	return story.PlainText(feed.Title), stories, total, nil
}

// newestItems returns the non-nil items, at most n of them: the newest by
// date when there are more, kept in feed order.
func newestItems(all []*gofeed.Item, n int) []*gofeed.Item {
	items := make([]*gofeed.Item, 0, min(len(all), n))
	for _, it := range all {
		if it != nil {
			items = append(items, it)
		}
	}
	if len(items) <= n {
		return items
	}
	order := make([]int, len(items))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return itemDate(items[b]).Compare(itemDate(items[a])) })
	keep := order[:n]
	slices.Sort(keep)
	out := make([]*gofeed.Item, 0, n)
	for _, i := range keep {
		out = append(out, items[i])
	}
	return out
}

// itemDate is an item's published, else updated, date; zero when it has
// neither.
func itemDate(it *gofeed.Item) time.Time {
	switch {
	case it.PublishedParsed != nil:
		return *it.PublishedParsed
	case it.UpdatedParsed != nil:
		return *it.UpdatedParsed
	}
	return time.Time{}
}

// errParserPanic marks a panic of the feed parser, recovered.
var errParserPanic = errors.New("parser failed")

// parseFeed runs gofeed. A panic in the parser becomes an error: one broken
// feed must not take the poller down.
func parseFeed(body []byte) (feed *gofeed.Feed, err error) {
	defer func() {
		if p := recover(); p != nil {
			feed, err = nil, fmt.Errorf("%w: %v", errParserPanic, p)
		}
	}()
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errors.New("empty document")
	}
	parser := gofeed.NewParser()
	// Stories carry no images; without this gofeed parses every item's
	// description as a whole HTML document to look for one.
	parser.RSSTranslator = &gofeed.DefaultRSSTranslator{DisableContentImageScan: true}
	feed, err = parser.Parse(bytes.NewReader(body))
	if err != nil {
		if errors.Is(err, gofeed.ErrFeedTypeNotDetected) {
			return nil, errors.New("not an RSS, Atom or JSON feed")
		}
		return nil, err
	}
	return feed, nil
}

// normalise makes one feed item into a story.
func normalise(it *gofeed.Item, feed *gofeed.Feed, base *url.URL, r Request, now time.Time) story.Story {
	guid := strings.TrimSpace(it.GUID)
	link := strings.TrimSpace(it.Link)
	if link == "" && len(it.Links) > 0 {
		link = strings.TrimSpace(it.Links[0])
	}
	if link == "" && isHTTPURL(guid) {
		link = guid // an RSS guid that is a permalink
	}
	link = resolve(base, link)

	date := itemDate(it)
	published := date
	if published.IsZero() || published.After(now.Add(futureSlack)) {
		published = now
	}

	title := story.Cut(story.PlainText(it.Title), story.TitleMax)
	description := story.PlainText(it.Description)
	content := story.PlainText(it.Content)
	summary := description
	if summary == "" {
		summary = content
	}
	s := story.Story{
		ID:         story.MakeID(r.URL, guid, link, title, date),
		SourceID:   r.SourceID,
		Source:     r.Name,
		GUID:       guid,
		Title:      title,
		Summary:    story.Cut(summary, story.SummaryMax),
		Categories: categories(it.Categories),
		Author:     authors(it.Authors, feed.Authors),
		Published:  published.UTC(),
		Fetched:    now.UTC(),
	}
	switch {
	case content != "":
		s.Content = capBytes(content, story.ContentMax)
	case s.Summary != description:
		// No separate content, but the description was cut for the summary:
		// keep all of it so that rules see every word.
		s.Content = capBytes(description, story.ContentMax)
	}
	if isHTTPURL(link) {
		s.URL = link
		s.CanonicalURL = story.CanonicalURL(link)
	}
	return s
}

// resolve makes link absolute against base; it returns link unchanged when
// either does not parse.
func resolve(base *url.URL, link string) string {
	if link == "" || base == nil {
		return link
	}
	ref, err := url.Parse(link)
	if err != nil {
		return link
	}
	return base.ResolveReference(ref).String()
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// authors joins the item's author names (else the feed's), without repeats.
func authors(item, feed []*gofeed.Person) string {
	names := personNames(item)
	if len(names) == 0 {
		names = personNames(feed)
	}
	return strings.Join(names, ", ")
}

func personNames(people []*gofeed.Person) []string {
	var names []string
	seen := map[string]bool{}
	for _, p := range people {
		if p == nil {
			continue
		}
		name := story.PlainText(p.Name)
		if name == "" {
			name = story.PlainText(p.Email)
		}
		if name != "" && !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	return names
}

// categories returns the item's categories as plain text, without empties
// or repeats.
func categories(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range in {
		c = story.PlainText(c)
		if c != "" && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

// capBytes cuts s to at most n bytes without splitting a UTF-8 sequence.
func capBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

var (
	utf8BOM = []byte{0xEF, 0xBB, 0xBF}
	// xmlDecl matches an XML declaration's encoding pseudo-attribute.
	xmlDecl = regexp.MustCompile(`^(\s*<\?xml\b[^>]*?\bencoding\s*=\s*)("[^"]*"|'[^']*')`)
)

// toUTF8 returns the feed as UTF-8 with no encoding left for the XML parser
// to apply, where it can tell the encoding:
//   - UTF-16 and UTF-32 (by BOM, or by how "<?" is spelled) are decoded;
//   - a body that is valid UTF-8 is taken as UTF-8 whatever it declares
//     (mislabelled feeds are common; a real single-byte or CJK encoding is
//     almost never valid UTF-8);
//   - else the HTTP charset, when given and known, is applied;
//   - else an encoding the XML declaration names is left to the parser;
//   - else invalid bytes are replaced with U+FFFD.
func toUTF8(body []byte, contentType string) []byte {
	if enc, skip := sniffUnicode(body); enc != nil {
		if out, err := enc.NewDecoder().Bytes(body[skip:]); err == nil {
			return declareUTF8(out)
		}
	}
	body = bytes.TrimPrefix(body, utf8BOM)
	if utf8.Valid(body) {
		return declareUTF8(body)
	}
	// The body is not UTF-8, so an HTTP charset saying it is is wrong.
	if label := httpCharset(contentType); label != "" && label != "utf-8" && label != "utf8" {
		if enc, _ := charset.Lookup(label); enc != nil {
			if out, err := enc.NewDecoder().Bytes(body); err == nil && utf8.Valid(out) {
				return declareUTF8(out)
			}
		}
	}
	if m := xmlDecl.FindSubmatch(body); m != nil {
		label := strings.ToLower(strings.Trim(string(m[2]), `"'`))
		if enc, _ := charset.Lookup(label); enc != nil && label != "utf-8" && label != "utf8" {
			return body
		}
	}
	return declareUTF8(bytes.ToValidUTF8(body, []byte("\uFFFD")))
}

// sniffUnicode recognises UTF-16 and UTF-32 by their BOM or, without one, by
// the bytes of "<?" or "<" (XML 1.0 appendix F). It returns the decoder and
// how many BOM bytes to skip.
func sniffUnicode(b []byte) (encoding.Encoding, int) {
	has := func(p ...byte) bool { return bytes.HasPrefix(b, p) }
	switch {
	case has(0x00, 0x00, 0xFE, 0xFF):
		return utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM), 4
	case has(0xFF, 0xFE, 0x00, 0x00):
		return utf32.UTF32(utf32.LittleEndian, utf32.IgnoreBOM), 4
	case has(0xFE, 0xFF):
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), 2
	case has(0xFF, 0xFE):
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), 2
	case has(0x00, 0x00, 0x00, '<'):
		return utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM), 0
	case has('<', 0x00, 0x00, 0x00):
		return utf32.UTF32(utf32.LittleEndian, utf32.IgnoreBOM), 0
	case has(0x00, '<', 0x00, '?'):
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), 0
	case has('<', 0x00, '?', 0x00):
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), 0
	}
	return nil, 0
}

// declareUTF8 rewrites the XML declaration's encoding, if any, to utf-8, so
// that the parser does not decode the already decoded text again.
func declareUTF8(b []byte) []byte {
	loc := xmlDecl.FindSubmatchIndex(b)
	if loc == nil {
		return b
	}
	out := make([]byte, 0, len(b))
	out = append(out, b[:loc[4]]...)
	out = append(out, `"utf-8"`...)
	return append(out, b[loc[5]:]...)
}

// httpCharset returns the charset parameter of a Content-Type, or "".
func httpCharset(contentType string) string {
	if contentType == "" {
		return ""
	}
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	return strings.ToLower(strings.TrimSpace(params["charset"]))
}
