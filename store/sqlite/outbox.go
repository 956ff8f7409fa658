package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

// clusterParent finds the first alert of a cluster to a target.
var clusterParent = `
SELECT id FROM deliveries
WHERE target = ? AND cluster = ? AND cluster <> '' AND kind IN ('', '` + store.KindAlert + `')
	AND status IN ('pending', 'sent', 'failed', 'summarised')
ORDER BY id LIMIT 1`

const deliveryInsert = `
INSERT INTO deliveries (target, kind, story_id, story_ids, dedup_key, rules, terms, cluster,
	parent_id, text, status, next_attempt, created)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// dedupInsert inserts a row unless its (target, dedup_key) is taken by a row
// that is not a duplicate: the constraint of the deliveries_dedup index
// decides, so that two writers cannot both insert the story for a target.
const dedupInsert = deliveryInsert + `
ON CONFLICT (target, dedup_key) WHERE dedup_key <> '' AND status <> 'duplicate' DO NOTHING`

// insertDeliveries stores new outbox rows and returns them as stored, with the
// number stored as pending and as duplicate. A row's Status defaults to
// pending and a pending row's NextAttempt to now; attempts, errors, refs and
// sent times start empty. A row whose (Target, DedupKey) a non-duplicate row
// already has, including one earlier in ds, becomes a duplicate.
func insertDeliveries(ctx context.Context, tx *sql.Tx, ds []store.Delivery, now time.Time) (out []store.Delivery, pending, dups int, err error) {
	if len(ds) == 0 {
		return nil, 0, 0, nil
	}
	ins, err := tx.PrepareContext(ctx, deliveryInsert)
	if err != nil {
		return nil, 0, 0, err
	}
	defer ins.Close()
	dedup, err := tx.PrepareContext(ctx, dedupInsert)
	if err != nil {
		return nil, 0, 0, err
	}
	defer dedup.Close()
	parent, err := tx.PrepareContext(ctx, clusterParent)
	if err != nil {
		return nil, 0, 0, err
	}
	defer parent.Close()

	created := truncMillis(now)
	lanes := map[string]bool{}
	out = make([]store.Delivery, 0, len(ds))
	for _, d := range ds {
		if d.Target == "" {
			return nil, 0, 0, fmt.Errorf("delivery for story %q has no target", d.StoryID)
		}
		d.ID, d.Attempts, d.LastError, d.Ref, d.Sent, d.Waiting = 0, 0, "", "", time.Time{}, ""
		d.Created = created
		d.Story, d.Stories, d.ParentRef = nil, nil, ""
		if d.Status == "" {
			d.Status = store.StatusPending
		}
		if d.Kind == store.KindFollowUp && d.ParentID == 0 {
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
		if len(d.StoryIDs) == 0 {
			d.StoryIDs = nil
		}
		if d.Status == store.StatusPending {
			d.NextAttempt = truncMillis(d.NextAttempt)
			if d.NextAttempt.IsZero() {
				d.NextAttempt = created
			}
		} else {
			d.NextAttempt = time.Time{}
		}
		args := func() []any {
			return []any{d.Target, d.Kind, d.StoryID, jsonList(d.StoryIDs), d.DedupKey,
				jsonList(d.Rules), jsonList(d.Terms), d.Cluster, d.ParentID, d.Text, d.Status,
				millis(d.NextAttempt), millis(d.Created)}
		}
		stmt := ins
		if d.DedupKey != "" && d.Status != store.StatusDuplicate {
			stmt = dedup
		}
		res, err := stmt.ExecContext(ctx, args()...)
		if err != nil {
			return nil, 0, 0, fmt.Errorf("delivery to %q: %w", d.Target, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, 0, 0, err
		} else if n == 0 {
			// The target already has the story: keep the row as a duplicate.
			d.Status, d.NextAttempt = store.StatusDuplicate, time.Time{}
			if res, err = ins.ExecContext(ctx, args()...); err != nil {
				return nil, 0, 0, fmt.Errorf("delivery to %q: %w", d.Target, err)
			}
		}
		if d.ID, err = res.LastInsertId(); err != nil {
			return nil, 0, 0, err
		}
		switch d.Status {
		case store.StatusPending:
			pending++
			lanes[d.Target] = true
		case store.StatusDuplicate:
			dups++
		}
		out = append(out, d)
	}
	for t := range lanes {
		if _, err := tx.ExecContext(ctx, `INSERT INTO lanes (target) VALUES (?) ON CONFLICT (target) DO NOTHING`, t); err != nil {
			return nil, 0, 0, err
		}
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
       d.parent_id, d.text, d.status, d.attempts, d.next_attempt, d.waiting, d.last_error, d.ref,
       d.created, d.sent, COALESCE(p.ref, '')
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
			msTime{&d.NextAttempt}, &d.Waiting, &d.LastError, &d.Ref, msTime{&d.Created}, msTime{&d.Sent},
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
	if q.StoryID != "" {
		where = append(where, `d.story_id = ? AND d.story_id <> ''`)
		args = append(args, q.StoryID)
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
	if q.StoryID != "" {
		// A story's few rows by the index, not a walk of the log newest
		// first to find them.
		query = strings.Replace(query, "FROM deliveries d\n", "FROM deliveries d INDEXED BY deliveries_story\n", 1)
	}
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

// OutboxDepth counts pending deliveries.
func (s *Store) OutboxDepth(ctx context.Context) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM deliveries WHERE status = 'pending'`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("outbox depth: %w", err)
	}
	return n, nil
}

