package webhook_test

import (
	"log/slog"
	"testing"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/notifiers/notifiertest"
	"github.com/wirewatch/wirewatch/notifiers/webhook"
)

func TestConformance(t *testing.T) {
	const token = "s3cr3t-hook-t0k3n"
	rcv := notifiertest.NewReceiver(t)
	notifiertest.Run(t, notifiertest.Subject{
		New: func(t *testing.T, logger *slog.Logger) notifiers.Notifier {
			n, err := webhook.Type.Build("hook", &webhook.Config{URL: config.Secret(rcv.URL() + "/hooks/" + token)},
				notifiers.Env{Logger: logger})
			if err != nil {
				t.Fatal(err)
			}
			return n
		},
		Target:    "hook",
		Secrets:   []string{token},
		Fail:      rcv.Refuse,
		RateLimit: rcv.RateLimit,
		Hold:      rcv.Hold,
		Sent: func(t *testing.T) [][]notifiertest.Field {
			var out [][]notifiertest.Field
			for _, r := range rcv.Requests() {
				out = append(out, []notifiertest.Field{{Name: "payload", Text: string(r.Body)}})
			}
			return out
		},
	})
}
