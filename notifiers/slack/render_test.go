package slack

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	slackgo "github.com/slack-go/slack"

	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/notifiers/notifiertest"
	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                      "plain",
		"<!channel> & <@U123>":       "&lt;!channel&gt; &amp; &lt;@U123&gt;",
		"<https://evil|click>":       "&lt;https://evil|click&gt;",
		"already &amp; escaped":      "already &amp;amp; escaped",
		"*bold* _it_ ~s~ `c` :emoji": "*bold* _it_ ~s~ `c` :emoji",
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLink(t *testing.T) {
	tests := []struct{ url, want string }{
		{"https://example.com/a?b=1&c=2", "<https://example.com/a?b=1&amp;c=2|label>"},
		{"http://example.com/x", "<http://example.com/x|label>"},
		{"HTTPS://Example.com/", "<HTTPS://Example.com/|label>"},
		{"https://x.com/a b|c>d<e\"f", "<https://x.com/a%20b%7Cc%3Ed%3Ce%22f|label>"},
		{"https://x.com/caf\u00e9", "<https://x.com/caf%C3%A9|label>"},
		{"  https://x.com/trim  ", "<https://x.com/trim|label>"},
		{"javascript:alert(1)", "label"},
		{"ftp://x.com/file", "label"},
		{"https:///nohost", "label"},
		{"/relative/path", "label"},
		{"", "label"},
		{"https://x.com/" + strings.Repeat("a", maxURLBytes), "label"},
	}
	for _, tt := range tests {
		if got := Link(tt.url, "label"); got != tt.want {
			t.Errorf("Link(%q) = %q, want %q", tt.url, got, tt.want)
		}
	}
}

