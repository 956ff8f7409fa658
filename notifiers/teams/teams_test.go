package teams_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/notifiers/notifiertest"
	"github.com/wirewatch/wirewatch/notifiers/teams"
	"github.com/wirewatch/wirewatch/notifiers/teams/teamsfake"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

const sig = "s3cretWorkflowSignature0123456789"

func build(t *testing.T, f *teamsfake.Teams, logger *slog.Logger) notifiers.Notifier {
	t.Helper()
	n, err := teams.Type.Build("policy-teams", &teams.Config{URL: config.Secret(f.URL())}, notifiers.Env{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestConformance(t *testing.T) {
	f := teamsfake.New(t, sig)
	notifiertest.Run(t, notifiertest.Subject{
		New:       func(t *testing.T, logger *slog.Logger) notifiers.Notifier { return build(t, f, logger) },
		Target:    "policy-teams",
		Secrets:   []string{sig},
		Fail:      f.Fail,
		RateLimit: func(d time.Duration) { f.Throttle(int(d.Seconds())) },
		Hold:      f.Hold,
		Sent: func(*testing.T) [][]notifiertest.Field {
			var out [][]notifiertest.Field
			for _, c := range f.Cards() {
				fields := []notifiertest.Field{{Name: "card", Text: string(c.Body), Max: teamsfake.MaxPayload, Measure: notifiers.Bytes}}
				for _, tx := range c.Texts {
					fields = append(fields, notifiertest.Field{Name: tx.Element, Text: tx.Text})
				}
				out = append(out, fields)
			}
			return out
		},
	})
}

func TestCard(t *testing.T) {
	f := teamsfake.New(t, sig)
	n := build(t, f, nil)
	ref, retry, err := n.Notify(t.Context(), notifiertest.Alert(func(a *notifiers.Alert) { a.Target = "policy-teams" }))
	if err != nil || retry || ref != "" {
		t.Fatalf("Notify = %q, %v, %v; want success without a reference", ref, retry, err)
	}
	c := f.Cards()[0]
	var got []string
	for _, tx := range c.Texts {
		s := tx.Text
		if tx.Weight == "Bolder" {
			s = "*" + s + "*"
		}
		if tx.Link != "" {
			s = "[" + s + "]"
		}
		got = append(got, s)
	}
	want := "[*Nvidia*]|[ readies new ]|[*China*]|[ chip as US tightens export rules]|" +
		"*Nvidia*| is preparing a new AI chip for |*China*| that meets the latest US export controls, people familiar with the matter said.|" +
		"Reuters · 28 Nov 2026 09:00 UTC · rule: nvidia-china"
	if strings.Join(got, "|") != want {
		t.Errorf("texts:\n%s\nwant:\n%s", strings.Join(got, "|"), want)
	}
	if len(c.Buttons) != 1 || c.Buttons[0] != notifiertest.Story().URL || c.Texts[0].Link != notifiertest.Story().URL {
		t.Errorf("buttons %v, title link %q; want the story's URL", c.Buttons, c.Texts[0].Link)
	}

	if _, _, err := n.Notify(t.Context(), notifiertest.Alert(func(a *notifiers.Alert) {
		a.Kind, a.ParentRef, a.Story.Source = store.KindFollowUp, "ignored", "AP"
	})); err != nil {
		t.Fatal(err)
	}
	if first := f.Cards()[1].Texts[0]; first.Text != "Also reported by AP" || first.Weight != "Bolder" {
		t.Errorf("follow-up starts with %+v, want a bold \"Also reported by AP\"", first)
	}
}

func TestDigestFitsAndCounts(t *testing.T) {
	f := teamsfake.New(t, sig)
	a := notifiertest.Alert(func(a *notifiers.Alert) {
		a.Kind, a.Story, a.Total = store.KindDigest, nil, 120
		for i := range 20 {
			a.Stories = append(a.Stories, *notifiertest.Story(func(s *story.Story) {
				s.Title = strings.Repeat("A long headline about export controls ", 6) + string(rune('a'+i))
				s.Source = strings.Repeat("Source ", 20)
			}))
		}
	})
	if _, _, err := build(t, f, nil).Notify(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	c := f.Cards()[0]
	if c.Texts[0].Text != "Digest — 120 stories for nvidia-china" {
		t.Errorf("heading %q", c.Texts[0].Text)
	}
	if last := c.Texts[len(c.Texts)-1].Text; last != "+100 more" {
		t.Errorf("last line %q, want +100 more", last)
	}
	if len(c.Body) > teams.MaxPayload {
		t.Errorf("payload of %d bytes, over %d", len(c.Body), teams.MaxPayload)
	}
}

func TestRefusals(t *testing.T) {
	f := teamsfake.New(t, sig)
	n := build(t, f, nil)
	f.Fail(400, "The workflow is disabled.")
	_, retry, err := n.Notify(t.Context(), notifiertest.Alert())
	if err == nil || retry || err.Error() != `teams "policy-teams": status 400: FakeRefusal: The workflow is disabled.` {
		t.Errorf("refusal: retry %v, err %v", retry, err)
	}
	wrong, err := teams.New("policy-teams", &teams.Config{URL: config.Secret(strings.Replace(f.URL(), sig, "not-the-signature", 1))}, notifiers.Env{})
	if err != nil {
		t.Fatal(err)
	}
	_, retry, err = wrong.Notify(t.Context(), notifiertest.Alert())
	if err == nil || retry || !strings.Contains(err.Error(), "status 401: DirectApiAuthorizationRequired") {
		t.Errorf("wrong signature: retry %v, err %v", retry, err)
	}
	notifiertest.AssertNoSecretLeak(t, err, "not-the-signature")
}

func TestConfig(t *testing.T) {
	types := []config.NotifierType{teams.Type.NotifierType}
	doc := func(lines ...string) []byte { return []byte(strings.Join(lines, "\n") + "\n") }
	url := "https://example.logic.azure.com/workflows/1/triggers/manual/paths/invoke?sig=" + sig
	c, err := config.Parse("t.toml", doc(`[[notifiers]]`, `name = "policy-teams"`, `type = "teams"`, `url = "${TEAMS_URL}"`,
		`[[rules]]`, `name = "r"`, `query = "x"`, `notify = ["policy-teams"]`),
		func(k string) (string, bool) { return url, k == "TEAMS_URL" }, types)
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Notifiers[0].Settings.(*teams.Config); s.URL.Reveal() != url || strings.Contains(c.Summary(), sig) {
		t.Errorf("settings %+v, summary %q: want the URL read from the environment and never shown", s, c.Summary())
	}
	_, err = config.Parse("t.toml", doc(`[[notifiers]]`, `name = "policy-teams"`, `type = "teams"`, `url = "${TEAMS_URL}"`,
		`channel = "General"`, `[[notifiers]]`, `name = "t2"`, `type = "teams"`, `url = "teams.example"`,
		`[[rules]]`, `name = "r"`, `query = "x"`, `notify = ["policy-teams:General"]`), nil, types)
	want := []string{
		`t.toml:4: notifiers[0].url: environment variable "TEAMS_URL" is not set`,
		`t.toml:5: unknown key "notifiers[0].channel"`,
		`t.toml:9: notifiers[1].url: must be an http:// or https:// URL with a host`,
		`t.toml:13: rules[0].notify[0]: teams notifier "policy-teams" takes no channel: write "policy-teams"`,
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Errorf("errors:\n%v\nwant:\n%s", err, strings.Join(want, "\n"))
	}
}
