package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

// deliveryExists uses the deliveries_dedup partial index: its WHERE clause
// repeats the index's, as SQLite requires to choose it.
const deliveryExists = `
SELECT 1 FROM deliveries
WHERE target = ? AND dedup_key = ? AND dedup_key <> '' AND status <> 'duplicate' LIMIT 1`

// clusterParent finds the first alert of a cluster to a target.
const clusterParent = `
SELECT id FROM deliveries
WHERE target = ? AND cluster = ? AND cluster <> '' AND kind IN ('', 'alert')
	AND status IN ('pending', 'sent', 'failed', 'summarised')
ORDER BY id LIMIT 1`

const deliveryInsert = `
INSERT INTO deliveries (target, kind, story_id, story_ids, dedup_key, rules, terms, cluster,
	parent_id, text, status, next_attempt, created)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// insertDeliveries stores new outbox rows and returns them as stored, with the
// number stored as pending and as duplicate. A row's Status defaults to
// pending and a pending row's NextAttempt to now; attempts, errors, refs and
// sent times start empty. A row whose (Target, DedupKey) a non-duplicate row
// already has, including one earlier in ds, becomes a duplicate.
func insertDeliveries(ctx context.Context, tx *sql.Tx, ds []store.Delivery, now time.Time) (out []store.Delivery, pending, dups int, err error) {
	if len(ds) == 0 {
		return nil, 0, 0, nil
	}
	exists, err := tx.PrepareContext(ctx, deliveryExists)
	if err != nil {
		return nil, 0, 0, err
	}
	defer exists.Close()
	ins, err := tx.PrepareContext(ctx, deliveryInsert)
	if err != nil {
		return nil, 0, 0, err
	}
	defer ins.Close()
	parent, err := tx.PrepareContext(ctx, clusterParent)
	if err != nil {
		return nil, 0, 0, err
	}
	defer parent.Close()

	created := truncMillis(now)
	out = make([]store.Delivery, 0, len(ds))
	for _, d := range ds {
		if d.Target == "" {
			return nil, 0, 0, fmt.Errorf("delivery for story %q has no target", d.StoryID)
		}
		d.ID, d.Attempts, d.LastError, d.Ref, d.Sent = 0, 0, "", "", time.Time{}
		d.Created = created
		d.Story, d.Stories, d.ParentRef = nil, nil, ""
		if d.Status == "" {
			d.Status = store.StatusPending
		}
		if d.Kind == notifiers.KindFollowUp && d.ParentID == 0 {
			err := parent.QueryRowContext(ctx, d.Target, d.Cluster).Scan(&d.ParentID)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				// The target never had this cluster: this story is its first alert.
				d.Kind, d.ParentID = "", 0
				if d.Status == store.StatusFolded {
					d.Status = store.StatusPending
				}
			case err != nil:
				return nil, 0, 0, err
			}
		}
		if d.DedupKey != "" && d.Status != store.StatusDuplicate {
			var one int
			err := exists.QueryRowContext(ctx, d.Target, d.DedupKey).Scan(&one)
			switch {
			case err == nil:
				d.Status = store.StatusDuplicate
			case !errors.Is(err, sql.ErrNoRows):
				return nil, 0, 0, err
			}
		}
		switch d.Status {
		case store.StatusPending:
			d.NextAttempt = truncMillis(d.NextAttempt)
			if d.NextAttempt.IsZero() {
				d.NextAttempt = created
			}
			pending++
		case store.StatusDuplicate:
			d.NextAttempt = time.Time{}
			dups++
		default:
			d.NextAttempt = time.Time{}
		}
		if len(d.StoryIDs) == 0 {
			d.StoryIDs = nil
		}
		res, err := ins.ExecContext(ctx, d.Target, d.Kind, d.StoryID, jsonList(d.StoryIDs), d.DedupKey,
			jsonList(d.Rules), jsonList(d.Terms), d.Cluster, d.ParentID, d.Text, d.Status,
			millis(d.NextAttempt), millis(d.Created))
		if err != nil {
			return nil, 0, 0, fmt.Errorf("delivery to %q: %w", d.Target, err)
		}
		if d.ID, err = res.LastInsertId(); err != nil {
			return nil, 0, 0, err
		}
		out = append(out, d)
	}
	return out, pending, dups, nil
}

// Enqueue adds deliveries that do not come from ingest (health, digests,
// summaries), deduplicated as in Ingest, and returns them as stored: with
// their IDs, Status (pending or duplicate), NextAttempt and Created.
func (s *Store) Enqueue(ctx context.Context, ds []store.Delivery) ([]store.Delivery, error) {
	var out []store.Delivery
	now := s.now()
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		out, _, _, err = insertDeliveries(ctx, tx, ds, now)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("enqueue: %w", err)
	}
	return out, nil
}

const deliverySelect = `
SELECT d.id, d.target, d.kind, d.story_id, d.story_ids, d.dedup_key, d.rules, d.terms, d.cluster,
       d.parent_id, d.text, d.status, d.attempts, d.next_attempt, d.last_error, d.ref, d.created,
       d.sent, COALESCE(p.ref, '')
