package commands

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"
	"unicode"

	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/service"
	"github.com/wirewatch/wirewatch/store"
)

// Defaults of the command core.
const (
	// DefaultNewsSince is how far back /news looks without a since: option:
	// 30 days, the default story retention.
	DefaultNewsSince = 30 * 24 * time.Hour
	// newsLimit is how many stories /news shows.
	newsLimit = 10
	// testSince is how far back /watch test looks without a since: option.
	testSince = 7 * 24 * time.Hour
	// testSample is how many stories /watch test shows.
	testSample = 5
	// maxItems is the longest list a reply carries; the rest are counted in
	// the footer.
	maxItems = 40
	// maxChoices is the most autocomplete suggestions (Discord's limit).
	maxChoices = 25
	// maxChoiceName is the longest suggestion label, in characters (Discord's limit).
	maxChoiceName = 100
)

// Core answers /news, /watch and /sources on any platform, through the
// service layer. It is safe for concurrent use.
type Core struct {
	svc            *service.Service
	adminOnlyRules bool
	newsSince      time.Duration
	logger         *slog.Logger
}

var _ Handler = (*Core)(nil)

// Option changes how New sets up a Core.
type Option func(*Core)

// WithAdminOnlyRules makes /watch add an admins-only command when on; by
// default anyone may add a rule.
func WithAdminOnlyRules(on bool) Option {
	return func(c *Core) { c.adminOnlyRules = on }
}

// WithNewsSince sets how far back /news looks without a since: option
// (default DefaultNewsSince).
func WithNewsSince(d time.Duration) Option {
	return func(c *Core) {
		if d > 0 {
			c.newsSince = d
		}
	}
}

// WithLogger sets where unexpected errors are logged (default: nowhere).
func WithLogger(l *slog.Logger) Option {
	return func(c *Core) {
		if l != nil {
			c.logger = l
		}
	}
}

// New returns the command core over svc.
func New(svc *service.Service, opts ...Option) *Core {
	c := &Core{svc: svc, newsSince: DefaultNewsSince, logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(c)
	}
	return c
}

// normalize lower-cases the command and subcommand and, when the adapter
// left Sub empty for /watch or /sources, takes it from the first word of
// Args. For /news, a Sub the adapter split off is put back into the query.
func normalize(req Request) Request {
	req.Command = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(req.Command), "/"))
	req.Sub = strings.ToLower(strings.TrimSpace(req.Sub))
	switch req.Command {
	case "news":
		if req.Sub != "" && req.Sub != "help" {
			req.Args = req.Sub + " " + req.Args
			req.Sub = ""
		}
	case "watch", "sources":
		if req.Sub == "" {
			args := strings.TrimLeftFunc(req.Args, unicode.IsSpace)
			end := strings.IndexFunc(args, unicode.IsSpace)
			if end < 0 {
				end = len(args)
			}
			req.Sub, req.Args = strings.ToLower(args[:end]), args[end:]
		}
	}
	req.Args = strings.TrimSpace(req.Args)
	return req
}

// Handle runs a command and returns its reply; it never fails and never
// panics: errors become replies with Error set.
func (c *Core) Handle(ctx context.Context, req Request) (reply Reply) {
	defer func() {
		if v := recover(); v != nil {
			c.logger.Error("command panicked", "command", req.Command, "sub", req.Sub, "panic", v, "stack", string(debug.Stack()))
			reply = failReply("Something went wrong on our side; it has been logged.")
		}
	}()
	req = normalize(req)
	switch req.Command {
	case "news":
		if req.Sub == "help" || req.Args == "help" {
			return usage("news", false)
		}
		return c.news(ctx, req)
	case "watch":
		switch req.Sub {
		case "add":
			return c.watchAdd(ctx, req)
		case "list":
			return c.watchList(ctx, req)
		case "remove", "pause", "resume":
			return c.watchChange(ctx, req)
		case "test":
			return c.watchTest(ctx, req)
		case "help", "":
			return usage("watch", false)
		}
		return usage("watch", true)
	case "sources":
		switch req.Sub {
		case "list":
			return c.sourcesList(ctx, req)
		case "add":
			return c.sourcesAdd(ctx, req)
		case "remove":
			return c.sourcesRemove(ctx, req)
		case "help", "":
			return usage("sources", false)
		}
		return usage("sources", true)
	case "help", "":
		return usage("", false)
	}
	return usage("", true)
}

