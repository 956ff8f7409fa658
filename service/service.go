// Package service is the one place where rules, story lookups and run-time
// sources are made and changed, so that a rule means the same thing whether it
// comes from a chat command, the dashboard or the JSON API. It sits beside the
// bot on wirewatch's road: it reads and writes the store, validates with the
// rules and sources packages, and asks the live rule set to reload (other
// processes see the change through the store). A source added or changed is
// due at once in the store; every bot sharing it picks it up from there. It
// knows no HTTP and no chat formatting.
package service

import (
	"context"
	"errors"
	"time"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/sources"
	"github.com/wirewatch/wirewatch/store"
)

// ErrReadOnly is returned for changes to rules and sources that come from the
// configuration file: the file is their source of truth.
var ErrReadOnly = errors.New("defined in the configuration file; change it there")

// ErrInvalid is matched (errors.Is) by every *InvalidError: the input, not the
// system, is at fault, and the message says what to change.
var ErrInvalid = errors.New("invalid")

// InvalidError is input that cannot be used: which field, and why. For a
// query, Err is the *rules.Error with the column, so errors.As finds it.
type InvalidError struct {
	// Field is the input at fault: "query", "digest", "notify", "url", …
	Field string
	// Reason says what is wrong, in words a user understands.
	Reason string
	// Err is the underlying error, if any.
	Err error
}

// Error returns "field: reason".
func (e *InvalidError) Error() string { return e.Field + ": " + e.Reason }

// Unwrap returns the underlying error.
func (e *InvalidError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, reason string) error { return &InvalidError{Field: field, Reason: reason} }

// ErrLimit marks a change refused because a limit on how much one person or
// one channel may have was reached.
var ErrLimit = errors.New("limit reached")

// Reloader brings the live rule set up to date with the store (*bot.RuleSet).
type Reloader interface {
	Reload(ctx context.Context) error
}

// TargetChecker says whether a rule may send to a target: the configured
// notifiers and their types decide (config.Targets, as the registry builds
// it), so a rule made in chat, on the dashboard or through the API is held to
// the configuration file's rules.
type TargetChecker interface {
	// Check returns why target cannot be used, or nil.
	Check(target string) error
	// Choices returns the configured notifiers, for people to pick from.
	Choices() []config.TargetChoice
}

// Default bounds of a story lookup.
const (
	// DefaultMaxScan is how many candidate stories one lookup evaluates at most.
	DefaultMaxScan = 20_000
	// DefaultBudget is how long one lookup may take at most.
	DefaultBudget = 2 * time.Second
)

// Options are a Service's dependencies.
type Options struct {
	// Store keeps everything.
	Store store.Store
	// Rules is told to reload after a rule changes; nil: no live rule set.
	Rules Reloader
	// Fetcher makes the guarded test fetch of a new source.
	Fetcher *sources.Fetcher
	// Targets checks the targets of rules made or changed; nil accepts any
	// well-formed target.
	Targets TargetChecker
	// MaxChatRulesPerUser and MaxChatRulesPerChannel cap the rules made in
	// chat by one person and for one channel ([chat] max_rules_per_user,
	// max_rules_per_channel); 0: no cap.
	MaxChatRulesPerUser, MaxChatRulesPerChannel int
	// Now is the clock (default time.Now). Lookup budgets use the real
	// monotonic clock whatever Now says.
	Now func() time.Time
	// MaxScan and Budget bound one story lookup (DefaultMaxScan, DefaultBudget).
	MaxScan int
	Budget  time.Duration
	// AllowPrivateAddresses turns the private-address guard off for sources
	// added at run time. It exists for tests against servers on 127.0.0.1;
	// the program never sets it, and no configuration key or environment
	// variable reaches it.
	AllowPrivateAddresses bool
}

// Service makes and changes rules and sources and looks stories up. It is
// safe for concurrent use.
type Service struct {
	o Options
}

// New returns a Service over the given dependencies.
func New(o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxScan <= 0 {
		o.MaxScan = DefaultMaxScan
	}
	if o.Budget <= 0 {
		o.Budget = DefaultBudget
	}
	return &Service{o: o}
}

// Now returns the service's clock reading, so that callers describe times
// ("5m ago", "the last 7 days") by the same clock.
func (s *Service) Now() time.Time { return s.o.Now() }

func (s *Service) reload(ctx context.Context) error {
	if s.o.Rules == nil {
		return nil
	}
	return s.o.Rules.Reload(ctx)
}
