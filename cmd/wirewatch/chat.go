package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"github.com/wirewatch/wirewatch/bot/commands"
	botdiscord "github.com/wirewatch/wirewatch/bot/discord"
	botslack "github.com/wirewatch/wirewatch/bot/slack"
	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notifiers/discord"
	"github.com/wirewatch/wirewatch/notifiers/slack"
)

// chatAdapters are the running chat-command connections and the HTTP routes
// they serve.
type chatAdapters struct {
	routes  map[string]http.Handler
	wg      sync.WaitGroup
	closers []func() error
}

// chatAdapter is one platform connection of the command core.
type chatAdapter interface {
	Run(ctx context.Context) error
	HTTPHandler() http.Handler
	Close() error
}

// chatStore is what the chat adapters keep in the store: the one-time keys
// that refuse replayed commands in every replica, and the lease that gives
// the Discord gateway to one replica at a time.
type chatStore interface {
	botdiscord.Leases
	botdiscord.Rememberer
}

// startChat connects every Slack and Discord notifier that can receive
// commands to the command core. All are built before any starts, so a bad
// one leaves nothing running. Connections run until ctx is done. owner
// names this process in the Discord gateway lease.
func startChat(ctx context.Context, cfg *config.Config, core commands.Handler, st chatStore, owner string, logger *slog.Logger) (*chatAdapters, error) {
	c := &chatAdapters{routes: map[string]http.Handler{}}
	type started struct {
		adapter chatAdapter
		log     *slog.Logger
	}
	var all []started
	fail := func(n config.Notifier, err error) (*chatAdapters, error) {
		for _, s := range all {
			_ = s.adapter.Close()
		}
		return nil, usagef("%s:%d: notifier %q: %w", cfg.File, n.Line, n.Name, err)
	}
	for _, n := range cfg.Notifiers {
		log := logger.With("notifier", n.Name)
		var (
			a       chatAdapter
			pattern string
			err     error
		)
		switch settings := n.Settings.(type) {
		case *slack.Config:
			a, err = botslack.New(n.Name, settings, core, log, botslack.WithRemember(st))
			if errors.Is(err, botslack.ErrNotConfigured) {
				continue // post-only: no app token and no signing secret
			}
			pattern = "POST " + botslack.CommandsPath
		case *discord.Config:
			a, err = botdiscord.New(n.Name, settings, core, log,
				botdiscord.WithGatewayLease(st, owner, 0), botdiscord.WithRemember(st))
			pattern = "POST " + botdiscord.InteractionsPath
		default:
			continue
		}
		if err != nil {
			return fail(n, err)
		}
		all = append(all, started{a, log})
		if err := c.mount(pattern, a.HTTPHandler(), log); err != nil {
			return fail(n, err)
		}
	}
	for _, s := range all {
		c.run(ctx, s.log, s.adapter.Run)
		c.closers = append(c.closers, s.adapter.Close)
	}
	return c, nil
}

// mount adds a command endpoint; only one notifier may serve a path.
func (c *chatAdapters) mount(pattern string, h http.Handler, log *slog.Logger) error {
	if h == nil {
		return nil
	}
	if _, taken := c.routes[pattern]; taken {
		return fmt.Errorf("%s is served by another notifier already; only one may take HTTP commands", pattern)
	}
	c.routes[pattern] = h
	log.Info("serving chat commands over HTTP", "route", pattern)
	return nil
}

// run keeps one adapter connected until ctx is done.
func (c *chatAdapters) run(ctx context.Context, log *slog.Logger, run func(context.Context) error) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		if err := run(ctx); err != nil && ctx.Err() == nil {
			log.Error("chat connection stopped", "err", err)
		}
	}()
}

// stop waits for the connections to end (their context must be done) and
// finishes replies still being worked on.
func (c *chatAdapters) stop() {
	c.wg.Wait()
	for _, close := range c.closers {
		_ = close()
	}
}
