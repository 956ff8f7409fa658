package notifiers_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/notifiers/notifiertest"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

func line(t *testing.T, a *notifiers.Alert) string {
	t.Helper()
	b, err := notifiers.NewPayload(a).JSONLine()
	if err != nil {
		t.Fatalf("JSONLine: %v", err)
	}
	if n := strings.Count(string(b), "\n"); n != 1 || !strings.HasSuffix(string(b), "\n") {
		t.Fatalf("JSONLine is not one line ending in a newline: %q", b)
	}
	return string(b)
}

const specStory = `{
	"id": "s1",
	"title": "Nvidia readies new China chip as US tightens export rules",
	"url": "https://www.reuters.com/technology/nvidia-china-chip-2026-11-28/",
	"source": "Reuters",
	"published": "2026-11-28T09:00:00Z",
	"summary": "Nvidia is preparing a new AI chip for China that meets the latest US export controls, people familiar with the matter said."
}`

func TestPayloadKinds(t *testing.T) {
	second := *notifiertest.Story(func(s *story.Story) {
		s.ID, s.Title, s.URL, s.Source, s.Summary = "s2", "Beijing answers", "https://example.com/b", "AP", "Short."
		s.Published = time.Date(2026, 11, 28, 10, 30, 0, 0, time.UTC)
	})
	const secondJSON = `{"id":"s2","title":"Beijing answers","url":"https://example.com/b","source":"AP","published":"2026-11-28T10:30:00Z","summary":"Short."}`
	tests := []struct {
		name  string
		alert *notifiers.Alert
		want  string
	}{
		{
			name:  "plain alert as in the spec, kind left out",
			alert: notifiertest.Alert(),
			want:  `{"rules":["nvidia-china"],"target":"hook","story":` + specStory + `,"terms":["nvidia","china"]}`,
		},
		{
			name:  "kind alert is left out too",
			alert: notifiertest.Alert(func(a *notifiers.Alert) { a.Kind = store.KindAlert }),
			want:  `{"rules":["nvidia-china"],"target":"hook","story":` + specStory + `,"terms":["nvidia","china"]}`,
		},
		{
			name: "two rules, cluster",
			alert: notifiertest.Alert(func(a *notifiers.Alert) {
				a.Rules = []string{"nvidia-china", "export-controls"}
				a.Cluster = "c-9f2"
			}),
			want: `{"rules":["nvidia-china","export-controls"],"target":"hook","story":` + specStory + `,"terms":["nvidia","china"],"cluster":"c-9f2"}`,
		},
		{
			name: "follow-up",
			alert: notifiertest.Alert(func(a *notifiers.Alert) {
				a.Kind = store.KindFollowUp
				a.ParentRef = "1700000000.000100"
			}),
			want: `{"kind":"follow_up","rules":["nvidia-china"],"target":"hook","story":` + specStory + `,"terms":["nvidia","china"],"follow_up":true}`,
		},
		{
			name:  "surge",
			alert: notifiertest.Alert(func(a *notifiers.Alert) { a.Kind = store.KindSurge }),
			want:  `{"kind":"surge","rules":["nvidia-china"],"target":"hook","story":` + specStory + `,"terms":["nvidia","china"]}`,
		},
		{
			name: "digest lists stories in place of story",
			alert: notifiertest.Alert(func(a *notifiers.Alert) {
				a.Kind = store.KindDigest
				a.Story = nil
				a.Stories = []story.Story{*notifiertest.Story(), second}
				a.Terms = nil
			}),
			want: `{"kind":"digest","rules":["nvidia-china"],"target":"hook","stories":[` + specStory + `,` + secondJSON + `],"terms":[]}`,
		},
		{
			name: "summary",
			alert: notifiertest.Alert(func(a *notifiers.Alert) {
				a.Kind = store.KindSummary
				a.Story = nil
				a.Stories = []story.Story{second}
			}),
			want: `{"kind":"summary","rules":["nvidia-china"],"target":"hook","stories":[` + secondJSON + `],"terms":["nvidia","china"]}`,
		},
		{
			name: "health has text and no story",
			alert: notifiertest.Alert(func(a *notifiers.Alert) {
				a.Kind = store.KindHealth
				a.Story = nil
				a.Rules = nil
				a.Terms = nil
				a.Text = `source "Feed A" failed 5 times: status 503`
			}),
			want: `{"kind":"health","rules":[],"target":"hook","terms":[],"text":"source \"Feed A\" failed 5 times: status 503"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			notifiertest.JSONEq(t, tt.want, line(t, tt.alert))
		})
	}
}

func TestPayloadEmptyListsAreNotNull(t *testing.T) {
	got := line(t, notifiertest.Alert(func(a *notifiers.Alert) { a.Rules, a.Terms = nil, nil }))
	for _, want := range []string{`"rules":[]`, `"terms":[]`} {
		if !strings.Contains(got, want) {
			t.Errorf("payload lacks %s: %s", want, got)
		}
	}
	if strings.Contains(got, "null") {
		t.Errorf("payload has a null: %s", got)
	}
}

func TestPayloadPublishedIsUTCSeconds(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	a := notifiertest.Alert(func(a *notifiers.Alert) {
		a.Story.Published = time.Date(2026, 11, 28, 10, 0, 0, 123456789, berlin)
	})
	var got struct {
		Story struct {
			Published string `json:"published"`
		} `json:"story"`
	}
	if err := json.Unmarshal([]byte(line(t, a)), &got); err != nil {
		t.Fatal(err)
	}
	if want := "2026-11-28T09:00:00Z"; got.Story.Published != want {
		t.Errorf("published = %q, want %q", got.Story.Published, want)
	}
}

// The payload carries the story's plain text as it is: characters that look
// like markup are neither escaped (\u003c, &amp;) nor stripped a second time.
func TestPayloadSummaryPlainText(t *testing.T) {
	const text = `AT&T says 5 < 6 and "quotes" stay; Browsers block <script> injection`
	a := notifiertest.Alert(func(a *notifiers.Alert) {
		a.Story.Title = text
		a.Story.Summary = text
	})
	got := line(t, a)
	want := `"summary":"AT&T says 5 < 6 and \"quotes\" stay; Browsers block <script> injection"`
	if !strings.Contains(got, want) {
		t.Errorf("payload = %s\nwant it to contain %s", got, want)
	}
	for _, bad := range []string{`\u003c`, `\u0026`, `&amp;`, `&lt;`} {
		if strings.Contains(got, bad) {
			t.Errorf("payload escapes markup as %s: %s", bad, got)
		}
	}
}

func TestPayloadSummaryCut(t *testing.T) {
	word := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name    string
		summary string
		want    string // "" means: check the invariants only
	}{
		{name: "short", summary: "Nvidia weighs a new chip.", want: "Nvidia weighs a new chip."},
		{name: "exactly 300", summary: word(300), want: word(300)},
		{name: "300 accented characters are 300, not 600 bytes", summary: strings.Repeat("é", 300), want: strings.Repeat("é", 300)},
		{name: "long prose", summary: strings.Repeat("export controls tighten again, ", 20)},
		{name: "word ends at the limit", summary: word(299) + " next words"},
		{name: "cut falls inside a word", summary: strings.Repeat("abcdefg ", 50)},
		{name: "one huge word", summary: word(1000)},
		{name: "multibyte prose", summary: strings.Repeat("größere Exportkontrollen für Chips ", 20)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := notifiers.NewPayload(notifiertest.Alert(func(a *notifiers.Alert) { a.Story.Summary = tt.summary }))
			got := p.Story.Summary
			if tt.want != "" {
				if got != tt.want {
					t.Errorf("summary = %q, want %q", got, tt.want)
				}
				return
			}
			if n := utf8.RuneCountInString(got); n > story.SummaryMax {
				t.Errorf("summary has %d characters, want at most %d", n, story.SummaryMax)
			}
			head, ok := strings.CutSuffix(got, "…")
			if !ok {
				t.Fatalf("cut summary does not end in …: %q", got)
			}
			if !strings.HasPrefix(tt.summary, head) {
				t.Fatalf("summary %q is not a prefix of the original", head)
			}
			if !strings.Contains(tt.summary, " ") {
				return // no word boundary to cut at
			}
			next, _ := utf8.DecodeRuneInString(tt.summary[len(head):])
			if !unicode.IsSpace(next) && next != ',' {
				t.Errorf("cut inside a word: %q is followed by %q", head[max(0, len(head)-20):], next)
			}
		})
	}
}

// TestPayloadTitleIsHeldAndClean: a webhook never posts a title longer than
// story.TitleMax or one with bidirectional controls, even for a story stored
// before ingest capped them (issue 12, items 2 and 10).
func TestPayloadTitleIsHeldAndClean(t *testing.T) {
	a := notifiertest.Alert(func(a *notifiers.Alert) {
		a.Story.Title = "evil\u202etxt.exe " + strings.Repeat("walrus ", 200_000)
		a.Story.Summary = "summary\u2066 here"
	})
	p := notifiers.NewPayload(a)
	if n := utf8.RuneCountInString(p.Story.Title); n > story.TitleMax || !strings.HasPrefix(p.Story.Title, "eviltxt.exe walrus") || !strings.HasSuffix(p.Story.Title, "…") {
		t.Errorf("title of %d characters: %.40q", n, p.Story.Title)
	}
	if p.Story.Summary != "summary here" {
		t.Errorf("summary = %q", p.Story.Summary)
	}
}
