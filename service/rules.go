package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/schedule"
	"github.com/wirewatch/wirewatch/store"
)

// Defaults a rule made at run time takes, as a rule in the configuration file does.
const (
	defaultFollowUps  = "thread"
	defaultMinSources = 1
)

// RuleInfo is a stored rule with what it has done lately.
type RuleInfo struct {
	store.Rule
	// Matches7d is how many stories the rule matched in the last 7 days.
	Matches7d int
	// Alerts7d is how many alerts it made in the last 7 days, as
	// store.AlertDefinition counts them (an event matched on two days
	// counts on each).
	Alerts7d int
	// OverBudget is how many stories the rule could not be decided on, and
	// so did not match, because their regular expression budget ran out,
	// since this process started (0 without a live rule set).
	OverBudget int
}

// budgetReporter is a live rule set that counts the rules given up on for
// want of regular expression budget (*bot.RuleSet).
type budgetReporter interface {
	OverBudget() map[string]int
}

// RulePatch is a change to a rule; nil fields stay as they are.
type RulePatch struct {
	Query  *string
	Notify []string
	Digest *string
	Paused *bool
}

// ParseQuery parses a query as a rule would use it. A bad query is an
// *InvalidError for field "query" that wraps the *rules.Error.
func ParseQuery(query string) (*rules.Query, error) {
	q, err := rules.Parse(query)
	if err != nil {
		var re *rules.Error
		if errors.As(err, &re) {
			return nil, &InvalidError{Field: "query", Reason: re.Error(), Err: re}
		}
		return nil, &InvalidError{Field: "query", Reason: err.Error(), Err: err}
	}
	return q, nil
}

// NormalizeDigest checks a digest setting and returns it in stored form, as
// schedule.NormalizeDigest does for the configuration file too: "" (instant),
// "hourly", "daily", "weekly" (any case) or a cron spec without a time zone
// (a rule has its own timezone setting). A bad one is an *InvalidError.
func NormalizeDigest(d string) (string, error) {
	norm, err := schedule.NormalizeDigest(d)
	if err != nil {
		return "", &InvalidError{Field: "digest", Reason: err.Error(), Err: err}
	}
	return norm, nil
}

