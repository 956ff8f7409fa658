package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/wirewatch/wirewatch/store"
)

const ruleColumns = `id, name, query, notify, digest, timezone, sources, follow_ups, min_sources,
	window_ms, paused, origin, author, channel, created`

func scanRule(sc interface{ Scan(...any) error }) (store.Rule, error) {
	var r store.Rule
	err := sc.Scan(&r.ID, &r.Name, &r.Query, list{&r.Notify}, &r.Digest, &r.Timezone, list{&r.Sources},
		&r.FollowUps, &r.MinSources, msDuration{&r.Window}, &r.Paused, &r.Origin, &r.Author,
		&r.Channel, msTime{&r.Created})
	return r, err
}

const ruleInsert = `
INSERT INTO rules (name, query, notify, digest, timezone, sources, follow_ups, min_sources,
	window_ms, paused, origin, author, channel, created)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

func insertRule(ctx context.Context, tx *sql.Tx, r store.Rule) (int64, error) {
	res, err := tx.ExecContext(ctx, ruleInsert, r.Name, r.Query, jsonList(r.Notify), r.Digest,
		r.Timezone, jsonList(r.Sources), r.FollowUps, r.MinSources, r.Window.Milliseconds(), r.Paused,
		r.Origin, r.Author, r.Channel, millis(r.Created))
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// ruleUpdate changes everything a rule's owner may change: not its name, origin,
// author, channel or creation time.
const ruleUpdate = `
UPDATE rules SET query = ?, notify = ?, digest = ?, timezone = ?, sources = ?, follow_ups = ?,
	min_sources = ?, window_ms = ?, paused = ?
WHERE id = ?`

func ruleUpdateArgs(r store.Rule) []any {
	return []any{r.Query, jsonList(r.Notify), r.Digest, r.Timezone, jsonList(r.Sources), r.FollowUps,
		r.MinSources, r.Window.Milliseconds(), r.Paused, r.ID}
}

func queryRules(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}) ([]store.Rule, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+ruleColumns+` FROM rules ORDER BY id`)
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

// Rules lists every rule, by id.
func (s *Store) Rules(ctx context.Context) ([]store.Rule, error) {
	out, err := queryRules(ctx, s.r)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	return out, nil
}

// Rule returns one rule by id.
func (s *Store) Rule(ctx context.Context, id int64) (store.Rule, error) {
	r, err := scanRule(s.r.QueryRowContext(ctx, `SELECT `+ruleColumns+` FROM rules WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Rule{}, fmt.Errorf("rule %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Rule{}, fmt.Errorf("rule %d: %w", id, err)
	}
	return r, nil
}

// AddRule stores a run-time rule (origin chat or api; empty means api). A rule
// with no Name is named "w<ID>" in the same transaction. A taken name is
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
	err := s.write(ctx, func(tx *sql.Tx) error {
		// An unnamed rule is inserted as "", a name no committed rule has,
		// and renamed once its id is known.
		id, err := insertRule(ctx, tx, r)
		if isUnique(err) {
			return fmt.Errorf("name %q: %w", r.Name, store.ErrExists)
		}
		if err != nil {
			return err
		}
		r.ID = id
		if named {
			return nil
		}
		r.Name = "w" + strconv.FormatInt(id, 10)
		_, err = tx.ExecContext(ctx, `UPDATE rules SET name = ? WHERE id = ?`, r.Name, id)
		if isUnique(err) {
			return fmt.Errorf("generated name %q: %w", r.Name, store.ErrExists)
		}
		return err
	})
	if err != nil {
		return store.Rule{}, fmt.Errorf("add rule: %w", err)
	}
	return r, nil
}

// UpdateRule changes a rule's query, targets, digest, timezone, sources,
// follow-ups, surge options and pause flag; its name, origin, author and
// channel stay.
func (s *Store) UpdateRule(ctx context.Context, r store.Rule) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return execOne(ctx, tx, ruleUpdate, ruleUpdateArgs(r)...)
	})
	if err != nil {
		return fmt.Errorf("update rule %d: %w", r.ID, err)
	}
	return nil
}

// DeleteRule removes a rule. Its recorded matches stay, for counts.
func (s *Store) DeleteRule(ctx context.Context, id int64) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return execOne(ctx, tx, `DELETE FROM rules WHERE id = ?`, id)
	})
	if err != nil {
		return fmt.Errorf("delete rule %d: %w", id, err)
	}
	return nil
}

// SyncConfigRules makes the config-file rules match rules, by name: new names
// are inserted with origin config, existing config rules take every field of
// the file (pause flag included), and config rules that are gone are deleted.
// Chat and API rules are left alone; a config rule whose name one of them
// already has is an error naming it.
func (s *Store) SyncConfigRules(ctx context.Context, rules []store.Rule) error {
	now := truncMillis(s.now())
	err := s.write(ctx, func(tx *sql.Tx) error {
		existing := map[string]store.Rule{}
		all, err := queryRules(ctx, tx)
		if err != nil {
			return err
		}
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
				_, err = insertRule(ctx, tx, r)
			case !old.SameSettings(r):
				r.ID = old.ID
				_, err = tx.ExecContext(ctx, ruleUpdate, ruleUpdateArgs(r)...)
			}
			if err != nil {
				return fmt.Errorf("rule %q: %w", r.Name, err)
			}
		}
		for _, name := range plan.Drop {
			if _, err := tx.ExecContext(ctx, `DELETE FROM rules WHERE id = ?`, existing[name].ID); err != nil {
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

// RulesVersion returns the rules' change counter, which triggers on the rules
// table move on every insert, update and delete, by any process.
func (s *Store) RulesVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := s.r.QueryRowContext(ctx, `SELECT value FROM counters WHERE name = 'rules'`).Scan(&v); err != nil {
		return 0, fmt.Errorf("rules version: %w", err)
	}
	return v, nil
}
