package console_test

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/notifiers/console"
	"github.com/wirewatch/wirewatch/notifiers/notifiertest"
)

func TestConformance(t *testing.T) {
	var out notifiertest.Buffer
	notifiertest.Run(t, notifiertest.Subject{
		New: func(t *testing.T, logger *slog.Logger) notifiers.Notifier {
			n, err := console.Type.Build("console", &console.Config{}, notifiers.Env{Logger: logger, Stdout: &out})
			if err != nil {
				t.Fatal(err)
			}
			return n
		},
		Target: "console",
		Sent: func(t *testing.T) [][]notifiertest.Field {
			var msgs [][]notifiertest.Field
			for _, l := range strings.Split(out.String(), "\n") {
				if l != "" {
					msgs = append(msgs, []notifiertest.Field{{Name: "line", Text: l}})
				}
			}
			return msgs
		},
	})
}