// checkTargets cleans a rule's targets: at least one, each "notifier" or
// "notifier:channel" without spaces, no repeats, and each one that targets
// accepts (a nil targets accepts all).
func checkTargets(notify []string, targets TargetChecker) ([]string, error) {
	var out []string
	for _, t := range notify {
		t = strings.TrimSpace(t)
		if t == "" || strings.HasPrefix(t, ":") || strings.IndexFunc(t, unicode.IsSpace) >= 0 {
			return nil, invalid("notify", fmt.Sprintf(`target %q: want "notifier" or "notifier:channel"`, t))
		}
		if targets != nil {
			if err := targets.Check(t); err != nil {
				return nil, &InvalidError{Field: "notify", Reason: fmt.Sprintf("target %q: %v", t, err), Err: err}
			}
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, invalid("notify", "a rule needs at least one target to send to")
	}
	return out, nil
}

// checkName refuses names a lookup could confuse: "w" and digits is kept for
// generated names, and digits alone read as an id.
func checkName(name string) error {
	if strings.TrimSpace(name) != name || name == "" {
		return invalid("name", "must not be empty or start or end with a space")
	}
	if _, err := strconv.ParseInt(name, 10, 64); err == nil {
		return invalid("name", "must not be a number: numbers are rule ids")
	}
	if len(name) > 1 && (name[0] == 'w' || name[0] == 'W') {
		if _, err := strconv.ParseUint(name[1:], 10, 64); err == nil {
			return invalid("name", `names of the form "w12" are kept for generated names`)
		}
	}
	return nil
}

// validRule checks and cleans the fields of a rule that a user sets.
func (s *Service) validRule(r store.Rule) (store.Rule, error) {
	r.Query = strings.TrimSpace(r.Query)
	if _, err := ParseQuery(r.Query); err != nil {
		return r, err
	}
	var err error
	if r.Digest, err = NormalizeDigest(r.Digest); err != nil {
		return r, err
	}
	if r.Notify, err = checkTargets(r.Notify, s.o.Targets); err != nil {
		return r, err
	}
	if _, err := schedule.LoadLocation(r.Timezone); err != nil {
		return r, &InvalidError{Field: "timezone", Reason: err.Error(), Err: err}
	}
	switch r.FollowUps {
	case "":
		r.FollowUps = defaultFollowUps
	case "thread", "none":
	default:
		return r, invalid("follow_ups", `must be "thread" or "none"`)
	}
	if r.MinSources < 0 || r.Window < 0 {
		return r, invalid("min_sources", "must not be negative")
	}
	if r.MinSources == 0 {
		r.MinSources = defaultMinSources
	}
	return r, nil
}

// AddRule validates a rule made at run time, stores it and reloads the live
// rules, so that it applies to the very next story. The query must parse (a
// bad one is an *InvalidError wrapping the *rules.Error), the digest be ""
// or hourly, daily, weekly or a cron spec, and the targets non-empty. Origin
// defaults to api; config is refused. An empty Name becomes "w<ID>".
func (s *Service) AddRule(ctx context.Context, r store.Rule) (store.Rule, error) {
	r, err := s.validRule(r)
	if err != nil {
		return store.Rule{}, err
	}
	switch r.Origin {
	case "":
		r.Origin = store.OriginAPI
	case store.OriginChat, store.OriginAPI:
	default:
		return store.Rule{}, invalid("origin", `must be "chat" or "api"; configuration rules come from the file`)
	}
	if r.Name != "" {
		if err := checkName(r.Name); err != nil {
			return store.Rule{}, err
		}
	}
	if err := s.checkChatLimits(ctx, r); err != nil {
		return store.Rule{}, err
	}
	stored, err := s.o.Store.AddRule(ctx, r)
	if errors.Is(err, store.ErrExists) {
		return store.Rule{}, &InvalidError{Field: "name", Reason: fmt.Sprintf("a rule named %q already exists; choose another name", r.Name), Err: err}
	}
	if err != nil {
		return store.Rule{}, err // the store's error already says "add rule: …"
	}
	if err := s.reload(ctx); err != nil {
		return stored, fmt.Errorf("add rule %s: stored, but the live rules did not reload: %w", stored.Name, err)
	}
	return stored, nil
}

// UpdateRule changes a rule's query, targets, digest or pause flag and
// reloads the live rules. Rules from the configuration file are ErrReadOnly.
func (s *Service) UpdateRule(ctx context.Context, id int64, patch RulePatch) (store.Rule, error) {
	r, err := s.o.Store.Rule(ctx, id)
	if err != nil {
		return store.Rule{}, err
	}
	if r.Origin == store.OriginConfig {
		return store.Rule{}, fmt.Errorf("rule %q: %w", r.Name, ErrReadOnly)
	}
	if patch.Query != nil {
		r.Query = *patch.Query
	}
	if patch.Notify != nil {
		r.Notify = patch.Notify
	}
	if patch.Digest != nil {
		r.Digest = *patch.Digest
	}
	if patch.Paused != nil {
		r.Paused = *patch.Paused
	}
	if r, err = s.validRule(r); err != nil {
		return store.Rule{}, err
	}
	if err := s.o.Store.UpdateRule(ctx, r); err != nil {
		return store.Rule{}, err
	}
	if err := s.reload(ctx); err != nil {
		return r, fmt.Errorf("update rule %s: stored, but the live rules did not reload: %w", r.Name, err)
	}
	return r, nil
}

// DeleteRule removes a rule and reloads the live rules. Rules from the
// configuration file are ErrReadOnly.
func (s *Service) DeleteRule(ctx context.Context, id int64) error {
	r, err := s.o.Store.Rule(ctx, id)
	if err != nil {
		return err
	}
	if r.Origin == store.OriginConfig {
		return fmt.Errorf("rule %q: %w", r.Name, ErrReadOnly)
	}
	if err := s.o.Store.DeleteRule(ctx, id); err != nil {
		return err
	}
	if err := s.reload(ctx); err != nil {
		return fmt.Errorf("delete rule %s: deleted, but the live rules did not reload: %w", r.Name, err)
	}
	return nil
}

// Rules lists every rule, by id, with its matches of the last 7 days.
func (s *Service) Rules(ctx context.Context) ([]RuleInfo, error) {
	all, err := s.o.Store.Rules(ctx)
	if err != nil {
		return nil, err
	}
	since := s.o.Now().Add(-7 * 24 * time.Hour)
	counts, err := s.o.Store.MatchCounts(ctx, since)
	if err != nil {
		return nil, err
	}
	days, err := s.o.Store.MatchDays(ctx, since)
	if err != nil {
		return nil, err
	}
	alerts := map[string]int{}
	for _, d := range days {
		alerts[d.Rule] += d.Alerts
	}
	var over map[string]int
	if br, ok := s.o.Rules.(budgetReporter); ok {
		over = br.OverBudget()
	}
	out := make([]RuleInfo, len(all))
	for i, r := range all {
		out[i] = RuleInfo{Rule: r, Matches7d: counts[r.Name], Alerts7d: alerts[r.Name], OverBudget: over[r.Name]}
	}
	return out, nil
}

// FindRule returns the rule a user means by ref: its exact name ("w12",
// "nvidia-china"), else its numeric id, else its name in any case when only
// one rule has it. No such rule is store.ErrNotFound, wrapped.
func (s *Service) FindRule(ctx context.Context, ref string) (store.Rule, error) {
	ref = strings.TrimSpace(ref)
	notFound := fmt.Errorf("rule %q: %w", ref, store.ErrNotFound)
	if ref == "" {
		return store.Rule{}, notFound
	}
	all, err := s.o.Store.Rules(ctx)
	if err != nil {
		return store.Rule{}, err
	}
	for _, r := range all {
		if r.Name == ref {
			return r, nil
		}
	}
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		for _, r := range all {
			if r.ID == id {
				return r, nil
			}
		}
	}
	var found []store.Rule
	for _, r := range all {
		if strings.EqualFold(r.Name, ref) {
			found = append(found, r)
		}
	}
	if len(found) == 1 {
		return found[0], nil
	}
	return store.Rule{}, notFound
}

