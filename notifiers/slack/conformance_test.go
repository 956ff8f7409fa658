package slack_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/notifiers/notifiertest"
	"github.com/wirewatch/wirewatch/notifiers/slack"
	"github.com/wirewatch/wirewatch/notifiers/slack/slackfake"
)

// mrkdwnFields returns the texts of a Slack message: the notification text
// and every mrkdwn text object of its blocks.
func mrkdwnFields(t *testing.T, m slackfake.Message) []notifiertest.Field {
	t.Helper()
	fields := []notifiertest.Field{{Name: "text", Text: m.Text, Syntax: notifiertest.Mrkdwn, Max: slack.MaxFallback, Measure: notifiers.UTF16}}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if v["type"] == "mrkdwn" {
				text, _ := v["text"].(string)
				fields = append(fields, notifiertest.Field{Name: "block text", Text: text, Syntax: notifiertest.Mrkdwn,
					Max: slack.MaxText, Measure: notifiers.UTF16})
			}
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	var blocks any
	if err := json.Unmarshal(m.Blocks, &blocks); err != nil {
		t.Fatalf("blocks %s: %v", m.Blocks, err)
	}
	walk(blocks)
	return fields
}

func TestConformance(t *testing.T) {
	fake := slackfake.New(t)
	notifiertest.Run(t, notifiertest.Subject{
		New: func(t *testing.T, logger *slog.Logger) notifiers.Notifier {
			n, err := slack.Type.Build("team-slack", &slack.Config{Token: token, APIURL: fake.URL()}, notifiers.Env{Logger: logger})
			if err != nil {
				t.Fatal(err)
			}
			return n
		},
		Target:  "team-slack:C0123ABCD",
		Channel: "C0123ABCD",
		Secrets: []string{token},
		Fail: func(code int, detail string) {
			fake.FailNext("chat.postMessage", code, nil, detail)
		},
		RateLimit: func(d time.Duration) {
			fake.FailNext("chat.postMessage", http.StatusTooManyRequests,
				map[string]string{"Retry-After": strconv.Itoa(int(d.Seconds()))}, "")
		},
		Sent: func(t *testing.T) [][]notifiertest.Field {
			var out [][]notifiertest.Field
			for _, m := range fake.Messages() {
				out = append(out, mrkdwnFields(t, m))
			}
			return out
		},
		Reply: func(t *testing.T, ref string) bool {
			msgs := fake.Messages()
			return msgs[len(msgs)-1].ThreadTS == ref
		},
	})
}

func TestWebhookConformance(t *testing.T) {
	rcv := notifiertest.NewReceiver(t)
	rcv.SetDefault(notifiertest.Response{Body: "ok"})
	notifiertest.Run(t, notifiertest.Subject{
		New: func(t *testing.T, logger *slog.Logger) notifiers.Notifier {
			n, err := slack.WebhookType.Build("team-hook", &slack.WebhookConfig{URL: config.Secret(rcv.URL() + hookPath)},
				notifiers.Env{Logger: logger})
			if err != nil {
				t.Fatal(err)
			}
			return n
		},
		Target:    "team-hook",
		Secrets:   []string{hookPath, "s3cretWebhookKey"},
		Fail:      rcv.Refuse,
		RateLimit: rcv.RateLimit,
		Hold:      rcv.Hold,
		Sent: func(t *testing.T) [][]notifiertest.Field {
			var out [][]notifiertest.Field
			for _, r := range rcv.Requests() {
				if r.Header.Get("Content-Type") != "application/json" {
					continue
				}
				var m struct {
					Text   string          `json:"text"`
					Blocks json.RawMessage `json:"blocks"`
				}
				if err := json.Unmarshal(r.Body, &m); err != nil {
					t.Fatal(err)
				}
				out = append(out, mrkdwnFields(t, slackfake.Message{Text: m.Text, Blocks: m.Blocks}))
			}
			return out
		},
	})
}
