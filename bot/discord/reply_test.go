package discord

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/wirewatch/wirewatch/bot/commands"
	ndiscord "github.com/wirewatch/wirewatch/notifiers/discord"
)

func TestEmbedKeepsLimits(t *testing.T) {
	items := make([]commands.Item, 200)
	for i := range items {
		items[i] = commands.Item{
			Title:  fmt.Sprintf("Story %d: %s", i, strings.Repeat("*bold* _it_ ", 30)),
			URL:    fmt.Sprintf("https://example.com/%d", i),
			Detail: strings.Repeat("detail ", 60),
		}
	}
	for _, tc := range []struct {
		name string
		rep  commands.Reply
	}{
		{"many items", commands.Reply{Text: "Matches:", Items: items, Footer: "footer"}},
		{"long text and items", commands.Reply{Text: strings.Repeat("word ", 3000), Items: items}},
		{"long footer", commands.Reply{Text: "x", Items: items, Footer: strings.Repeat("f", 5000)}},
		{"long text alone", commands.Reply{Text: strings.Repeat("#", 9000)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := embed(tc.rep)
			d := length(e.Description)
			total := d
			if e.Footer != nil {
				total += length(e.Footer.Text)
				if n := length(e.Footer.Text); n > ndiscord.MaxFooter {
					t.Errorf("footer of %d units", n)
				}
			}
			if d > ndiscord.MaxDescription || total > ndiscord.MaxEmbedsTotal {
				t.Fatalf("description %d units, embed %d, want ≤ %d and ≤ %d", d, total, ndiscord.MaxDescription, ndiscord.MaxEmbedsTotal)
			}
			if len(tc.rep.Items) == 0 {
				return
			}
			lines := strings.Split(e.Description, "\n")
			last := lines[len(lines)-1]
			more, ok := strings.CutPrefix(last, "+")
			if !ok || !strings.HasSuffix(more, " more") {
				t.Fatalf("last line %q, want +N more", last)
			}
			n, err := strconv.Atoi(strings.TrimSuffix(more, " more"))
			if err != nil {
				t.Fatal(err)
			}
			shown := strings.Count(e.Description, "](https://example.com/")
			if shown+n != len(tc.rep.Items) || shown == 0 {
				t.Errorf("%d items shown and +%d more, want %d in all and some shown", shown, n, len(tc.rep.Items))
			}
		})
	}
}

func TestItemLine(t *testing.T) {
	for _, tc := range []struct {
		item commands.Item
		want string
	}{
		{commands.Item{Title: "Plain", URL: "https://example.com/a b)", Detail: "AP"}, "[Plain](https://example.com/a%20b%29) — AP"},
		{commands.Item{Title: "Script", URL: "javascript:alert(1)"}, "Script"},
		{commands.Item{Title: "Relative", URL: "/news/1"}, "Relative"},
		{commands.Item{Title: "  ", Detail: "line one\nline two"}, "(untitled) — line one line two"},
		{commands.Item{Title: "[x](https://evil.example)", URL: "http://example.com"}, `[\[x\]\(https://evil.example)](http://example.com)`},
	} {
		if got := itemLine(tc.item); got != tc.want {
			t.Errorf("itemLine(%+v) = %q, want %q", tc.item, got, tc.want)
		}
	}
}

func TestEmptyReply(t *testing.T) {
	if d := embed(commands.Reply{}).Description; d != "Done." {
		t.Errorf("description = %q", d)
	}
}

func TestPlainLine(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"a\nb\tc\x00d", 100, "a b cd"},
		{strings.Repeat("x", 150), 100, strings.Repeat("x", 99) + "…"},
		{strings.Repeat("😀", 60), 100, strings.Repeat("😀", 49) + "…"}, // 2 units each
		{"word " + strings.Repeat("y", 10), 8, "word yy…"},
		{"word " + strings.Repeat("y", 10), 6, "word…"},
		{"\u202eevil", 100, "evil"},
	} {
		got := plainLine(tc.in, tc.max)
		if got != tc.want {
			t.Errorf("plainLine(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
		if length(got) > tc.max {
			t.Errorf("plainLine(%q, %d) is %d units", tc.in, tc.max, length(got))
		}
	}
}
