package story

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// PlainText turns HTML or text into plain text: tags removed (the content of
// script, style and similar elements dropped), entities decoded, runs of
// white space collapsed to one space, control characters removed, invalid
// UTF-8 replaced, and the result trimmed. Block-level tags and <br> separate
// words, so "<p>a</p><p>b</p>" becomes "a b"; inline tags do not. What looks
// like a tag but names no HTML element ("<Wire>") is kept as text.
func PlainText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return Line(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	z := html.NewTokenizer(strings.NewReader(s))
	var skip atom.Atom // element whose content is being dropped, 0 if none
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			// The tokenizer reads from a string, so the only error is io.EOF.
			return Line(b.String())
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			raw := string(z.Raw()) // before TagName, which lower-cases in place
			name, _ := z.TagName()
			a := atom.Lookup(name)
			switch {
			case a == 0 && !bytes.ContainsAny(name, ":-"):
				// Not an HTML element: text such as "<Wire>" in a headline.
				// (Namespaced and custom elements, <o:p> or <amp-img>, are tags.)
				if skip == 0 {
					b.WriteString(raw)
				}
			case skip == 0 && dropContent(a) && tt != html.EndTagToken:
				skip = a
			case skip != 0 && a == skip && tt == html.EndTagToken:
				skip = 0
			}
			if skip == 0 && breaksWords(a) {
				b.WriteByte(' ')
			}
		}
	}
}

// dropContent reports whether an element's content is not text a reader sees.
func dropContent(a atom.Atom) bool {
	switch a {
	case atom.Script, atom.Style, atom.Noscript, atom.Template, atom.Iframe,
		atom.Noembed, atom.Noframes:
		return true
	}
	return false
}

// breaksWords reports whether an element separates the words around it.
func breaksWords(a atom.Atom) bool {
	switch a {
	case atom.Address, atom.Article, atom.Aside, atom.Blockquote, atom.Br,
		atom.Caption, atom.Dd, atom.Details, atom.Div, atom.Dl, atom.Dt,
		atom.Fieldset, atom.Figcaption, atom.Figure, atom.Footer, atom.Form,
		atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Header,
		atom.Hr, atom.Img, atom.Li, atom.Main, atom.Nav, atom.Ol, atom.P,
		atom.Pre, atom.Section, atom.Summary, atom.Table, atom.Tbody, atom.Td,
		atom.Tfoot, atom.Th, atom.Thead, atom.Tr, atom.Ul, atom.Body, atom.Html,
		atom.Title, atom.Option, atom.Select, atom.Textarea, atom.Video, atom.Audio:
		return true
	}
	return false
}

// Line makes text one line: it replaces invalid UTF-8 with U+FFFD, turns
// runs of white space (line breaks included) into one space, drops other
// control and format characters that carry no text (NUL, zero-width spaces,
// BOMs) and the bidirectional controls (U+202A–U+202E, U+2066–U+2069,
// U+200E, U+200F, U+061C) that can make text read backwards, and trims.
// Stories are made of its output, so every place that shows one (Slack,
// Discord, webhooks, the dashboard) gets the same clean text; notifiers use
// it on untrusted text before escaping it too.
func Line(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				r = unicode.ReplacementChar
			}
		}
		switch {
		case unicode.IsSpace(r):
			space = true
			continue
		case unicode.IsControl(r), r == '\u200b', r == '\ufeff', r == '\u2060', unicode.Is(unicode.Bidi_Control, r):
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// Cut shortens s to at most n characters (runes) at a word boundary, adding
// "…" (counted in the n) when it cut. When the last word boundary would keep
// less than half of n, it cuts inside the word instead of keeping almost nothing.
func Cut(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	// Keep n-1 runes, leaving room for the ellipsis.
	end, count := 0, 0
	for i := range s {
		if count == n-1 {
			end = i
			break
		}
		count++
	}
	head := s[:end]
	// Back up to the last white space when the next rune does not already start
	// a new word.
	if next, _ := utf8.DecodeRuneInString(s[end:]); !unicode.IsSpace(next) {
		if i := strings.LastIndexFunc(head, unicode.IsSpace); i >= 0 && utf8.RuneCountInString(head[:i]) >= (n-1)/2 {
			head = head[:i]
		}
	}
	head = strings.TrimRightFunc(head, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(",;:-–—", r)
	})
	return head + "…"
}

