// Package registry builds the configured notifiers in one explicit function:
// each [[notifiers]] type maps to its package's constructor, no reflection.
package registry

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/notifiers/console"
	"github.com/wirewatch/wirewatch/notifiers/discord"
	"github.com/wirewatch/wirewatch/notifiers/slack"
	"github.com/wirewatch/wirewatch/notifiers/webhook"
)

// Set is the built notifiers by name, and what must be closed at exit.
type Set struct {
	Notifiers map[string]notifiers.Notifier
	closers   []io.Closer
}

// Close releases files and connections the notifiers hold.
func (s *Set) Close() error {
	var errs []error
	for _, c := range s.closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// Build constructs every notifier of cfgs. Console notifiers without a path
// write to stdout.
func Build(cfgs []config.Notifier, stdout io.Writer, logger *slog.Logger) (*Set, error) {
	set := &Set{Notifiers: make(map[string]notifiers.Notifier, len(cfgs))}
	client := &http.Client{Timeout: 30 * time.Second}
	for _, c := range cfgs {
		log := logger.With("notifier", c.Name)
		var (
			n   notifiers.Notifier
			err error
		)
		switch c.Type {
		case "console":
			if c.Path == "" {
				n = console.New(c.Name, stdout)
				break
			}
			var cn *console.Notifier
			cn, err = console.Open(c.Name, c.Path)
			if err == nil {
				set.closers = append(set.closers, cn)
				n = cn
			}
		case "webhook":
			n = webhook.New(c.Name, c.URL, client)
		case "slack":
			n, err = slack.New(c, log)
		case "slack-webhook":
			n, err = slack.NewWebhook(c, log)
		case "discord":
			n, err = discord.New(c, log)
		case "discord-webhook":
			n, err = discord.NewWebhook(c, log)
		default:
			err = fmt.Errorf("unknown type %q", c.Type)
		}
		if err != nil {
			_ = set.Close()
			return nil, fmt.Errorf("notifier %q: %w", c.Name, err)
		}
		set.Notifiers[c.Name] = n
	}
	return set, nil
}
