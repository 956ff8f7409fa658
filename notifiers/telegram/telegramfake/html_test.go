package telegramfake

import (
	"html"
	"testing"
)

func TestParseHTML(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{`<b>a</b> &amp; <a href="https://x.example/?a=1&amp;b=2">link</a>`, "a & link", true},
		{`&lt;script&gt; &#39;q&#34; &#x41;`, `<script> 'q" A`, true},
		{"<b><i>nested</i></b>", "nested", true},
		{"<script>x</script>", "", false},
		{"<b>unclosed", "", false},
		{"<b><i>x</b></i>", "", false},
		{"a & b", "", false},
		{"&am", "", false},
		{"a < b", "", false},
		{"a > b", "", false},
		{"<a>no href</a>", "", false},
		{`<a href="x" onclick="y">z</a>`, "z", true},
	}
	for _, tt := range tests {
		got, err := ParseHTML(tt.in)
		if (err == nil) != tt.ok || (tt.ok && got != tt.want) {
			t.Errorf("ParseHTML(%q) = %q, %v; want %q, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// FuzzParseHTML checks that no input makes ParseHTML panic and that the
// text it shows, escaped again, reads back as itself.
func FuzzParseHTML(f *testing.F) {
	for _, s := range []string{"<b>a</b>", `<a href="h">x</a>`, "&amp;&#65;", "<b><i>", "a<", "&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseHTML(s)
		if err != nil {
			return
		}
		if again, err := ParseHTML(html.EscapeString(v)); err != nil || again != v {
			t.Errorf("ParseHTML(%q) = %q, which escaped reads back as %q, %v", s, v, again, err)
		}
	})
}