FROM deliveries d
LEFT JOIN deliveries p ON p.id = d.parent_id AND d.parent_id <> 0`

// queryDeliveries reads outbox rows and fills in their stories and parent refs,
// from one snapshot.
func queryDeliveries(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]store.Delivery, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Delivery
	for rows.Next() {
		var d store.Delivery
		err := rows.Scan(&d.ID, &d.Target, &d.Kind, &d.StoryID, list{&d.StoryIDs}, &d.DedupKey,
			list{&d.Rules}, list{&d.Terms}, &d.Cluster, &d.ParentID, &d.Text, &d.Status, &d.Attempts,
			msTime{&d.NextAttempt}, &d.LastError, &d.Ref, msTime{&d.Created}, msTime{&d.Sent},
			&d.ParentRef)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	return out, fillStories(ctx, tx, out)
}

// fillStories sets Story and Stories of ds from one query; stories that were
// pruned are left out (Story nil).
func fillStories(ctx context.Context, tx *sql.Tx, ds []store.Delivery) error {
	var ids []string
	for _, d := range ds {
		if d.StoryID != "" {
			ids = append(ids, d.StoryID)
		}
		ids = append(ids, d.StoryIDs...)
	}
	if len(ids) == 0 {
		return nil
	}
	rows, err := tx.QueryContext(ctx,
		`SELECT `+storyColumns+` FROM stories st WHERE st.id IN (SELECT value FROM json_each(?))`,
		jsonList(ids))
	if err != nil {
		return err
	}
	defer rows.Close()
	byID := map[string]story.Story{}
	for rows.Next() {
		st, err := scanStory(rows)
		if err != nil {
			return err
		}
		byID[st.ID] = st
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range ds {
		d := &ds[i]
		if st, ok := byID[d.StoryID]; ok && d.StoryID != "" {
			d.Story = &st
		}
		for _, id := range d.StoryIDs {
			if st, ok := byID[id]; ok {
				d.Stories = append(d.Stories, st)
			}
		}
	}
	return nil
}

// Due returns up to limit (0: 100) pending deliveries whose NextAttempt is not
// after now, oldest first, with Story, Stories and ParentRef filled in.
func (s *Store) Due(ctx context.Context, now time.Time, limit int) ([]store.Delivery, error) {
	if limit <= 0 {
		limit = 100
	}
	var out []store.Delivery
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = queryDeliveries(ctx, tx,
			deliverySelect+` WHERE d.status = 'pending' AND d.next_attempt <= ? ORDER BY d.id LIMIT ?`,
			now.UnixMilli(), limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("due: %w", err)
	}
	return out, nil
}

// Deliveries lists outbox rows for the delivery log, newest first, with Story,
// Stories and ParentRef filled in. Rule selects rows naming that rule; Since
// selects rows created at or after it; Before rows whose id is below it.
func (s *Store) Deliveries(ctx context.Context, q store.DeliveryQuery) ([]store.Delivery, error) {
	var where []string
	var args []any
	if q.Rule != "" {
		where = append(where, `EXISTS (SELECT 1 FROM json_each(d.rules) WHERE value = ?)`)
		args = append(args, q.Rule)
	}
	if q.Status != "" {
		where = append(where, `d.status = ?`)
		args = append(args, q.Status)
	}
	if q.Target != "" {
		where = append(where, `d.target = ?`)
		args = append(args, q.Target)
	}
	if q.Before > 0 {
		where = append(where, `d.id < ?`)
		args = append(args, q.Before)
	}
	if !q.Since.IsZero() {
		where = append(where, `d.created >= ?`)
		args = append(args, q.Since.UnixMilli())
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	query := deliverySelect
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	query += ` ORDER BY d.id DESC LIMIT ?`
	args = append(args, limit)
	var out []store.Delivery
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = queryDeliveries(ctx, tx, query, args...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("deliveries: %w", err)
	}
	return out, nil
}

// NextDue returns the earliest NextAttempt of a pending delivery (ok false: none).
func (s *Store) NextDue(ctx context.Context) (time.Time, bool, error) {
	var at time.Time
	err := s.r.QueryRowContext(ctx,
		`SELECT MIN(next_attempt) FROM deliveries WHERE status = 'pending'`).Scan(msTime{&at})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next due: %w", err)
	}
	return at, !at.IsZero(), nil
}

// OutboxDepth counts pending deliveries.
func (s *Store) OutboxDepth(ctx context.Context) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM deliveries WHERE status = 'pending'`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("outbox depth: %w", err)
	}
	return n, nil
}