// Retry puts a failed delivery back to pending, due now, keeping its last
// error and attempts. A delivery in another status is store.ErrConflict.
func (s *Store) Retry(ctx context.Context, id int64) error {
	now := s.now()
	err := s.write(ctx, func(tx *sql.Tx) error {
		var status, target string
		err := tx.QueryRowContext(ctx, `SELECT status, target FROM deliveries WHERE id = ?`, id).Scan(&status, &target)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if status != store.StatusFailed && status != store.StatusPending {
			return fmt.Errorf("status %s: %w", status, store.ErrConflict)
		}
		_, err = tx.ExecContext(ctx,
			`UPDATE deliveries SET status = 'pending', next_attempt = ?, waiting = '' WHERE id = ?`, millis(now), id)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `
INSERT INTO lanes (target) VALUES (?) ON CONFLICT (target) DO UPDATE SET hold_until = 0, hold_reason = ''`, target)
		return err
	})
	if err != nil {
		return fmt.Errorf("retry %d: %w", id, err)
	}
	return nil
}

// Cancel gives a pending delivery up, as failed with reason.
func (s *Store) Cancel(ctx context.Context, id int64, reason string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		var status string
		err := tx.QueryRowContext(ctx, `SELECT status FROM deliveries WHERE id = ?`, id).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if status != store.StatusPending {
			return fmt.Errorf("status %s: %w", status, store.ErrConflict)
		}
		_, err = tx.ExecContext(ctx,
			`UPDATE deliveries SET status = 'failed', next_attempt = NULL, waiting = '', last_error = ? WHERE id = ?`, reason, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("cancel %d: %w", id, err)
	}
	return nil
}

// ClampWaits brings waits past latest forward to it.
func (s *Store) ClampWaits(ctx context.Context, latest time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE deliveries SET next_attempt = ? WHERE status = 'pending' AND next_attempt > ?`, millis(latest), millis(latest))
		if err != nil {
			return err
		}
		rows, _ := res.RowsAffected()
		res, err = tx.ExecContext(ctx, `UPDATE lanes SET hold_until = ? WHERE hold_until > ?`, millis(latest), millis(latest))
		if err != nil {
			return err
		}
		holds, _ := res.RowsAffected()
		n = rows + holds
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("clamp waits: %w", err)
	}
	return int(n), nil
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
