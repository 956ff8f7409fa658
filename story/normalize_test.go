package story

import (
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

func TestPlainText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"plain", "  Nvidia   curbs\n\texports ", "Nvidia curbs exports"},
		{"tags", "<p>Chip <b>export</b> rules</p>", "Chip export rules"},
		{"blocks separate words", "<p>one</p><p>two</p>three<br>four<br/>five", "one two three four five"},
		{"inline joins", "ex<em>port</em>s", "exports"},
		{"entities", "AT&amp;T &lt;tag&gt; caf&eacute; &#8220;q&#x201D; &nbsp;x", "AT&T <tag> café “q” x"},
		{"loose entity", "a &amp b", "a & b"},
		{"script and style dropped", "a<script>alert('x<p>')</script>b<style>p{color:red}</style>c", "abc"},
		{"script upper case", "a<SCRIPT type=x>var s = '</p>';</SCRIPT> b", "a b"},
		{"noscript dropped", "<noscript><img src=x>fallback</noscript>text", "text"},
		{"unterminated script", "text<script>never closed", "text"},
		{"comment", "a<!-- hidden -->b", "ab"},
		{"cdata as comment", "a <![CDATA[x]]> b", "a b"},
		{"lone brackets", "1 < 2 and 3 > 2", "1 < 2 and 3 > 2"},
		{"attribute text ignored", `<a href="http://x/?a=1&amp;b=2" title="t">link</a>`, "link"},
		{"nbsp collapsed", "a\u00a0\u00a0b", "a b"},
		{"controls dropped", "a\x00b\x07c\u200bd", "abcd"},
		{"invalid utf8", "a\xffb", "a\ufffdb"},
		{"double escaped stays text", "&amp;lt;b&amp;gt;", "&lt;b&gt;"},
		{"cjk", "<p>英伟达</p>", "英伟达"},
		{"numeric NUL entity", "a&#0;b", "a\ufffdb"},
		{"not an element kept", "Chip & Policy <Wire>", "Chip & Policy <Wire>"},
		{"not an element, escaped", "&lt;Wire&gt; says &lt;b&gt;hi&lt;/b&gt;", "<Wire> says <b>hi</b>"},
		{"namespaced and custom tags dropped", "a<o:p></o:p>b <amp-img src=x></amp-img>c", "ab c"},
		{"template dropped", "a<template><p>x</p><Foo></template>b", "ab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PlainText(tt.in); got != tt.want {
				t.Errorf("PlainText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCut(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"short", "hello world", 20, "hello world"},
		{"exact", "hello world", 11, "hello world"},
		{"word boundary", "hello brave new world", 15, "hello brave…"},
		{"boundary right after", "hello brave new", 12, "hello brave…"},
		{"trailing punctuation", "one, two, three, four", 10, "one, two…"},
		{"long word hard cut", "abcdefghijklmnopqrstuvwxyz", 10, "abcdefghi…"},
		{"early space hard cut", "a bcdefghijklmnopqrstuvwxyz", 10, "a bcdefgh…"},
		{"runes not bytes", "ééééé ééééé ééééé", 12, "ééééé ééééé…"},
		{"cjk", "英伟达英伟达英伟达", 5, "英伟达英…"},
		{"zero", "abc", 0, ""},
		{"one", "abc", 1, "…"},
		{"negative", "abc", -3, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Cut(tt.in, tt.n)
			if got != tt.want {
				t.Errorf("Cut(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
			if tt.n >= 0 && utf8.RuneCountInString(got) > tt.n {
				t.Errorf("Cut(%q, %d) has %d runes", tt.in, tt.n, utf8.RuneCountInString(got))
			}
		})
	}
}

func TestCutSummaryMax(t *testing.T) {
	in := strings.Repeat("export controls ", 40)
	got := Cut(PlainText(in), SummaryMax)
	if n := utf8.RuneCountInString(got); n > SummaryMax {
		t.Fatalf("got %d runes, want at most %d", n, SummaryMax)
	}
	head, ok := strings.CutSuffix(got, "…")
	if !ok || !strings.HasPrefix(in, head+" ") {
		t.Errorf("not cut at a word boundary: %q", got)
	}
}

func TestCanonicalURL(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"https://Example.COM/News/Story?b=2&a=1#frag", "https://example.com/News/Story?a=1&b=2"},
		{"HTTP://example.com:80/x", "http://example.com/x"},
		{"https://example.com:443/x", "https://example.com/x"},
		{"https://example.com:8443/x", "https://example.com:8443/x"},
		{"http://example.com:443/x", "http://example.com:443/x"},
		{"https://example.com", "https://example.com/"},
		{"https://example.com./a", "https://example.com/a"},
		{"https://user:secret@example.com/a", "https://example.com/a"},
		{"https://example.com/a?utm_source=x&utm_medium=rss&id=7&fbclid=abc&gclid=1", "https://example.com/a?id=7"},
		{"https://example.com/a?UTM_Campaign=x&dclid=1&msclkid=2&mc_cid=3&mc_eid=4&igshid=5&ref_src=6&ref_url=7&_hsenc=8&_hsmi=9&yclid=10&spm=11", "https://example.com/a"},
		{"https://example.com/a?q=a+b&q=%20c", "https://example.com/a?q=+c&q=a+b"},
		{"https://example.com/a?flag&x=", "https://example.com/a?flag&x="},
		{"https://example.com/a?&&x=1&", "https://example.com/a?x=1"},
		{"https://example.com/a?bad=%zz&a=1", "https://example.com/a?a=1&bad=%zz"},
		{"https://[2001:DB8::1]:443/a", "https://[2001:db8::1]/a"},
		{"https://[2001:db8::1]:8080/a", "https://[2001:db8::1]:8080/a"},
		{"https://example.com/%7Euser/a%2Fb", "https://example.com/%7Euser/a%2Fb"},
		{"  https://example.com/a  ", "https://example.com/a"},
		{"ftp://example.com/a", ""},
		{"mailto:a@example.com", ""},
		{"/relative/path", ""},
		{"https:///nohost", ""},
		{"http://exa mple.com/", ""},
		{"https://example.com/%zz", ""},
		{"https://example.com/\xff", ""},
		{"", ""},
		{"javascript:alert(1)", ""},
	}
	for _, tt := range tests {
		got := CanonicalURL(tt.in)
		if got != tt.want {
			t.Errorf("CanonicalURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if again := CanonicalURL(got); got != "" && again != got {
			t.Errorf("CanonicalURL not idempotent: %q → %q → %q", tt.in, got, again)
		}
	}
}

