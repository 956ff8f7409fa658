package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/wirewatch/wirewatch/bot"
	"github.com/wirewatch/wirewatch/bot/commands"
	wwcluster "github.com/wirewatch/wirewatch/cluster"
	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/notifiers/registry"
	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/service"
	"github.com/wirewatch/wirewatch/sources"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/postgres"
	"github.com/wirewatch/wirewatch/store/sqlite"
	"github.com/wirewatch/wirewatch/web"
)

// onceMaxWait bounds how long `run --once` waits for retries before it exits.
const onceMaxWait = 2 * time.Minute

type runFlags struct {
	config    string
	once      bool
	logLevel  string
	logFormat string
}

func newRunCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the bot until interrupted (or one poll with --once)",
		Long: `run polls every enabled source on its schedule, matches new stories against
the rules, and delivers the alerts. SIGINT or SIGTERM stops it: fetches and sends
in flight finish, then it exits 0. With --once it polls every source once,
delivers what matched, and exits.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return runBot(ctx, f, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	addConfigFlag(cmd, &f.config)
	cmd.Flags().BoolVar(&f.once, "once", false, "poll every source once, deliver, and exit")
	cmd.Flags().StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	cmd.Flags().StringVar(&f.logFormat, "log-format", "text", "text or json (logs go to stderr)")
	return cmd
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usagef("--log-format %q: want text or json", format)
}

func runBot(ctx context.Context, f runFlags, stdout, stderr io.Writer) error {
	logger, err := newLogger(stderr, f.logLevel, f.logFormat)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(f.config)
	if err != nil {
		return err
	}
	st, where, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.SyncConfigSources(ctx, storeSources(cfg)); err != nil {
		return fmt.Errorf("sync sources: %w", err)
	}
	if err := st.SyncConfigRules(ctx, storeRules(cfg)); err != nil {
		return fmt.Errorf("sync rules: %w", err)
	}

	ns, err := registry.Build(cfg.Notifiers, notifiers.Env{Logger: logger, Stdout: stdout})
	if err != nil {
		return usagef("%s: %w", cfg.File, err)
	}
	defer ns.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := bot.NewMetrics(reg, st)
	fetcher := sources.NewFetcher(sources.Options{
		Timeout:   cfg.Fetch.Timeout,
		MaxBody:   cfg.Fetch.MaxBody,
		PerHost:   cfg.Fetch.PerHost,
		UserAgent: sources.UserAgent(buildVersion()),
	})
	defer fetcher.Close()
	ruleSet := bot.NewRuleSet(st, logger)
	owner := bot.NewOwner()
	b := bot.New(bot.Options{
		Store:         st,
		Fetcher:       fetcher,
		Notifiers:     ns.Notifiers,
		Rules:         ruleSet,
		Metrics:       metrics,
		Logger:        logger,
		Owner:         owner,
		Interval:      cfg.Fetch.Interval,
		Concurrency:   cfg.Fetch.Concurrency,
		PerHost:       cfg.Fetch.PerHost,
		FetchTimeout:  cfg.Fetch.Timeout,
		Retention:     cfg.Storage.Retention,
		Health:        bot.Health{Notify: targets(cfg.Health.Notify), After: cfg.Health.AlertAfterFailures},
		MaxPerHour:    maxPerHour(cfg),
		Lease:         cfg.Storage.Lease,
		MaxRetryAfter: cfg.Alerts.MaxRetryAfter,
		Cluster:       clusterOptions(cfg.Cluster),
	})
	logger.Info("wirewatch starting", "version", buildVersion(), "config", cfg.File,
		"sources", len(cfg.Sources), "rules", len(cfg.Rules), "notifiers", len(cfg.Notifiers),
		"store", where, "worker", owner)

	if f.once {
		return b.RunOnce(ctx, onceMaxWait)
	}

	svc := service.New(service.Options{Store: st, Rules: ruleSet, Fetcher: fetcher, Targets: registry.Targets(cfg),
		MaxChatRulesPerUser: cfg.Chat.MaxRulesPerUser, MaxChatRulesPerChannel: cfg.Chat.MaxRulesPerChannel})
	core := commands.New(svc, commands.WithLogger(logger))
	chatCtx, cancelChat := context.WithCancel(ctx)
	defer cancelChat()
	chat, err := startChat(chatCtx, cfg, core, st, owner, logger)
	if err != nil {
		return err
	}
	defer func() {
		cancelChat()
		chat.stop()
	}()

	served := make(chan error, 1)
	if cfg.HTTP.Listen != "" {
		srv, err := web.Listen(web.Options{
			Listen: cfg.HTTP.Listen, Store: st, Gatherer: reg, Routes: chat.routes,
			Tokens: revealAll(cfg.HTTP.Tokens), MetricsToken: cfg.HTTP.MetricsToken.Reveal(), Logger: logger,
			Service: svc, FetchInterval: cfg.Fetch.Interval, AllowedHosts: cfg.HTTP.Hosts,
		})
		if err != nil {
			return err
		}
		logger.Info("serving HTTP", "addr", srv.Addr())
		go func() { served <- srv.Serve(ctx) }()
	} else {
		served <- nil
	}
	runErr := b.Run(ctx)
	if err := <-served; err != nil && runErr == nil {
		runErr = fmt.Errorf("http: %w", err)
	}
	logger.Info("wirewatch stopped")
	return runErr
}

// openStore opens the configured store: PostgreSQL for storage.url, else
// the SQLite file of storage.path. where names it for logs, without secrets.
func openStore(ctx context.Context, cfg *config.Config) (st store.Store, where string, err error) {
	if cfg.Storage.URL != "" {
		pg, err := postgres.Open(ctx, cfg.Storage.URL.Reveal(), postgres.WithNormalizer(rules.Normalize))
		if err != nil {
			return nil, "", fmt.Errorf("open store: %w", err)
		}
		return pg, "postgres", nil
	}
	lite, err := sqlite.Open(ctx, cfg.Storage.Path)
	if err != nil {
		return nil, "", fmt.Errorf("open store %s: %w", cfg.Storage.Path, err)
	}
	return lite, cfg.Storage.Path, nil
}

func storeSources(cfg *config.Config) []store.Source {
	out := make([]store.Source, 0, len(cfg.Sources))
	for _, s := range cfg.Sources {
		out = append(out, store.Source{
			Name: s.Name, URL: s.URL, Interval: s.Interval, Schedule: s.Schedule,
			Backfill: s.Backfill, Origin: store.OriginConfig,
		})
	}
	return out
}

func targets(ts []config.Target) []string {
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		out = append(out, t.String())
	}
	return out
}

func maxPerHour(cfg *config.Config) map[string]int {
	out := make(map[string]int, len(cfg.Notifiers))
	for _, n := range cfg.Notifiers {
		out[n.Name] = n.MaxPerHour
	}
	return out
}

func storeRules(cfg *config.Config) []store.Rule {
	out := make([]store.Rule, 0, len(cfg.Rules))
	for _, r := range cfg.Rules {
		out = append(out, store.Rule{
			Name: r.Name, Query: r.Query, Notify: targets(r.Notify), Digest: r.Digest,
			Timezone: r.Timezone, Sources: r.Sources, FollowUps: r.FollowUps,
			MinSources: r.MinSources, Window: r.Window, Origin: store.OriginConfig,
		})
	}
	return out
}

func revealAll(secrets []config.Secret) []string {
	out := make([]string, 0, len(secrets))
	for _, s := range secrets {
		out = append(out, s.Reveal())
	}
	return out
}

// clusterOptions are the [cluster] table's settings as the judge takes them.
func clusterOptions(c config.Cluster) wwcluster.Options {
	if !c.ByFacts {
		return wwcluster.Options{FactsThreshold: -1}
	}
	return wwcluster.Options{FactsThreshold: c.FactsThreshold}
}
