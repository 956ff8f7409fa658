package ntfy_test

import (
	"encoding/base64"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/notifiers/notifiertest"
	"github.com/wirewatch/wirewatch/notifiers/ntfy"
	"github.com/wirewatch/wirewatch/notifiers/ntfy/ntfyfake"
	"github.com/wirewatch/wirewatch/store"
)

const token = "tk_s3cretntfytoken0123456789"

func build(t *testing.T, c *ntfy.Config, logger *slog.Logger) notifiers.Notifier {
	t.Helper()
	n, err := ntfy.Type.Build("alerts-ntfy", c, notifiers.Env{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestConformance(t *testing.T) {
	f := ntfyfake.New(t, "Bearer "+token)
	notifiertest.Run(t, notifiertest.Subject{
		New: func(t *testing.T, logger *slog.Logger) notifiers.Notifier {
			return build(t, &ntfy.Config{URL: f.URL(), Topic: "wirewatch", Token: token}, logger)
		},
		Target:    "alerts-ntfy",
		Secrets:   []string{token},
		Fail:      f.Fail,
		RateLimit: func(d time.Duration) { f.RateLimit(int(d.Seconds())) },
		Hold:      f.Hold,
		Sent: func(*testing.T) [][]notifiertest.Field {
			var out [][]notifiertest.Field
			for _, n := range f.Notifications() {
				fields := []notifiertest.Field{
					{Name: "title", Text: n.Title, Max: ntfy.MaxTitle},
					{Name: "message", Text: n.Message, Max: ntfy.MaxMessage, Measure: notifiers.Bytes},
				}
				for _, tag := range n.Tags {
					fields = append(fields, notifiertest.Field{Name: "tag", Text: tag})
				}
				out = append(out, fields)
			}
			return out
		},
	})
}

func TestPublish(t *testing.T) {
	f := ntfyfake.New(t, "")
	n := build(t, &ntfy.Config{URL: f.URL() + "/", Topic: "wirewatch", Priority: 2, Tags: []string{"newspaper"}}, nil)
	ref, retry, err := n.Notify(t.Context(), notifiertest.Alert(func(a *notifiers.Alert) { a.Target = "alerts-ntfy" }))
	if err != nil || retry || ref == "" {
		t.Fatalf("Notify = %q, %v, %v", ref, retry, err)
	}
	got := f.Notifications()[0]
	want := ntfyfake.Notification{
		ID: ref, Topic: "wirewatch", Title: "Nvidia readies new China chip as US tightens export rules",
		Message: "Nvidia is preparing a new AI chip for China that meets the latest US export controls, people familiar with the matter said.\n" +
			"Reuters · 28 Nov 2026 09:00 UTC · rule: nvidia-china",
		Click: "https://www.reuters.com/technology/nvidia-china-chip-2026-11-28/", Tags: []string{"newspaper", "nvidia-china"}, Priority: 2,
	}
	if strings.Join(got.Tags, ",") != strings.Join(want.Tags, ",") {
		t.Errorf("tags %q, want %q", got.Tags, want.Tags)
	}
	got.Tags, want.Tags = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("notification\n%+v\nwant\n%+v", got, want)
	}

	health := notifiertest.Alert(func(a *notifiers.Alert) {
		a.Target, a.Channel, a.Kind, a.Story, a.Text = "alerts-ntfy:ops", "ops", store.KindHealth, nil, `source "A" failed 5 times`
	})
	if _, _, err := n.Notify(t.Context(), health); err != nil {
		t.Fatal(err)
	}
	if got := f.Notifications()[1]; got.Topic != "ops" || got.Priority != 4 || got.Message != `source "A" failed 5 times` || got.Click != "" {
		t.Errorf("health %+v: want topic ops, priority 4, the text", got)
	}
	followUp := notifiertest.Alert(func(a *notifiers.Alert) { a.Kind, a.ParentRef, a.Story.Source = store.KindFollowUp, ref, "AP" })
	if _, _, err := n.Notify(t.Context(), followUp); err != nil {
		t.Fatal(err)
	}
	if got := f.Notifications()[2]; !strings.HasPrefix(got.Title, "Also reported by AP: Nvidia readies") {
		t.Errorf("follow-up title %q", got.Title)
	}
}

func TestBasicAuthAndRefusals(t *testing.T) {
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:s3cret-pass"))
	f := ntfyfake.New(t, basic)
	n := build(t, &ntfy.Config{URL: f.URL(), Topic: "wirewatch", Username: "alice", Password: "s3cret-pass"}, nil)
	if _, _, err := n.Notify(t.Context(), notifiertest.Alert()); err != nil {
		t.Fatal(err)
	}
	bad := build(t, &ntfy.Config{URL: f.URL(), Topic: "wirewatch", Username: "alice", Password: "wrong-pass"}, nil)
	_, retry, err := bad.Notify(t.Context(), notifiertest.Alert())
	if err == nil || retry || !strings.Contains(err.Error(), `ntfy "alerts-ntfy": publish to wirewatch: status 403: forbidden; check the token`) {
		t.Errorf("wrong password: retry %v, err %v", retry, err)
	}
	notifiertest.AssertNoSecretLeak(t, err, "wrong-pass", strings.TrimPrefix(basic, "Basic "))
	if _, retry, err := n.Notify(t.Context(), notifiertest.Alert(func(a *notifiers.Alert) { a.Channel = "no/topic" })); err == nil || retry {
		t.Errorf("bad topic: retry %v, err %v", retry, err)
	}
}

func TestConfig(t *testing.T) {
	types := []config.NotifierType{ntfy.Type.NotifierType}
	doc := func(lines ...string) []byte { return []byte(strings.Join(lines, "\n") + "\n") }
	_, err := config.Parse("t.toml", doc(
		`[[notifiers]]`, `name = "n"`, `type = "ntfy"`, `topic = "a b"`, `priority = 9`, `token = "t"`, `username = "u"`,
		`[[rules]]`, `name = "r"`, `query = "x"`, `notify = ["n", "n:ok-topic", "n:bad topic"]`), nil, types)
	want := []string{
		`t.toml:4: notifiers[0].topic: an ntfy topic is 1 to 64 letters, digits, - and _, got "a b"`,
		`t.toml:5: notifiers[0].priority: must be 1 (min) to 5 (max), got 9`,
		`t.toml:6: notifiers[0].token: set either token or username and password, not both`,
		`t.toml:7: notifiers[0].username: username and password go together`,
		`t.toml:11: rules[0].notify[2]: an ntfy topic is 1 to 64 letters, digits, - and _, got "bad topic"`,
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Errorf("errors:\n%v\nwant:\n%s", err, strings.Join(want, "\n"))
	}
}
