package slack

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/wirewatch/wirewatch/bot/commands"
	"github.com/wirewatch/wirewatch/notifiers/notifiertest"
	"github.com/wirewatch/wirewatch/notifiers/slack/slackfake"
)

func renderJSON(t *testing.T, r commands.Reply) []byte {
	t.Helper()
	b, err := json.Marshal(render(r))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkLimits fails the test when Slack would refuse the message.
func checkLimits(t *testing.T, raw []byte) {
	t.Helper()
	r := decodeReply(t, raw)
	var blocks json.RawMessage
	if len(r.Blocks) > 0 {
		blocks = blocksOf(t, raw)
	}
	if code := slackfake.CheckMessage(r.Text, blocks); code != "" {
		t.Errorf("Slack would refuse the reply: %s\n%s", code, raw)
	}
}

func TestRenderFormat(t *testing.T) {
	got := renderJSON(t, commands.Reply{
		Ephemeral: true,
		Text:      "2 stories match",
		Items: []commands.Item{
			{Title: "Talks resume", URL: "https://example.com/talks", Detail: "Example News · 2h ago"},
			{Title: "No link here"},
		},
		Footer: "since:7d",
	})
	notifiertest.JSONEq(t, `{
		"response_type": "ephemeral",
		"text": "2 stories match",
		"blocks": [
			{"type": "section", "text": {"type": "mrkdwn", "text": "2 stories match", "verbatim": true}},
			{"type": "section", "text": {"type": "mrkdwn", "text": "<https://example.com/talks|Talks resume>", "verbatim": true}},
			{"type": "context", "elements": [{"type": "mrkdwn", "text": "Example News · 2h ago", "verbatim": true}]},
			{"type": "section", "text": {"type": "mrkdwn", "text": "No link here", "verbatim": true}},
			{"type": "context", "elements": [{"type": "mrkdwn", "text": "since:7d", "verbatim": true}]}
		]
	}`, string(got))
}

func TestRenderResponseType(t *testing.T) {
	for _, ephemeral := range []bool{true, false} {
		want := map[bool]string{true: "ephemeral", false: "in_channel"}[ephemeral]
		if got := decodeReply(t, renderJSON(t, commands.Reply{Ephemeral: ephemeral, Text: "x"})); got.ResponseType != want {
			t.Errorf("Ephemeral %v: response_type %q, want %q", ephemeral, got.ResponseType, want)
		}
	}
}

// Untrusted text can never ping or link: it reaches Slack with &, < and >
// escaped, over the real Socket Mode ack.
func TestHostileTextIsEscaped(t *testing.T) {
	ctx := testContext(t)
	r := startSocket(t, nil)
	r.stub.setReply(func(commands.Request) commands.Reply {
		return commands.Reply{
			Text: "<!channel> <@U123> & <https://evil.example|click>",
			Items: []commands.Item{{
				Title:  "<!here> boss & co",
				URL:    "https://example.com/a?b=1&c=<2>|x",
				Detail: "<!everyone> <#C999>",
			}},
			Footer: "<@U999> footer",
		}
	})
	ack, err := r.fake.SendSlashCommand(ctx, slashCommand(r.fake, "/watch", "list", userID))
	if err != nil {
		t.Fatal(err)
	}
	got := decodeReply(t, ack)
	want := []string{
		"&lt;!channel&gt; &lt;@U123&gt; &amp; &lt;https://evil.example|click&gt;",
		"<https://example.com/a?b=1&amp;c=%3C2%3E%7Cx|&lt;!here&gt; boss &amp; co>",
		"&lt;!everyone&gt; &lt;#C999&gt;",
		"&lt;@U999&gt; footer",
	}
	if texts := got.texts(); strings.Join(texts, "\n") != strings.Join(want, "\n") {
		t.Errorf("block texts:\n%s\nwant:\n%s", strings.Join(texts, "\n"), strings.Join(want, "\n"))
	}
	if got.Text != want[0] {
		t.Errorf("fallback text %q, want %q", got.Text, want[0])
	}
	for _, b := range got.Blocks {
		objs := b.Elements
		if b.Text != nil {
			objs = append(objs, *b.Text)
		}
		for _, o := range objs {
			if o.Type != "mrkdwn" || !o.Verbatim {
				t.Errorf("text object %+v is not verbatim mrkdwn", o)
			}
		}
	}
}

func TestRenderTruncatesItemsWithinMaxBlocks(t *testing.T) {
	tests := []struct {
		name      string
		detail    string
		wantShown int
		wantMore  int
	}{
		// A heading and a footer leave 48 blocks: 23 items of two blocks and "+77 more".
		{name: "items with details", detail: "Example News", wantShown: 23, wantMore: 77},
		// One block each: 47 items and "+53 more".
		{name: "items without details", wantShown: 47, wantMore: 53},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var items []commands.Item
			for i := range 100 {
				items = append(items, commands.Item{Title: fmt.Sprintf("story %d", i), URL: "https://example.com/" + fmt.Sprint(i), Detail: tc.detail})
			}
			raw := renderJSON(t, commands.Reply{Text: "100 stories", Items: items, Footer: "footer"})
			checkLimits(t, raw)
			got := decodeReply(t, raw)
			if len(got.Blocks) > 50 {
				t.Fatalf("%d blocks, Slack takes 50", len(got.Blocks))
			}
			texts := got.texts()
			shown := 0
			for _, s := range texts {
				if strings.HasPrefix(s, "<https://example.com/") {
					shown++
				}
			}
			if shown != tc.wantShown {
				t.Errorf("%d items shown, want %d", shown, tc.wantShown)
			}
			if n := len(texts); n < 2 || texts[n-2] != fmt.Sprintf("+%d more", tc.wantMore) || texts[n-1] != "footer" {
				t.Errorf("the reply ends with %q, want \"+%d more\" and the footer", texts[max(0, n-2):], tc.wantMore)
			}
		})
	}
}

