package discord_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/notifiers/discord"
	"github.com/wirewatch/wirewatch/notifiers/notifiertest"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text, nothing to do.", "plain text, nothing to do."},
		{"@everyone look", "@\u200beveryone look"},
		{"ping @HERE now", "ping @\u200bHERE now"},
		{"mail a@b.example", "mail a@b.example"},
		{"<@123> <@!4> <@&5> <#6> <t:1:R> </cmd:1>", `\<@123\> \<@!4\> \<@&5\> \<\#6\> \<t:1:R\> \</cmd:1\>`},
		{"**bold** __u__ ~~s~~ ||spoiler|| `code`", `\*\*bold\*\* \_\_u\_\_ \~\~s\~\~ \|\|spoiler\|\| ` + "\\`code\\`"},
		{`back\slash`, `back\\slash`},
		{"[x](https://evil)", `\[x\]\(https://evil)`},
		{"# heading", `\# heading`},
		{"> quote", `\> quote`},
		{"- item", `\- item`},
		{"-# subtext", `\-\# subtext`},
		{"1. first", `1\. first`},
		{"2024. was a year; 3.5 is a number", `2024\. was a year; 3.5 is a number`},
		{"a - b + c", "a - b + c"},
		{"line\n- two\r\n+ three", "line\n\\- two\n\\+ three"},
		{"bell\a and \u202eevil", "bell and evil"},
		{"(parens) are fine", "(parens) are fine"},
	}
	for _, tt := range tests {
		if got := discord.Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

func TestEscapedCutsBeforeEscaping(t *testing.T) {
	in := strings.Repeat("a*", 100) // escapes to 300 units
	for max := 1; max <= 40; max++ {
		got := discord.Escaped(in, max)
		if discord.Len(got) > max {
			t.Fatalf("Escaped(_, %d) = %q, %d units", max, got, discord.Len(got))
		}
		if !strings.HasSuffix(got, "…") {
			t.Fatalf("Escaped(_, %d) = %q, want a trailing …", max, got)
		}
		if danglingEscape(got) {
			t.Fatalf("Escaped(_, %d) = %q splits an escape", max, got)
		}
	}
	if got := discord.Escaped("short", 10); got != "short" {
		t.Errorf("Escaped(short) = %q", got)
	}
	if got := discord.Escaped("one two three four", 12); got != "one two…" {
		t.Errorf("Escaped cuts at a word: got %q, want %q", got, "one two…")
	}
	if got := discord.Escaped("😀😀😀😀", 5); got != "😀😀…" {
		t.Errorf("Escaped counts UTF-16 units: got %q", got)
	}
}

// danglingEscape reports an odd run of backslashes right before the final "…".
func danglingEscape(s string) bool {
	s = strings.TrimSuffix(s, "…")
	n := len(s) - len(strings.TrimRight(s, `\`))
	return n%2 == 1
}

func TestColourIsStable(t *testing.T) {
	// Fixed values: a rule keeps its colour across restarts and releases.
	if got := discord.Colour("nvidia-china"); got != 0x3498DB {
		t.Errorf("Colour(nvidia-china) = %#06x, want 0x3498db", got)
	}
	if got := discord.Colour("chips"); got != 0x00ACC1 {
		t.Errorf("Colour(chips) = %#06x, want 0x00acc1", got)
	}
	seen := map[int]bool{}
	for i := range 50 {
		c := discord.Colour(fmt.Sprintf("rule-%d", i))
		if c <= 0 || c > 0xFFFFFF {
			t.Fatalf("Colour = %#x", c)
		}
		seen[c] = true
	}
	if len(seen) < 5 {
		t.Errorf("50 rules share %d colours; want a spread", len(seen))
	}
}

func only(t *testing.T, a *notifiers.Alert) *discordgo.MessageEmbed {
	t.Helper()
	es := discord.Embeds(a)
	if len(es) != 1 {
		t.Fatalf("Embeds gave %d embeds, want 1", len(es))
	}
	return es[0]
}

func TestEmbedBoldsMatchedTerms(t *testing.T) {
	tests := []struct {
		summary string
		terms   []string
		want    string
	}{
		{"NVIDIA's new chip for China.", []string{"nvidia", "china"}, "**NVIDIA**'s new chip for **China**."},
		{"nvidiafan posts", []string{"nvidia"}, "nvidiafan posts"},
		{"Le café est ouvert", []string{"cafe"}, "Le **café** est ouvert"},
		{"new export-controls bite", []string{"export controls"}, "new **export-controls** bite"},
		{"exports exported export", []string{"export*"}, "**exports** **exported** **export**"},
		{"英伟达发布新芯片", []string{"英伟达"}, "**英伟达**发布新芯片"},
		{"*nvidia* [china]", []string{"nvidia", "china"}, `\***nvidia**\* \[**china**\]`},
		{"h20 chips", []string{`/\bh[0-9]{2}\b/`, "title:chips"}, "h20 **chips**"},
	}
	for _, tt := range tests {
		a := notifiertest.Alert(func(a *notifiers.Alert) {
			a.Story.Summary = tt.summary
			a.Terms = tt.terms
		})
		if got := only(t, a).Description; got != tt.want {
			t.Errorf("summary %q terms %q\n got %q\nwant %q", tt.summary, tt.terms, got, tt.want)
		}
	}
}

func TestEmbedStory(t *testing.T) {
	a := notifiertest.Alert(func(a *notifiers.Alert) { a.Rules = []string{"nvidia-china", "chips"} })
	e := only(t, a)
	if e.Title != a.Story.Title || e.URL != a.Story.URL || e.Timestamp != "2026-11-28T09:00:00Z" {
		t.Errorf("title %q url %q timestamp %q", e.Title, e.URL, e.Timestamp)
	}
	if e.Color != discord.Colour("nvidia-china") {
		t.Errorf("colour %#x, want the first rule's", e.Color)
	}
	if e.Footer == nil || e.Footer.Text != "Reuters · rules: nvidia-china, chips" {
		t.Errorf("footer = %+v", e.Footer)
	}

	for _, bad := range []string{"javascript:alert(1)", "ftp://example.com/x", "/relative", ""} {
		a := notifiertest.Alert(func(a *notifiers.Alert) { a.Story.URL = bad })
		if got := only(t, a).URL; got != "" {
			t.Errorf("URL %q kept as %q", bad, got)
		}
	}
	untitled := notifiertest.Alert(func(a *notifiers.Alert) { a.Story.Title = "  " })
	if got := only(t, untitled).Title; got != "(untitled)" {
		t.Errorf("empty title rendered %q", got)
	}
	noSummary := notifiertest.Alert(func(a *notifiers.Alert) { a.Story.Summary = ""; a.Story.Content = "China content" })
	if got := only(t, noSummary).Description; got != "**China** content" {
		t.Errorf("content fallback = %q", got)
	}
}

func TestEmbedHostileText(t *testing.T) {
	a := notifiertest.Alert(func(a *notifiers.Alert) {
		a.Story.Title = "@everyone <@&123> **bold** [x](https://evil)"
		a.Story.Summary = "@here <@456> > quote `code` ||spoiler||"
		a.Story.Source = "@everyone news"
	})
	e := only(t, a)
	if want := `@` + "\u200b" + `everyone \<@&123\> \*\*bold\*\* \[x\]\(https://evil)`; e.Title != want {
		t.Errorf("title\n got %q\nwant %q", e.Title, want)
	}
	if want := `@` + "\u200b" + `here \<@456\> \> quote ` + "\\`code\\`" + ` \|\|spoiler\|\|`; e.Description != want {
		t.Errorf("description\n got %q\nwant %q", e.Description, want)
	}
	if strings.Contains(e.Footer.Text, "@everyone") {
		t.Errorf("footer %q can mention everyone", e.Footer.Text)
	}
}

// totalLen is what Discord counts against the 6000 of one message.
func totalLen(es []*discordgo.MessageEmbed) int {
	n := 0
	for _, e := range es {
		n += discord.Len(e.Title) + discord.Len(e.Description)
		if e.Footer != nil {
			n += discord.Len(e.Footer.Text)
		}
		if e.Author != nil {
			n += discord.Len(e.Author.Name)
		}
		for _, f := range e.Fields {
			n += discord.Len(f.Name) + discord.Len(f.Value)
		}
	}
	return n
}

// checkLimits fails the test for every Discord limit es breaks.
func checkLimits(t *testing.T, es []*discordgo.MessageEmbed) {
	t.Helper()
	if len(es) > discord.MaxEmbeds {
		t.Errorf("%d embeds", len(es))
	}
	for i, e := range es {
		if n := discord.Len(e.Title); n > discord.MaxTitle {
			t.Errorf("embed %d: title %d units", i, n)
		}
		if n := discord.Len(e.Description); n > discord.MaxDescription {
			t.Errorf("embed %d: description %d units", i, n)
		}
		if e.Footer != nil && discord.Len(e.Footer.Text) > discord.MaxFooter {
			t.Errorf("embed %d: footer %d units", i, discord.Len(e.Footer.Text))
		}
		if e.Author != nil && discord.Len(e.Author.Name) > discord.MaxAuthor {
			t.Errorf("embed %d: author %d units", i, discord.Len(e.Author.Name))
		}
		if len(e.Fields) > discord.MaxFields {
			t.Errorf("embed %d: %d fields", i, len(e.Fields))
		}
		for j, f := range e.Fields {
			if discord.Len(f.Name) > discord.MaxFieldName || discord.Len(f.Value) > discord.MaxFieldValue {
				t.Errorf("embed %d field %d: name %d, value %d units", i, j, discord.Len(f.Name), discord.Len(f.Value))
			}
		}
	}
	if n := totalLen(es); n > discord.MaxEmbedsTotal {
		t.Errorf("embeds total %d units, limit %d", n, discord.MaxEmbedsTotal)
	}
}

// longAlert has a 500-character title and a 10,000-character summary full of
// characters that need escaping, and enough rules to overflow the footer.
func longAlert() *notifiers.Alert {
	return notifiertest.Alert(func(a *notifiers.Alert) {
		a.Story.Title = strings.Repeat("a*b_", 125)
		a.Story.Summary = strings.Repeat("nvidia <@1> ", 834)[:10000]
		a.Story.Source = strings.Repeat("s", 300)
		a.Rules = nil
		for i := range 300 {
			a.Rules = append(a.Rules, fmt.Sprintf("rule-number-%03d", i))
		}
	})
}

func TestEmbedTruncatesWithinEveryLimit(t *testing.T) {
	a := longAlert()
	es := discord.Embeds(a)
	checkLimits(t, es)
	e := es[0]
	if !strings.HasSuffix(e.Title, "…") || danglingEscape(e.Title) {
		t.Errorf("title %q: want it cut whole, ending in …", e.Title)
	}
	if !strings.HasSuffix(e.Description, "…") || danglingEscape(e.Description) {
		t.Errorf("description ends %q", e.Description[len(e.Description)-20:])
	}
	if n := strings.Count(e.Description, "**"); n == 0 || n%2 != 0 {
		t.Errorf("description has %d bold markers; want them paired", n)
	}
	if !strings.HasSuffix(e.Footer.Text, "…") {
		t.Errorf("footer not cut: %d units", discord.Len(e.Footer.Text))
	}
	// With the footer and title at their longest, the description gives way
	// to keep the message within 6000.
	if discord.Len(e.Description) > discord.MaxEmbedsTotal-discord.Len(e.Title)-discord.Len(e.Footer.Text) {
		t.Errorf("description %d units leaves no room", discord.Len(e.Description))
	}

	follow := longAlert()
	follow.Kind = store.KindFollowUp
	checkLimits(t, discord.Embeds(follow))

	health := &notifiers.Alert{Kind: store.KindHealth, Text: strings.Repeat("feed down @everyone ", 600)}
	checkLimits(t, discord.Embeds(health))
}

func TestEmbedFollowUp(t *testing.T) {
	a := notifiertest.Alert(func(a *notifiers.Alert) {
		a.Kind = store.KindFollowUp
		a.Story.Source = "AP"
	})
	e := only(t, a)
	if e.Author == nil || e.Author.Name != "Also reported by AP" || e.Title != a.Story.Title || e.URL != a.Story.URL {
		t.Errorf("follow-up embed = %+v", e)
	}
	if e.Description != "" {
		t.Errorf("follow-up has a description %q; want it short", e.Description)
	}
}

func TestEmbedDigest(t *testing.T) {
	stories := make([]story.Story, 500)
	for i := range stories {
		stories[i] = *notifiertest.Story(func(s *story.Story) {
			s.ID = fmt.Sprint(i)
			s.Title = fmt.Sprintf("Story %d about [chips] (and more) %s", i, strings.Repeat("x", 150))
			s.URL = fmt.Sprintf("https://example.com/a_(%d)", i)
			s.Published = time.Date(2026, 11, 28, 9, 0, i%60, 0, time.UTC)
		})
	}
	a := &notifiers.Alert{Kind: store.KindDigest, Rules: []string{"chips"}, Stories: stories}
	es := discord.Embeds(a)
	checkLimits(t, es)
	e := es[0]
	if e.Title != "Digest: 500 stories for chips" {
		t.Errorf("title %q", e.Title)
	}
	lines := strings.Split(e.Description, "\n")
	last := lines[len(lines)-1]
	if want := fmt.Sprintf("+%d more", 500-(len(lines)-1)); last != want {
		t.Errorf("last line %q, want %q", last, want)
	}
	if want := `• [Story 0 about \[chips\] (and more) `; !strings.HasPrefix(lines[0], want) ||
		!strings.Contains(lines[0], "](https://example.com/a_%280%29) — Reuters") {
		t.Errorf("first line %q", lines[0])
	}
	if e.Timestamp != "2026-11-28T09:00:59Z" {
		t.Errorf("timestamp %q, want the newest story's", e.Timestamp)
	}

	few := &notifiers.Alert{Kind: store.KindSummary, Rules: []string{"chips"}, Stories: stories[:2]}
	e = only(t, few)
	if strings.Contains(e.Description, "\n+") || strings.Count(e.Description, "\n") != 1 || !strings.HasPrefix(e.Title, "Summary: 2 stories") {
		t.Errorf("summary of two: title %q description %q", e.Title, e.Description)
	}
}

func TestEmbedHealth(t *testing.T) {
	e := only(t, &notifiers.Alert{Kind: store.KindHealth, Text: "Source **A** failed 5 times"})
	if e.Description != `Source \*\*A\*\* failed 5 times` || e.Title == "" || e.Color == 0 {
		t.Errorf("health embed = %+v", e)
	}
}
