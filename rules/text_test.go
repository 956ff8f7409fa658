package rules

import (
	"slices"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"case folded", "NVIDIA Nvidia nvidia", "nvidia nvidia nvidia"},
		{"apostrophe splits", "NVIDIA's", "nvidia s"},
		{"curly apostrophe splits", "Nvidia’s don’t", "nvidia s don t"},
		{"hyphen splits", "export-control", "export control"},
		{"en dash splits", "Export–Control", "export control"},
		{"dots split", "U.S.", "u s"},
		{"digits are word characters", "H20 chips in 2024, up 3.5%", "h20 chips in 2024 up 3 5"},
		{"accents removed", "Zürich Café Ångström naïve", "zurich cafe angstrom naive"},
		{"sharp s folds to ss", "Straße STRASSE", "strasse strasse"},
		{"final sigma folds", "ΟΔΟΣ οδος οδός", "οδοσ οδοσ οδοσ"},
		{"ligature decomposed", "ﬁnance", "finance"},
		{"full-width letters", "ＮＶＩＤＩＡ", "nvidia"},
		{"superscript digit", "x²", "x2"},
		{"Han ideographs one each", "英伟达公司", "英 伟 达 公 司"},
		{"CJK next to Latin", "NVIDIA英伟达H20", "nvidia 英 伟 达 h20"},
		{"kana one each, voicing kept", "ソニーがゲーム", "ソ ニ ー が ゲ ー ム"},
		{"half-width katakana widened", "ｿﾆｰ", "ソ ニ ー"},
		{"Hangul words stay whole", "삼성전자 주가", "삼성전자 주가"},
		{"Cyrillic", "Москва", "москва"},
		{"soft hyphen ignored", "nvi\u00addia", "nvidia"},
		{"zero-width space splits", "nvidia\u200bchina", "nvidia china"},
		{"invalid UTF-8 splits", "nv\xffidia", "nv idia"},
		{"punctuation only", "... --- !!!", ""},
		{"empty", "", ""},
		{"Devanagari spacing marks keep the word", "हिन्दी", "हिनदी"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Normalize(tt.in); got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestNormalizeIdempotent checks that tokens are already normal: tokenizing a
// token gives the token back. Queries rely on it (a query's words are
// tokenized text) and so does the canonical form.
func TestNormalizeIdempotent(t *testing.T) {
	inputs := []string{"Zürich’s ÉCOLE ﬁnance ＮＶＩＤＩＡ", "Straße ΟΔΟΣ İstanbul ǅemal", "英伟达 ソニー ｿﾆｰ 삼성", "Ⅻ ① ½ ㎏ ﬀ"}
	for _, in := range inputs {
		once := Normalize(in)
		if twice := Normalize(once); twice != once {
			t.Errorf("Normalize(Normalize(%q)) = %q, want %q", in, twice, once)
		}
	}
}

// TestTokenTextRanges checks where in the text each token comes from: the
// range the highlighter shows.
func TestTokenTextRanges(t *testing.T) {
	tests := []struct {
		in   string
		want []string // per token: "token=text"
	}{
		{"NVIDIA's chips", []string{"nvidia=NVIDIA", "s=s", "chips=chips"}},
		{"  Zürich, Cafe\u0301!", []string{"zurich=Zürich", "cafe=Cafe\u0301"}},
		{"ex\u00ADport \u00ADsoft", []string{"export=ex\u00ADport", "soft=soft"}},
		{"英伟达H20", []string{"英=英", "伟=伟", "达=达", "h20=H20"}},
		{"a ½ b", []string{"a=a", "1=½", "2=½", "b=b"}},
		{"3½", []string{"31=3½", "2=½"}},
		{"ﬁnance ＮＶ", []string{"finance=ﬁnance", "nv=ＮＶ"}},
		{"nv\xffidia", []string{"nv=nv", "idia=idia"}},
		{"x\u200By", []string{"x=x", "y=y"}},
	}
	for _, tt := range tests {
		buf, spans := appendTokens(nil, nil, tt.in)
		var got []string
		for _, sp := range spans {
			got = append(got, string(buf[sp.off:sp.end])+"="+tt.in[sp.from:sp.to])
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%q: %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAppendTokensAllocatesNothing(t *testing.T) {
	text := strings.Repeat("Zürich’s NVIDIA H20: 英伟达 export-controls. ", 20)
	buf, spans := appendTokens(nil, nil, text)
	allocs := testing.AllocsPerRun(100, func() {
		buf, spans = appendTokens(buf[:0], spans[:0], text)
	})
	if allocs != 0 {
		t.Errorf("appendTokens allocates %.0f times per call, want 0", allocs)
	}
}

func TestURLHost(t *testing.T) {
	tests := []struct{ url, want string }{
		{"https://www.Reuters.com/world/x?y=1#z", "www.reuters.com"},
		{"http://user:pw@reuters.com:8080/", "reuters.com"},
		{"https://reuters.com./a", "reuters.com"},
		{"https://[::1]:8080/", "::1"},
		{"reuters.com/world", ""},
		{"", ""},
		{"javascript:alert(1)", ""},
		{"https://reuters.com.evil.net/", "reuters.com.evil.net"},
	}
	for _, tt := range tests {
		if got := urlHost(tt.url); got != tt.want {
			t.Errorf("urlHost(%q) = %q, want %q", tt.url, got, tt.want)
		}
	}
}
