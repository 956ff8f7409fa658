package highlight

import (
	"strings"
	"testing"
)

// mark shows spans as [..] for readable expectations.
func mark(s string, spans []Span) string {
	var b strings.Builder
	last := 0
	for _, sp := range spans {
		b.WriteString(s[last:sp.Start] + "[" + s[sp.Start:sp.End] + "]")
		last = sp.End
	}
	b.WriteString(s[last:])
	return b.String()
}

func TestSpans(t *testing.T) {
	tests := []struct {
		name  string
		terms []string
		text  string
		want  string
	}{
		{"word any case", []string{"nvidia"}, "NVIDIA's chips, not nvidiafan", "[NVIDIA]'s chips, not nvidiafan"},
		{"accents", []string{"zurich"}, "Talks in Zürich today", "Talks in [Zürich] today"},
		{"phrase", []string{"export controls"}, "New export  controls; export rules", "New [export  controls]; export rules"},
		{"prefix", []string{"export*"}, "Exports and exported, not reexport", "[Exports] and [exported], not reexport"},
		{"field scope", []string{"title:h20"}, "The H20 chip", "The [H20] chip"},
		{"regex and site skipped", []string{"/h[0-9]+/", "site:reuters.com"}, "H20 at reuters.com", "H20 at reuters.com"},
		{"cjk sequence", []string{"英伟达"}, "关于英伟达的报道", "关于[英伟达]的报道"},
		{"separate words", []string{"nvidia", "china"}, "Nvidia China deal", "[Nvidia] [China] deal"},
		{"overlap merged", []string{"nvidia china", "china deal"}, "Nvidia China deal", "[Nvidia China deal]"},
		{"hyphen phrase", []string{"export control"}, "export-control rules", "[export-control] rules"},
		{"no terms", nil, "anything", "anything"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mark(tt.text, Compile(tt.terms).Spans(tt.text)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func FuzzSpans(f *testing.F) {
	f.Add("export*", "Exports of NVIDIA chips to 中国")
	f.Fuzz(func(t *testing.T, term, text string) {
		last := 0
		for _, sp := range Compile([]string{term}).Spans(text) {
			if sp.Start < last || sp.End <= sp.Start || sp.End > len(text) {
				t.Fatalf("bad span %+v after %d in %q", sp, last, text)
			}
			last = sp.End
		}
	})
}
