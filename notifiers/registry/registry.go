// Package registry is the one list of notifier types, wired in one explicit
// function, no reflection. The configuration reads [[notifiers]] entries
// with the types' settings (ConfigTypes); run builds them (Build) behind the
// shared pacing stage; the service checks run-time targets against them
// (Targets). Adding a notifier is one line in types.
package registry

import (
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/notifiers/console"
	"github.com/wirewatch/wirewatch/notifiers/discord"
	"github.com/wirewatch/wirewatch/notifiers/email"
	"github.com/wirewatch/wirewatch/notifiers/mattermost"
	"github.com/wirewatch/wirewatch/notifiers/ntfy"
	"github.com/wirewatch/wirewatch/notifiers/slack"
	"github.com/wirewatch/wirewatch/notifiers/teams"
	"github.com/wirewatch/wirewatch/notifiers/telegram"
	"github.com/wirewatch/wirewatch/notifiers/webhook"
)

// types are the notifier types, in the order messages list them.
var types = []notifiers.Type{
	console.Type,
	webhook.Type,
	slack.Type, slack.WebhookType,
	discord.Type, discord.WebhookType,
	teams.Type,
	email.Type,
	ntfy.Type,
	mattermost.Type, mattermost.WebhookType,
	telegram.Type,
}

// Types returns every notifier type.
func Types() []notifiers.Type { return types }

// ConfigTypes returns what the configuration needs of every notifier type,
// for config.Load and config.Parse.
func ConfigTypes() []config.NotifierType {
	out := make([]config.NotifierType, len(types))
	for i, t := range types {
		out[i] = t.NotifierType
	}
	return out
}

// Targets returns the checker of run-time targets against cfg's notifiers.
func Targets(cfg *config.Config) config.Targets {
	return config.Targets{Notifiers: cfg.Notifiers, Types: ConfigTypes()}
}

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

// Build constructs every notifier of cfgs, each behind the pacing stage
// with its entry's pace or its type's. env.Logger is narrowed to each
// notifier; opts reach every pacing stage.
func Build(cfgs []config.Notifier, env notifiers.Env, opts ...notifiers.PaceOption) (*Set, error) {
	set := &Set{Notifiers: make(map[string]notifiers.Notifier, len(cfgs))}
	logger := env.Log()
	for _, c := range cfgs {
		n, err := build(c, env, logger.With("notifier", c.Name), opts)
		if err != nil {
			_ = set.Close()
			return nil, fmt.Errorf("notifier %q: %w", c.Name, err)
		}
		if cl, ok := n.(io.Closer); ok {
			set.closers = append(set.closers, cl)
		}
		set.Notifiers[c.Name] = n
	}
	return set, nil
}

func build(c config.Notifier, env notifiers.Env, logger *slog.Logger, opts []notifiers.PaceOption) (notifiers.Notifier, error) {
	for _, t := range types {
		if t.Name != c.Type {
			continue
		}
		env.Logger = logger
		n, err := t.Build(c.Name, c.Settings, env)
		if err != nil {
			return nil, err
		}
		pace := t.Pace
		if c.Pace != nil {
			pace = *c.Pace
		}
		return notifiers.Paced(n, pace, opts...), nil
	}
	return nil, fmt.Errorf("unknown type %q", c.Type)
}