// checkChatLimits refuses a chat rule past MaxChatRulesPerUser rules of its
// author or MaxChatRulesPerChannel of its channel, with a message that says
// which limit and what to do. (Two replicas adding at the same instant may
// pass it together; it bounds a flood, not the last rule.)
func (s *Service) checkChatLimits(ctx context.Context, r store.Rule) error {
	if r.Origin != store.OriginChat || s.o.MaxChatRulesPerUser <= 0 && s.o.MaxChatRulesPerChannel <= 0 {
		return nil
	}
	all, err := s.o.Store.Rules(ctx)
	if err != nil {
		return fmt.Errorf("add rule: %w", err)
	}
	byUser, byChannel := 0, 0
	for _, x := range all {
		if x.Origin != store.OriginChat {
			continue
		}
		if r.Author != "" && x.Author == r.Author {
			byUser++
		}
		if r.Channel != "" && x.Channel == r.Channel {
			byChannel++
		}
	}
	switch {
	case s.o.MaxChatRulesPerUser > 0 && byUser >= s.o.MaxChatRulesPerUser:
		return fmt.Errorf("%w: you have %d rules, the most one person may make in chat; remove one with /watch remove first", ErrLimit, byUser)
	case s.o.MaxChatRulesPerChannel > 0 && byChannel >= s.o.MaxChatRulesPerChannel:
		return fmt.Errorf("%w: this channel has %d rules, the most one channel may have; remove one with /watch remove first", ErrLimit, byChannel)
	}
	return nil
}
