package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wirewatch/wirewatch/store"
)

const ruleColumns = `id, name, query, notify, digest, timezone, sources, follow_ups, min_sources,
	window_ms, paused, origin, author, channel, created`

func scanRule(row pgx.Row) (store.Rule, error) {
	var r store.Rule
	var window, created int64
	err := row.Scan(&r.ID, &r.Name, &r.Query, &r.Notify, &r.Digest, &r.Timezone, &r.Sources, &r.FollowUps,
		&r.MinSources, &window, &r.Paused, &r.Origin, &r.Author, &r.Channel, &created)
	r.Notify, r.Sources = nilIfEmpty(r.Notify), nilIfEmpty(r.Sources)
	r.Window, r.Created = time.Duration(window)*time.Millisecond, timeOf(&created)
	return r, err
}

func collectRules(rows pgx.Rows, err error) ([]store.Rule, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Rule
	for rows.Next() {
		r, err := scanRule(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

const ruleInsert = `
INSERT INTO rules (name, query, notify, digest, timezone, sources, follow_ups, min_sources,
	window_ms, paused, origin, author, channel, created)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`

func ruleInsertArgs(r store.Rule) []any {
	return []any{r.Name, r.Query, list(r.Notify), r.Digest, r.Timezone, list(r.Sources), r.FollowUps,
		r.MinSources, r.Window.Milliseconds(), r.Paused, r.Origin, r.Author, r.Channel, ms0(r.Created)}
}

// ruleUpdate changes everything a rule's owner may change.
const ruleUpdate = `
UPDATE rules SET query = $1, notify = $2, digest = $3, timezone = $4, sources = $5, follow_ups = $6,
	min_sources = $7, window_ms = $8, paused = $9
WHERE id = $10`

func ruleUpdateArgs(r store.Rule) []any {
	return []any{r.Query, list(r.Notify), r.Digest, r.Timezone, list(r.Sources), r.FollowUps,
		r.MinSources, r.Window.Milliseconds(), r.Paused, r.ID}
}

// Rules lists every rule, by id.
func (s *Store) Rules(ctx context.Context) ([]store.Rule, error) {
	out, err := collectRules(s.pool.Query(ctx, `SELECT `+ruleColumns+` FROM rules ORDER BY id`))
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	return out, nil
}

// Rule returns one rule by id.
func (s *Store) Rule(ctx context.Context, id int64) (store.Rule, error) {
	r, err := scanRule(s.pool.QueryRow(ctx, `SELECT `+ruleColumns+` FROM rules WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Rule{}, fmt.Errorf("rule %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Rule{}, fmt.Errorf("rule %d: %w", id, err)
	}
	return r, nil
}

// AddRule stores a run-time rule (origin chat or api; empty means api). A
// rule with no Name is named "w<ID>" in the same transaction. A taken name is
// store.ErrExists, wrapped.
func (s *Store) AddRule(ctx context.Context, r store.Rule) (store.Rule, error) {
	if r.Query == "" {
		return store.Rule{}, fmt.Errorf("add rule %q: query is required", r.Name)
	}
	if r.Origin == "" {
		r.Origin = store.OriginAPI
	}
	r.Created = truncMillis(s.now())
	named := r.Name != ""
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if !named {
			// The id comes first, so that the rule is inserted with its
			// name "w<ID>".
			if err := tx.QueryRow(ctx, `SELECT nextval(pg_get_serial_sequence('rules', 'id'))`).Scan(&r.ID); err != nil {
				return err
			}
			r.Name = "w" + strconv.FormatInt(r.ID, 10)
			args := append([]any{r.ID}, ruleInsertArgs(r)...)
			_, err := tx.Exec(ctx, `
INSERT INTO rules (id, name, query, notify, digest, timezone, sources, follow_ups, min_sources,
	window_ms, paused, origin, author, channel, created)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`, args...)
			if isUnique(err) {
				return fmt.Errorf("generated name %q: %w", r.Name, store.ErrExists)
			}
			return err
		}
		err := tx.QueryRow(ctx, ruleInsert, ruleInsertArgs(r)...).Scan(&r.ID)
		if isUnique(err) {
			return fmt.Errorf("name %q: %w", r.Name, store.ErrExists)
		}
		return err
	})
	if err != nil {
		return store.Rule{}, fmt.Errorf("add rule: %w", err)
	}
	return r, nil
}

// UpdateRule changes a rule's settings; its name, origin, author and channel
// stay.
func (s *Store) UpdateRule(ctx context.Context, r store.Rule) error {
	if err := execOne(ctx, s.pool, ruleUpdate, ruleUpdateArgs(r)...); err != nil {
		return fmt.Errorf("update rule %d: %w", r.ID, err)
	}
	return nil
}

// DeleteRule removes a rule. Its recorded matches stay, for counts.
func (s *Store) DeleteRule(ctx context.Context, id int64) error {
	if err := execOne(ctx, s.pool, `DELETE FROM rules WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete rule %d: %w", id, err)
	}
	return nil
}

// SyncConfigRules makes the config-file rules match rules, by name, as the
// SQLite store does, under the config sync's advisory lock; a rule whose
// settings did not change is not written, so that a restart does not tell
// every replica the rules changed.
func (s *Store) SyncConfigRules(ctx context.Context, rules []store.Rule) error {
	now := truncMillis(s.now())
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(configSyncLock)); err != nil {
			return err
		}
		all, err := collectRules(tx.Query(ctx, `SELECT `+ruleColumns+` FROM rules ORDER BY id`))
		if err != nil {
			return err
		}
		existing := map[string]store.Rule{}
		for _, r := range all {
			existing[r.Name] = r
		}
		origins := map[string]string{}
		for name, r := range existing {
			origins[name] = r.Origin
		}
		plan, err := store.PlanSync("rule", store.RuleItems(rules), origins)
		if err != nil {
			return err
		}
		for _, r := range rules {
			old, ok := existing[r.Name]
			switch {
			case !ok:
				r.Origin, r.Author, r.Channel, r.Created = store.OriginConfig, "", "", now
				var id int64
				err = tx.QueryRow(ctx, ruleInsert, ruleInsertArgs(r)...).Scan(&id)
			case !old.SameSettings(r):
				r.ID = old.ID
				_, err = tx.Exec(ctx, ruleUpdate, ruleUpdateArgs(r)...)
			}
			if err != nil {
				return fmt.Errorf("rule %q: %w", r.Name, err)
			}
		}
		for _, name := range plan.Drop {
			if _, err := tx.Exec(ctx, `DELETE FROM rules WHERE id = $1`, existing[name].ID); err != nil {
				return fmt.Errorf("rule %q: %w", name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sync config rules: %w", err)
	}
	return nil
}

// RulesVersion returns the rules' change counter, which a trigger moves on
// every insert, update and delete of a rule, by any replica.
func (s *Store) RulesVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := s.pool.QueryRow(ctx, `SELECT value FROM counters WHERE name = 'rules'`).Scan(&v); err != nil {
		return 0, fmt.Errorf("rules version: %w", err)
	}
	return v, nil
}
