package telegram_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/notifiers/notifiertest"
	"github.com/wirewatch/wirewatch/notifiers/telegram"
	"github.com/wirewatch/wirewatch/notifiers/telegram/telegramfake"
)

const token = "123456789:AAE-s3cret_T0ken-telegram"

func TestConformance(t *testing.T) {
	fake := telegramfake.New(t, token)
	notifiertest.Run(t, notifiertest.Subject{
		New: func(t *testing.T, logger *slog.Logger) notifiers.Notifier {
			n, err := telegram.Type.Build("news-telegram", &telegram.Config{Token: token, APIURL: fake.URL()}, notifiers.Env{Logger: logger})
			if err != nil {
				t.Fatal(err)
			}
			return n
		},
		Target:    "news-telegram:-1001234567890",
		Channel:   "-1001234567890",
		Secrets:   []string{token},
		Fail:      func(code int, detail string) { fake.Fail(code, detail) },
		RateLimit: func(d time.Duration) { fake.RateLimit(int(d.Seconds())) },
		Hold:      fake.Hold,
		Sent: func(t *testing.T) [][]notifiertest.Field {
			var out [][]notifiertest.Field
			for _, m := range fake.Messages() {
				out = append(out, []notifiertest.Field{{Name: "text", Text: m.Text, Syntax: notifiertest.HTML,
					Max: telegram.MaxText, Measure: notifiers.UTF16, Mentions: true}})
			}
			return out
		},
		Reply: func(t *testing.T, ref string) bool {
			msgs := fake.Messages()
			last := msgs[len(msgs)-1]
			return ref != "" && last.ReplyTo != 0 && ref == itoa(last.ReplyTo) && last.AllowWithoutReply
		},
	})
}