func TestEmphasize(t *testing.T) {
	tests := []struct {
		name, text string
		terms      []string
		want       string
	}{
		{"word", "Nvidia and China", []string{"nvidia", "china"}, "*Nvidia* and *China*"},
		{"case", "NVIDIA rises", []string{"nvidia"}, "*NVIDIA* rises"},
		{"whole word only", "nvidiafan posts", []string{"nvidia"}, "nvidiafan posts"},
		{"apostrophe", "NVIDIA's chips", []string{"nvidia"}, "*NVIDIA*" + zwsp + "'s chips"},
		{"punctuation both sides", "(China)", []string{"china"}, "(" + zwsp + "*China*" + zwsp + ")"},
		{"accent in text", "Café policy", []string{"cafe"}, "*Café* policy"},
		{"accent in term", "Cafe policy", []string{"café"}, "*Cafe* policy"},
		{"decomposed accent", "Cafe\u0301 policy", []string{"cafe"}, "*Cafe\u0301* policy"},
		{"prefix", "exported goods, exports", []string{"export*"}, "*exported* goods, *exports*"},
		{"phrase", "new export controls", []string{"export controls"}, "new *export controls*"},
		{"phrase across a hyphen", "export-controls bite", []string{"export controls"}, "*export-controls* bite"},
		{"phrase needs all words", "export rules", []string{"export controls"}, "export rules"},
		{"ideographs", "英伟达公司", []string{"英伟达"}, "*英伟达*" + zwsp + "公司"},
		{"dotted", "U.S. rules", []string{"u.s."}, "*U.S*" + zwsp + ". rules"},
		{"escaped around", "a < china & b", []string{"china"}, "a &lt; *china* &amp; b"},
		{"escaped inside", "AT&T deal", []string{"at&t"}, "*AT&amp;T* deal"},
		{"field term", "China news", []string{"title:china"}, "*China* news"},
		{"regex and site skipped", "china.com", []string{"/china/", "site:china.com"}, "china.com"},
		{"overlap merged", "chip export", []string{"chip", "chip export"}, "*chip export*"},
		{"marker inside match left plain", "export*controls", []string{"export controls"}, "export*controls"},
		{"no terms", "<b>", nil, "&lt;b&gt;"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := emphasize(tt.text, rules.NewHighlighter(tt.terms)); got != tt.want {
				t.Errorf("emphasize(%q, %q) = %q, want %q", tt.text, tt.terms, got, tt.want)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in    string
		limit int
		want  string
	}{
		{"short", 10, "short"},
		{"hello brave new world", 15, "hello brave…"},
		{"abcdefghij", 5, "abcd…"},
		{"ééééé", 3, "éé…"},
		{"😀😀😀", 4, "😀…"}, // an emoji counts 2
		{"x\xffy", 10, "x\uFFFDy"},
		{"anything", 0, ""},
	}
	for _, tt := range tests {
		got := Truncate(tt.in, tt.limit)
		if got != tt.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
		}
		if notifiers.UTF16(got) > tt.limit || !utf8.ValidString(got) {
			t.Errorf("Truncate(%q, %d) = %q: too long or invalid", tt.in, tt.limit, got)
		}
	}
}

func TestDate(t *testing.T) {
	at := time.Date(2026, 11, 28, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	if got, want := Date(at), "<!date^1795856400^{date_short_pretty} {time}|2026-11-28T09:00:00Z>"; got != want {
		t.Errorf("Date = %q, want %q", got, want)
	}
	if got := Date(time.Time{}); got != "" {
		t.Errorf("Date(zero) = %q, want empty", got)
	}
}

// checkLimits fails unless blocks and fallback keep every Slack limit and
// hold only whole entities and balanced link syntax.
func checkLimits(t *testing.T, blocks []slackgo.Block, fallback string) {
	t.Helper()
	if len(blocks) == 0 || len(blocks) > MaxBlocks {
		t.Errorf("%d blocks, want 1..%d", len(blocks), MaxBlocks)
	}
	texts := []string{fallback}
	for _, b := range blocks {
		switch b := b.(type) {
		case *slackgo.SectionBlock:
			texts = append(texts, b.Text.Text)
		case *slackgo.ContextBlock:
			if n := len(b.ContextElements.Elements); n == 0 || n > 10 {
				t.Errorf("context with %d elements", n)
			}
			for _, e := range b.ContextElements.Elements {
				texts = append(texts, e.(*slackgo.TextBlockObject).Text)
			}
		default:
			t.Errorf("unexpected block %T", b)
		}
	}
	if notifiers.UTF16(fallback) > MaxFallback {
		t.Errorf("fallback is %d long", notifiers.UTF16(fallback))
	}
	entity := regexp.MustCompile(`&(amp|lt|gt);`)
	for _, s := range texts {
		if notifiers.UTF16(s) > MaxText {
			t.Errorf("text of %d characters", notifiers.UTF16(s))
		}
		if !utf8.ValidString(s) {
			t.Errorf("invalid UTF-8: %q", s)
		}
		if strings.Count(entity.ReplaceAllString(s, ""), "&") > 0 {
			t.Errorf("a bare or cut entity in %q", clip(s))
		}
		if strings.Count(s, "<") != strings.Count(s, ">") {
			t.Errorf("unbalanced link syntax in %q", clip(s))
		}
	}
}

func clip(s string) string {
	if len(s) > 300 {
		return s[:150] + " ... " + s[len(s)-150:]
	}
	return s
}

func TestBlocksKeepLimits(t *testing.T) {
	long := func(unit string, n int) string { return strings.Repeat(unit, n) }
	tests := map[string]func(*story.Story){
		"10,000-char summary, 500-char title": func(s *story.Story) {
			s.Title, s.Summary = long("Nvidia ", 72)[:500], long("china chip ", 910)
		},
		"entities expand": func(s *story.Story) { s.Title, s.Summary = long("&<>", 200), long("& ", 5000) },
		"emoji":           func(s *story.Story) { s.Title, s.Summary = long("😀", 500), long("😀 ", 5000) },
		"ideographs":      func(s *story.Story) { s.Title, s.Summary = long("英伟达", 200), long("英伟达公司", 2000) },
		"no spaces":       func(s *story.Story) { s.Title, s.Summary = long("x", 500), long("nvidia", 2000) },
		"invalid UTF-8":   func(s *story.Story) { s.Title, s.Summary = long("a\xff", 300), long("\xc3", 5000) },
		"long url":        func(s *story.Story) { s.URL = "https://x.com/" + long("a", 1990) },
		"huge source":     func(s *story.Story) { s.Source = long("<src>", 2000) },
		"empty":           func(s *story.Story) { *s = story.Story{} },
	}
	for name, edit := range tests {
		t.Run(name, func(t *testing.T) {
			a := notifiertest.Alert(func(a *notifiers.Alert) {
				a.Story = notifiertest.Story(edit)
				a.Terms = []string{"nvidia", "china", "英伟达", "x"}
				for i := range 500 {
					a.Rules = append(a.Rules, fmt.Sprintf("rule-<%d>-with-a-long-name", i))
				}
			})
			for _, kind := range []string{store.KindAlert, store.KindFollowUp, store.KindSurge} {
				a.Kind = kind
				blocks, fallback := Blocks(a)
				checkLimits(t, blocks, fallback)
			}
		})
	}
}

func TestBlocksSnippetCut(t *testing.T) {
	a := notifiertest.Alert(func(a *notifiers.Alert) {
		a.Story.Summary = strings.Repeat("word ", 2000)
	})
	blocks, _ := Blocks(a)
	text := blocks[0].(*slackgo.SectionBlock).Text.Text
	_, snippet, _ := strings.Cut(text, "\n")
	if !strings.HasSuffix(snippet, "word…") || utf8.RuneCountInString(snippet) > maxSnippetRunes {
		t.Errorf("snippet %q: want at most %d runes, cut after a word with …", clip(snippet), maxSnippetRunes)
	}
}

func TestBlocksDigest(t *testing.T) {
	stories := func(n int) []story.Story {
		out := make([]story.Story, n)
		for i := range out {
			out[i] = *notifiertest.Story(func(s *story.Story) {
				s.ID = fmt.Sprint("s", i)
				s.Title = fmt.Sprintf("Story %d about China", i)
			})
		}
		return out
	}
	a := &notifiers.Alert{Kind: store.KindDigest, Rules: []string{"nvidia-china"}, Terms: []string{"china"}, Stories: stories(60)}
	blocks, fallback := Blocks(a)
	checkLimits(t, blocks, fallback)
	if len(blocks) != MaxBlocks {
		t.Fatalf("%d blocks, want %d", len(blocks), MaxBlocks)
	}
	head := blocks[0].(*slackgo.SectionBlock).Text.Text
	if head != "*Digest* — 60 stories for nvidia-china" {
		t.Errorf("heading %q", head)
	}
	first := blocks[1].(*slackgo.SectionBlock).Text.Text
	want := "• <https://www.reuters.com/technology/nvidia-china-chip-2026-11-28/|Story 0 about *China*>\nReuters · <!date^1795856400^{date_short_pretty} {time}|2026-11-28T09:00:00Z>"
	if first != want {
		t.Errorf("first story %q, want %q", first, want)
	}
	more := blocks[len(blocks)-1].(*slackgo.ContextBlock).ContextElements.Elements[0].(*slackgo.TextBlockObject).Text
	if more != "+12 more" {
		t.Errorf("last block %q, want +12 more", more)
	}
	if fallback != "Digest — 60 stories for nvidia-china" {
		t.Errorf("fallback %q", fallback)
	}

	a.Stories = stories(49)
	if blocks, _ := Blocks(a); len(blocks) != 50 {
		t.Errorf("49 stories: %d blocks, want all 49 and the heading", len(blocks))
	}

	a = &notifiers.Alert{Kind: store.KindSummary, Rules: []string{"a&b"}, Stories: stories(1)}
	blocks, fallback = Blocks(a)
	if head := blocks[0].(*slackgo.SectionBlock).Text.Text; head != "*Summary* — 1 more story for a&amp;b" {
		t.Errorf("summary heading %q", head)
	}
	if fallback != "Summary — 1 more story for a&amp;b" {
		t.Errorf("summary fallback %q", fallback)
	}
}

func TestBlocksFollowUpAndHealth(t *testing.T) {
	a := notifiertest.Alert(func(a *notifiers.Alert) {
		a.Kind = store.KindFollowUp
		a.Story.Source = "AP <News>"
	})
	blocks, fallback := Blocks(a)
	want := "Also reported by AP &lt;News&gt;: <https://www.reuters.com/technology/nvidia-china-chip-2026-11-28/|" +
		"*Nvidia* readies new *China* chip as US tightens export rules>"
	if len(blocks) != 1 || blocks[0].(*slackgo.SectionBlock).Text.Text != want {
		raw, _ := json.Marshal(blocks)
		t.Errorf("follow-up blocks %s, want one section %q", raw, want)
	}
	if want := "Also reported by AP &lt;News&gt;: Nvidia readies new China chip as US tightens export rules"; fallback != want {
		t.Errorf("follow-up fallback %q, want %q", fallback, want)
	}

	h := &notifiers.Alert{Kind: store.KindHealth, Text: "source <Feed A> failed 5 times: status 503 & <!here>"}
	blocks, fallback = Blocks(h)
	want = "source &lt;Feed A&gt; failed 5 times: status 503 &amp; &lt;!here&gt;"
	if len(blocks) != 1 || blocks[0].(*slackgo.SectionBlock).Text.Text != want || fallback != want {
		t.Errorf("health: %q / %q, want %q", blocks[0].(*slackgo.SectionBlock).Text.Text, fallback, want)
	}
}

func FuzzBlocks(f *testing.F) {
	f.Add("<!channel> & <@U123>", "summary *bold* with nvidia", "https://x.com/a|b>c", "nvidia")
	f.Add("英伟达公司", "\xff\xfe", "javascript:alert(1)", "英伟达")
	f.Add("export*controls", "U.S. export-controls", "http://x", "export controls")
	f.Fuzz(func(t *testing.T, title, summary, url, term string) {
		a := notifiertest.Alert(func(a *notifiers.Alert) {
			a.Story.Title, a.Story.Summary, a.Story.URL = title, summary, url
			a.Terms = []string{term}
		})
		blocks, fallback := Blocks(a)
		checkLimits(t, blocks, fallback)
	})
}