// MarkSent records a successful send: status sent, the message reference, the
// time and one more attempt.
func (s *Store) MarkSent(ctx context.Context, id int64, ref string, at time.Time) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return execOne(ctx, tx, `
UPDATE deliveries SET status = 'sent', ref = ?, sent = ?, attempts = attempts + 1 WHERE id = ?`,
			ref, millis(at), id)
	})
	if err != nil {
		return fmt.Errorf("mark sent %d: %w", id, err)
	}
	return nil
}

// Reschedule records a failed attempt, its error and when to try again.
func (s *Store) Reschedule(ctx context.Context, id int64, next time.Time, errMsg string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return execOne(ctx, tx, `
UPDATE deliveries SET attempts = attempts + 1, next_attempt = ?, last_error = ? WHERE id = ?`,
			millis(next), errMsg, id)
	})
	if err != nil {
		return fmt.Errorf("reschedule %d: %w", id, err)
	}
	return nil
}

// MarkFailed records a final failure: status failed, one more attempt, the error.
func (s *Store) MarkFailed(ctx context.Context, id int64, errMsg string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return execOne(ctx, tx, `
UPDATE deliveries SET status = 'failed', attempts = attempts + 1, last_error = ? WHERE id = ?`,
			errMsg, id)
	})
	if err != nil {
		return fmt.Errorf("mark failed %d: %w", id, err)
	}
	return nil
}

// Retry puts a failed delivery back to pending, due now, keeping its last
// error and attempts. A delivery in another status is store.ErrConflict.
func (s *Store) Retry(ctx context.Context, id int64) error {
	now := s.now()
	err := s.write(ctx, func(tx *sql.Tx) error {
		var status string
		err := tx.QueryRowContext(ctx, `SELECT status FROM deliveries WHERE id = ?`, id).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if status != store.StatusFailed {
			return fmt.Errorf("status %s: %w", status, store.ErrConflict)
		}
		_, err = tx.ExecContext(ctx,
			`UPDATE deliveries SET status = 'pending', next_attempt = ? WHERE id = ?`, millis(now), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("retry %d: %w", id, err)
	}
	return nil
}

// Postpone makes pending deliveries due at until without counting an attempt.
func (s *Store) Postpone(ctx context.Context, ids []int64, until time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `
UPDATE deliveries SET next_attempt = ?
WHERE status = 'pending' AND id IN (SELECT value FROM json_each(?))`, millis(until), jsonIDs(ids))
		return err
	})
	if err != nil {
		return fmt.Errorf("postpone: %w", err)
	}
	return nil
}

// MarkSummarised records that pending deliveries went out inside one summary
// message with reference ref.
func (s *Store) MarkSummarised(ctx context.Context, ids []int64, ref string, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `
UPDATE deliveries SET status = 'summarised', ref = ?, sent = ?, attempts = attempts + 1
WHERE status = 'pending' AND id IN (SELECT value FROM json_each(?))`, ref, millis(at), jsonIDs(ids))
		return err
	})
	if err != nil {
		return fmt.Errorf("mark summarised: %w", err)
	}
	return nil
}

// SentAlerts counts the instant alerts sent to target since a time.
func (s *Store) SentAlerts(ctx context.Context, target string, since time.Time) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `
SELECT COUNT(*) FROM deliveries
WHERE status = 'sent' AND target = ? AND sent >= ? AND kind IN ('', 'alert', 'surge')`,
		target, since.UnixMilli()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sent alerts %q: %w", target, err)
	}
	return n, nil
}

// LastSummary returns when the last flood summary to target went out.
func (s *Store) LastSummary(ctx context.Context, target string) (time.Time, error) {
	var at time.Time
	err := s.r.QueryRowContext(ctx,
		`SELECT MAX(sent) FROM deliveries WHERE target = ? AND status = 'summarised'`, target).Scan(msTime{&at})
	if err != nil {
		return time.Time{}, fmt.Errorf("last summary %q: %w", target, err)
	}
	return at, nil
}

// jsonIDs encodes ids as a JSON array for json_each.
func jsonIDs(ids []int64) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	b.WriteByte(']')
	return b.String()
}