func TestCanonicalURLSameStory(t *testing.T) {
	a := CanonicalURL("https://www.reuters.com/tech/nvidia-china?utm_source=twitter&utm_medium=social")
	b := CanonicalURL("https://WWW.Reuters.com:443/tech/nvidia-china?fbclid=IwAR0x#comments")
	if a != b || a == "" {
		t.Errorf("same story, different keys: %q and %q", a, b)
	}
}

func TestMakeID(t *testing.T) {
	pub := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	id := MakeID("https://feed.example/rss", "guid-1", "https://x/1", "T", pub)
	// Pinned so that ids stay stable across releases (they key the store).
	if want := "85bcd0f1ea992ecf0b6f42f113663aae"; id != want {
		t.Errorf("id = %s, want %s", id, want)
	}
	tests := []struct {
		name string
		a, b string
		same bool
	}{
		{"guid wins over edits",
			MakeID("src", "g", "https://x/1", "Old title", pub),
			MakeID("src", "g", "https://x/2", "New title", pub.Add(time.Hour)), true},
		{"other source",
			MakeID("src", "g", "", "", pub),
			MakeID("src2", "g", "", "", pub), false},
		{"link when no guid",
			MakeID("src", "", "https://x/1", "A", pub),
			MakeID("src", "", "https://x/1", "B", time.Time{}), true},
		{"title and date when no link",
			MakeID("src", "", "", "A", pub),
			MakeID("src", "", "", "A", pub.In(time.FixedZone("CET", 3600))), true},
		{"different date",
			MakeID("src", "", "", "A", pub),
			MakeID("src", "", "", "A", pub.Add(time.Second)), false},
	}
	for _, tt := range tests {
		if (tt.a == tt.b) != tt.same {
			t.Errorf("%s: %q vs %q, same = %v", tt.name, tt.a, tt.b, tt.same)
		}
	}
}