func TestRenderCutsLongTextWithinMaxText(t *testing.T) {
	raw := renderJSON(t, commands.Reply{
		Text:   strings.Repeat("&", 5000),
		Items:  []commands.Item{{Title: strings.Repeat("😀", 4000), URL: "https://example.com/", Detail: strings.Repeat("<b> ", 2000)}},
		Footer: strings.Repeat("x ", 3000),
	})
	checkLimits(t, raw)
	got := decodeReply(t, raw)
	for _, s := range append(got.texts(), got.Text) {
		if n := len(utf16.Encode([]rune(s))); n > 3000 {
			t.Errorf("a text of %d characters, Slack takes 3000: %.80q…", n, s)
		}
		if !strings.HasSuffix(strings.TrimSuffix(s, ">"), "…") {
			t.Errorf("a cut text does not end with an ellipsis: …%q", s[max(0, len(s)-40):])
		}
	}
	// Entities are never cut in half.
	head := strings.TrimSuffix(got.Blocks[0].Text.Text, "…")
	if head == "" || strings.ReplaceAll(head, "&amp;", "") != "" {
		t.Errorf("the text is not whole entities: …%q", head[max(0, len(head)-20):])
	}
}

func TestRenderQueryErrorCaretInCodeBlock(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{
		{
			name: "text before and after",
			text: "column 12: nothing after AND\nAT&T AND <\n           ^\nQueries look like: ukraine OR kyiv",
			want: []string{
				":warning: column 12: nothing after AND",
				"```AT&amp;T AND &lt;\n           ^```",
				"Queries look like: ukraine OR kyiv",
			},
		},
		{
			name: "as bot/commands words it",
			text: "That query has a problem at column 8: unbalanced parenthesis opened at column 8\n  nvidia (china\n         ^",
			want: []string{
				":warning: That query has a problem at column 8: unbalanced parenthesis opened at column 8",
				"```  nvidia (china\n         ^```",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw := renderJSON(t, commands.Reply{Ephemeral: true, Error: true, Text: tc.text})
			checkLimits(t, raw)
			if texts := decodeReply(t, raw).texts(); strings.Join(texts, "\n|\n") != strings.Join(tc.want, "\n|\n") {
				t.Errorf("blocks:\n%s\nwant:\n%s", strings.Join(texts, "\n|\n"), strings.Join(tc.want, "\n|\n"))
			}
		})
	}
}

func TestRenderCodeBlockCannotBeClosedByTheQuery(t *testing.T) {
	got := decodeReply(t, renderJSON(t, commands.Reply{Error: true, Text: "bad\n```<!channel>\n^"}))
	code := got.texts()[1]
	if inner := strings.TrimSuffix(strings.TrimPrefix(code, "```"), "```"); strings.Contains(inner, "```") || strings.Contains(inner, "<!") {
		t.Errorf("code block %q can be closed or ping", code)
	}
}

func TestRenderEmptyReply(t *testing.T) {
	raw := renderJSON(t, commands.Reply{})
	checkLimits(t, raw)
	if got := decodeReply(t, raw); got.Text == "" {
		t.Errorf("an empty reply renders no text: %s", raw)
	}
}
