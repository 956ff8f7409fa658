package bot

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/store"
)

// RuleSet is the live set of rules: the compiled engine plus what the engine does
// not know (targets, source filters, digest mode, pause). Chat commands and the
// API change rules in the store and then call Reload; matching goes on meanwhile.
type RuleSet struct {
	store  store.Store
	logger *slog.Logger
	engine *rules.Engine

	mu    sync.RWMutex
	rules map[string]store.Rule // by name
	// version is the store's rules counter as of the last reload.
	version int64

	// matchers are reused across ingests: each holds scratch space sized to
	// the rule set, and reads the engine's current rules on every Match.
	matchers sync.Pool

	budgetMu sync.Mutex
	budget   map[string]*budgetNote // by rule name
}

// NewRuleSet returns an empty rule set backed by st.
func NewRuleSet(st store.Store, logger *slog.Logger) *RuleSet {
	rs := &RuleSet{store: st, logger: logger, engine: rules.NewEngine(), rules: map[string]store.Rule{}}
	rs.matchers.New = func() any { return rs.NewMatcher() }
	return rs
}

// Refresh reloads the rules when the store's change counter says they
// changed since the last reload, by this process or another.
func (rs *RuleSet) Refresh(ctx context.Context) error {
	v, err := rs.store.RulesVersion(ctx)
	if err != nil {
		return fmt.Errorf("refresh rules: %w", err)
	}
	rs.mu.RLock()
	same := v == rs.version
	rs.mu.RUnlock()
	if same {
		return nil
	}
	return rs.Reload(ctx)
}

// Reload reads every rule from the store and brings the engine up to date:
// new and changed queries are compiled, removed rules leave. A stored rule whose
// query no longer parses is logged and left out, never fatal.
func (rs *RuleSet) Reload(ctx context.Context) error {
	// The counter is read first: a change made while the rules are read
	// leaves it ahead of what was loaded, so the next Refresh loads again.
	v, err := rs.store.RulesVersion(ctx)
	if err != nil {
		return fmt.Errorf("reload rules: %w", err)
	}
	stored, err := rs.store.Rules(ctx)
	if err != nil {
		return fmt.Errorf("reload rules: %w", err)
	}
	next := make(map[string]store.Rule, len(stored))
	for _, r := range stored {
		next[r.Name] = r
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if v < rs.version {
		return nil // a reload that read later has already applied its rules
	}
	for name := range rs.rules {
		if _, ok := next[name]; !ok {
			rs.engine.Remove(name)
		}
	}
	for name, r := range next {
		old, had := rs.rules[name]
		if had && old.Query == r.Query {
			continue
		}
		q, err := rules.Parse(r.Query)
		if err != nil {
			rs.logger.Error("stored rule does not parse; skipped", "rule", name, "err", err)
			rs.engine.Remove(name)
			delete(next, name)
			continue
		}
		rs.engine.Set(name, q)
	}
	rs.rules = next
	rs.version = v
	return nil
}

// Len returns the number of rules in force.
func (rs *RuleSet) Len() int {
	rs.mu.RLock()
	defer rs.mu.RUnlock()
	return len(rs.rules)
}

// Rule returns the stored form of a rule by name.
func (rs *RuleSet) Rule(name string) (store.Rule, bool) {
	rs.mu.RLock()
	defer rs.mu.RUnlock()
	r, ok := rs.rules[name]
	return r, ok
}

// Digests returns the rules that send digests, by name.
func (rs *RuleSet) Digests() []store.Rule {
	rs.mu.RLock()
	defer rs.mu.RUnlock()
	var out []store.Rule
	for _, r := range rs.rules {
		if r.Digest != "" {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b store.Rule) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// SetRegexBudget sets how long the regular expressions of all rules together
// may run on one story (rules.DefaultRegexBudget; d <= 0 restores it).
func (rs *RuleSet) SetRegexBudget(d time.Duration) { rs.engine.SetRegexBudget(d) }

// NewMatcher returns a matcher over the live engine, for one goroutine.
func (rs *RuleSet) NewMatcher() *rules.Matcher { return rs.engine.NewMatcher() }

// acquire returns a pooled matcher over the live engine for one goroutine; give it
// back with release.
func (rs *RuleSet) acquire() *rules.Matcher { return rs.matchers.Get().(*rules.Matcher) }

func (rs *RuleSet) release(m *rules.Matcher) { rs.matchers.Put(m) }

// appliesTo reports whether a matching rule should act on a story of source:
// not paused, and the source is in the rule's list when it has one.
func appliesTo(r store.Rule, source string) bool {
	if r.Paused {
		return false
	}
	return len(r.Sources) == 0 || slices.Contains(r.Sources, source)
}

// overBudgetLogEvery is the least time between two log lines about one rule
// running out of regular expression budget.
const overBudgetLogEvery = 10 * time.Minute

// noteOverBudget logs the rules that did not match a story because its
// regular expression budget ran out: once per rule per overBudgetLogEvery,
// with how often it happened since the last line.
func (rs *RuleSet) noteOverBudget(names []string, storyID string) {
	now := time.Now()
	rs.budgetMu.Lock()
	defer rs.budgetMu.Unlock()
	if rs.budget == nil {
		rs.budget = map[string]*budgetNote{}
	}
	for _, name := range names {
		n := rs.budget[name]
		if n == nil {
			n = &budgetNote{}
			rs.budget[name] = n
		}
		n.count++
		n.total++
		if !n.logged.IsZero() && now.Sub(n.logged) < overBudgetLogEvery {
			continue
		}
		rs.logger.Warn("rule's regular expressions ran out of the per-story time budget; it did not match the story",
			"rule", name, "story", storyID, "times", n.count, "budget", rs.engine.RegexBudget())
		n.logged, n.count = now, 0
	}
}

// budgetNote is what noteOverBudget remembers of one rule.
type budgetNote struct {
	logged time.Time
	count  int // since the last log line
	total  int // since the process started
}

// OverBudget returns, per rule name, how many stories the rule did not match
// because their regular expression budget ran out, since this process
// started (the dashboard shows it; each replica counts its own).
func (rs *RuleSet) OverBudget() map[string]int {
	rs.budgetMu.Lock()
	defer rs.budgetMu.Unlock()
	out := make(map[string]int, len(rs.budget))
	for name, n := range rs.budget {
		out[name] = n.total
	}
	return out
}
