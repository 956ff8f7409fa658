package console_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/notifiers/console"
	"github.com/wirewatch/wirewatch/notifiers/notifiertest"
)

// lockedBuffer is stdout for a notifier under test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Split(strings.TrimSuffix(l.b.String(), "\n"), "\n")
}

func TestConformance(t *testing.T) {
	var out lockedBuffer
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
			for _, l := range out.lines() {
				if l != "" {
					msgs = append(msgs, []notifiertest.Field{{Name: "line", Text: l}})
				}
			}
			return msgs
		},
	})
}