func FuzzPlainText(f *testing.F) {
	for _, s := range []string{
		"", "plain", "<p>a</p>", "a &amp; b", "<script>x</script>y", "<plaintext>",
		"\xff\xfe", "&#0;", "<a href='x'>y", "<!--", "<title>&lt;", "a\u00a0b",
		"<style/>x", "<noscript><p>x</p></noscript>", strings.Repeat("word ", 100),
	} {
		f.Add(s, 10)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		p := PlainText(s)
		if !utf8.ValidString(p) {
			t.Fatalf("PlainText(%q) = %q: invalid UTF-8", s, p)
		}
		if p != strings.TrimSpace(p) || strings.Contains(p, "  ") {
			t.Fatalf("PlainText(%q) = %q: white space not collapsed", s, p)
		}
		n %= 1000
		c := Cut(p, n)
		if n >= 0 && utf8.RuneCountInString(c) > n {
			t.Fatalf("Cut(%q, %d) = %q: %d runes", p, n, c, utf8.RuneCountInString(c))
		}
		if !utf8.ValidString(c) {
			t.Fatalf("Cut(%q, %d) = %q: invalid UTF-8", p, n, c)
		}
		if c2 := Cut(s, n); n >= 0 && utf8.RuneCountInString(c2) > n {
			t.Fatalf("Cut(%q, %d) = %q: %d runes", s, n, c2, utf8.RuneCountInString(c2))
		}
	})
}

func FuzzCanonicalURL(f *testing.F) {
	for _, s := range []string{
		"https://example.com/a?utm_source=x&b=1#f", "HTTP://EXAMPLE.COM:80", "https://[::1]:443/",
		"https://a.b./%7E?x=%zz&y", "http://user:pw@h/p;x?q=a+b", "ftp://x", "https://ex%41mple.com/",
		"https://example.com/a b", "https://例え.jp/パス?キー=値", "http://[fe80::1%25en0]/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := CanonicalURL(s)
		if c == "" {
			return
		}
		if !utf8.ValidString(c) {
			t.Fatalf("CanonicalURL(%q) = %q: invalid UTF-8", s, c)
		}
		if again := CanonicalURL(c); again != c {
			t.Fatalf("not idempotent: %q → %q → %q", s, c, again)
		}
		if !strings.HasPrefix(c, "http://") && !strings.HasPrefix(c, "https://") {
			t.Fatalf("CanonicalURL(%q) = %q: not http(s)", s, c)
		}
	})
}

// TestLineDropsBidiControls: the characters that make a title read
// backwards ("‮gnp.exe") are removed once, for every place a story is
// shown (issue 12, item 10).
func TestLineDropsBidiControls(t *testing.T) {
	for in, want := range map[string]string{
		"invoice\u202egnp.exe":                  "invoicegnp.exe",
		"a\u202ab\u202bc\u202cd\u202de":         "abcde",
		"\u2066isolated\u2069 \u2067x\u2068y":   "isolated xy",
		"marks\u200e\u200f\u061c kept words":    "marks kept words",
		"<b>html\u202e</b> too":                 "html too",
		"عربي and עברית stay as they are\u200b": "عربي and עברית stay as they are",
	} {
		if got := PlainText(in); got != want {
			t.Errorf("PlainText(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzLine checks that no text keeps a control, a bidirectional control or a
// line break through Line, and that the result is valid UTF-8.
func FuzzLine(f *testing.F) {
	for _, s := range []string{"invoice\u202egnp.exe", "a\u2066b\u2069", "\x00\x1b[31mred", "line\nbreak", "\xff\xfe", "عربي\u200f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Line(s)
		if !utf8.ValidString(got) {
			t.Fatalf("Line(%q) = %q: invalid UTF-8", s, got)
		}
		for _, r := range got {
			if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\n' {
				t.Fatalf("Line(%q) = %q keeps %U", s, got, r)
			}
		}
	})
}