// Usage texts, by command.
var usageText = map[string]string{
	"news": "/news QUERY [since:7d] — the 10 newest stored stories that match (default: the last 30 days)",
	"watch": "/watch add QUERY [digest:daily|hourly|weekly|\"0 9 * * 1-5\"] — alert this channel to new stories that match\n" +
		"/watch list — this channel's rules\n" +
		"/watch remove|pause|resume ID — change a rule (its author or an admin)\n" +
		"/watch test QUERY [since:30d] — how many stored stories match (default: the last 7 days), and the 5 newest",
	"sources": "/sources list — every source and how it is doing\n" +
		"/sources add URL [name:\"Some Name\"] — add a feed (admins)\n" +
		"/sources remove NAME — remove a source (admins)",
}

const queryHelp = "Queries: words, \"a phrase\", export* for prefixes, AND, OR, -word or NOT word, ( ), " +
	"a NEAR/3 b, title:/summary:/source:/author:/category:/url:, site:reuters.com, /regex/."

// usage returns the usage of a command ("" for all); unknown marks it as the
// answer to a command that was not understood.
func usage(command string, unknown bool) Reply {
	var b strings.Builder
	if unknown {
		b.WriteString("I don't know that command. ")
	}
	b.WriteString("Usage:\n")
	if command == "" {
		b.WriteString(usageText["news"] + "\n" + usageText["watch"] + "\n" + usageText["sources"])
	} else {
		b.WriteString(usageText[command])
	}
	b.WriteString("\n" + queryHelp)
	return Reply{Ephemeral: true, Error: unknown, Text: b.String()}
}

// failReply is an error answer, shown to the caller only.
func failReply(format string, args ...any) Reply {
	return Reply{Ephemeral: true, Error: true, Text: fmt.Sprintf(format, args...)}
}

// failure turns an error of the service into a reply. query is the query the
// command used, for pointing at a problem in it.
func (c *Core) failure(req Request, err error, query string) Reply {
	var qe *rules.Error
	var ie *service.InvalidError
	switch {
	case errors.As(err, &qe):
		return failReply("%s", queryProblem(query, qe))
	case errors.As(err, &ie):
		return failReply("That %s cannot be used: %s", ie.Field, ie.Reason)
	case errors.Is(err, service.ErrReadOnly):
		return failReply("%s", err.Error())
	case errors.Is(err, service.ErrLimit):
		return failReply("%s", upperFirst(strings.TrimPrefix(err.Error(), service.ErrLimit.Error()+": ")))
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return failReply("That took too long; try again, or a narrower query.")
	}
	c.logger.Error("command failed", "command", req.Command, "sub", req.Sub, "err", err)
	return failReply("Something went wrong on our side; it has been logged.")
}

// badArgs answers options that could not be read or do not belong.
func badArgs(err error) Reply {
	return failReply("%s", upperFirst(err.Error()))
}

// checkOptions refuses options the command does not take.
func checkOptions(a Args, command string, allowed ...string) error {
	for k := range a.Options {
		ok := false
		for _, w := range allowed {
			ok = ok || w == k
		}
		if !ok {
			return fmt.Errorf("%s does not take the %s: option", command, k)
		}
	}
	return nil
}

// who names the caller in replies the channel sees.
func who(req Request) string {
	if req.UserName != "" {
		return req.UserName
	}
	if req.User != "" {
		return req.User
	}
	return "Someone"
}

func upperFirst(s string) string {
	for i, r := range s {
		return string(unicode.ToUpper(r)) + s[i+len(string(r)):]
	}
	return s
}

// plural returns "1 story" or "n stories".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// cut shortens s to at most n characters, ending in "…" when cut.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// capItems keeps a reply's list short; the footer counts the rest.
func capItems(r *Reply) {
	if len(r.Items) <= maxItems {
		return
	}
	more := len(r.Items) - maxItems
	r.Items = r.Items[:maxItems]
	r.Footer = strings.TrimSpace(fmt.Sprintf("+%d more. %s", more, r.Footer))
}

// notFound reports whether err means there is no such rule or source.
func notFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