// trackingParams are query parameters that only identify a campaign, click or
// share, never the page; CanonicalURL drops them.
var trackingParams = map[string]bool{
	"fbclid": true, "gclid": true, "gclsrc": true, "dclid": true, "gbraid": true, "wbraid": true,
	"msclkid": true, "mc_cid": true, "mc_eid": true, "igshid": true, "igsh": true,
	"ref_src": true, "ref_url": true, "_hsenc": true, "_hsmi": true, "yclid": true,
	"spm": true, "twclid": true, "ttclid": true, "li_fat_id": true,
	"mkt_tok": true, "_openstat": true, "oly_anon_id": true, "oly_enc_id": true,
	"vero_id": true, "vero_conv": true, "wickedid": true, "rb_clickid": true,
	"s_cid": true, "_ga": true, "_gl": true, "ncid": true, "ocid": true, "cmpid": true,
	"srsltid": true, "sr_share": true, "__s": true, "guccounter": true,
	"guce_referrer": true, "guce_referrer_sig": true,
}

// trackingPrefixes are prefixes of families of tracking parameters.
var trackingPrefixes = []string{"utm_", "mtm_", "pk_", "piwik_", "hsa_", "matomo_", "itm_"}

func isTracking(key string) bool {
	key = strings.ToLower(key)
	if trackingParams[key] {
		return true
	}
	for _, p := range trackingPrefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// CanonicalURL returns the form of an http(s) URL that keys cross-source
// dedup: scheme and host lower-cased, trailing dots of the host and the
// default port dropped, user info and fragment dropped, an empty path made
// "/", tracking parameters (utm_*, fbclid, gclid, …) removed and the
// remaining query parameters sorted. It returns "" for an unparseable or
// non-http(s) URL, and for one that is not valid UTF-8.
// CanonicalURL(CanonicalURL(u)) == CanonicalURL(u).
func CanonicalURL(raw string) string {
	if !utf8.ValidString(raw) {
		return ""
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Opaque != "" {
		return ""
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return ""
	}
	host := strings.TrimRight(strings.ToLower(u.Hostname()), ".")
	if host == "" || strings.ContainsAny(host, " /\\?#@[]") {
		return ""
	}
	port := u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if port != "" {
		host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	out := url.URL{
		Scheme:   scheme,
		Host:     host,
		Path:     u.Path,
		RawPath:  u.RawPath,
		RawQuery: canonicalQuery(u.RawQuery),
	}
	if out.Path == "" {
		out.Path, out.RawPath = "/", ""
	}
	s := out.String()
	// Settle forms url.URL does not print back as it read them, so that the
	// result is a fixed point.
	if again, err := url.Parse(s); err != nil || again.String() != s {
		return ""
	}
	return s
}

// canonicalQuery drops tracking parameters from a raw query and sorts the
// rest. Pairs are re-encoded when they decode cleanly and kept as they are
// otherwise, so that an odd query is not made into a different one.
func canonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	type pair struct{ key, text string }
	var pairs []pair
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, hasValue := strings.Cut(part, "=")
		key, kerr := url.QueryUnescape(k)
		val, verr := url.QueryUnescape(v)
		if kerr != nil {
			key = k
		}
		if isTracking(key) {
			continue
		}
		text := part
		if kerr == nil && verr == nil {
			text = url.QueryEscape(key)
			if hasValue {
				text += "=" + url.QueryEscape(val)
			}
		}
		pairs = append(pairs, pair{key, text})
	}
	slices.SortStableFunc(pairs, func(a, b pair) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return strings.Compare(a.text, b.text)
	})
	texts := make([]string, len(pairs))
	for i, p := range pairs {
		texts[i] = p.text
	}
	return strings.Join(texts, "&")
}

// MakeID returns the stable id of a story: the hex of the first 16 bytes of
// sha256(sourceURL + "\n" + key), where key is the item's GUID, else its link,
// else its title and publication time (RFC 3339, UTC) joined by "\n". Pass
// the item's own date (zero when it has none), not a fetch time, so that the
// id does not change from one fetch to the next.
func MakeID(sourceURL, guid, link, title string, published time.Time) string {
	key := strings.TrimSpace(guid)
	if key == "" {
		key = strings.TrimSpace(link)
	}
	if key == "" {
		key = title + "\n" + published.UTC().Format(time.RFC3339)
	}
	sum := sha256.Sum256([]byte(sourceURL + "\n" + key))
	return hex.EncodeToString(sum[:16])
}
