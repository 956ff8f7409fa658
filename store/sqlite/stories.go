package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

const storyColumns = `st.id, st.source_id, st.source, st.guid, st.title, st.summary, st.content,
	st.url, st.canonical_url, st.author, st.categories, st.published, st.fetched, st.cluster`

func scanStory(sc interface{ Scan(...any) error }) (story.Story, error) {
	var s story.Story
	err := sc.Scan(&s.ID, &s.SourceID, &s.Source, &s.GUID, &s.Title, &s.Summary, &s.Content,
		&s.URL, &s.CanonicalURL, &s.Author, list{&s.Categories}, msTime{&s.Published}, msTime{&s.Fetched},
		&s.Cluster)
	return s, err
}

// storyInsert inserts a story that is not stored yet.
const storyInsert = `
INSERT INTO stories (id, source_id, source, guid, title, summary, content, url, canonical_url,
	author, categories, published, fetched)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO NOTHING`

// storyUpdate updates the text fields of a stored story, only when one of
// them changed, so that a re-fetch of an unchanged feed leaves the FTS index
// alone.
const storyUpdate = `
UPDATE stories SET title = ?1, summary = ?2, content = ?3, url = ?4, canonical_url = ?5,
	author = ?6, categories = ?7
WHERE id = ?8 AND (title <> ?1 OR summary <> ?2 OR content <> ?3 OR url <> ?4
	OR canonical_url <> ?5 OR author <> ?6 OR categories <> ?7)`

// Ingest inserts a source's stories in one transaction. Stories whose ID is
// already stored are not new; their text fields (title, summary, content, URLs,
// author, categories) are updated. The new ones, in input order and as they
// read back (SourceID set to sourceID, Source defaulting to the source's name,
// Fetched to now, Published to Fetched, times in UTC to the millisecond), go to
// plan; its matches, fingerprints and deliveries are stored in the same
// transaction. A delivery whose (Target, DedupKey) is already queued or
// delivered, or comes earlier in the same call, is stored with status
// duplicate.
func (s *Store) Ingest(ctx context.Context, sourceID int64, stories []story.Story, plan store.PlanFunc) (store.IngestResult, error) {
	var res store.IngestResult
	for i := range stories {
		if stories[i].ID == "" {
			return res, fmt.Errorf("ingest: story %d of %d has no id", i+1, len(stories))
		}
	}
	now := s.now()
	err := s.write(ctx, func(tx *sql.Tx) error {
		res = store.IngestResult{}
		fresh, err := upsertStories(ctx, tx, sourceID, stories, truncMillis(now))
		if err != nil {
			return err
		}
		res.Fresh = len(fresh)
		if len(fresh) == 0 || plan == nil {
			return nil
		}
		p, err := plan(ctx, planTx{tx}, fresh)
		if err != nil {
			return fmt.Errorf("plan: %w", err)
		}
		if err := saveClusters(ctx, tx, fresh); err != nil {
			return err
		}
		if err := saveFingerprints(ctx, tx, p.Fingerprints); err != nil {
			return err
		}
		if res.Matches, err = insertMatches(ctx, tx, p.Matches, now); err != nil {
			return err
		}
		_, res.Deliveries, res.Duplicates, err = insertDeliveries(ctx, tx, p.Deliveries, now)
		return err
	})
	if err != nil {
		return store.IngestResult{}, fmt.Errorf("ingest: %w", err)
	}
	return res, nil
}

// upsertStories stores stories and returns the ones that were new. Whether
// a story is new is decided by its insert (ON CONFLICT DO NOTHING), not by a
// read before it, so that two writers cannot both take one story as new.
func upsertStories(ctx context.Context, tx *sql.Tx, sourceID int64, stories []story.Story, now time.Time) ([]story.Story, error) {
	var sourceName string
	if sourceID != 0 {
		err := tx.QueryRowContext(ctx, `SELECT name FROM sources WHERE id = ?`, sourceID).Scan(&sourceName)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
	}
	insert, err := tx.PrepareContext(ctx, storyInsert)
	if err != nil {
		return nil, err
	}
	defer insert.Close()
	var update *sql.Stmt
	var fresh []story.Story
	for _, st := range stories {
		st.SourceID = sourceID
		if st.Source == "" {
			st.Source = sourceName
		}
		st.Fetched = truncMillis(st.Fetched)
		if st.Fetched.IsZero() {
			st.Fetched = now
		}
		st.Published = truncMillis(st.Published)
		if st.Published.IsZero() {
			st.Published = st.Fetched
		}
		if len(st.Categories) == 0 {
			st.Categories = nil
		}
		cats := jsonList(st.Categories)
		res, err := insert.ExecContext(ctx, st.ID, st.SourceID, st.Source, st.GUID, st.Title, st.Summary,
			st.Content, st.URL, st.CanonicalURL, st.Author, cats, millis(st.Published), millis(st.Fetched))
		if err != nil {
			return nil, fmt.Errorf("story %q: %w", st.ID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, err
		} else if n == 1 {
			fresh = append(fresh, st)
			continue
		}
		if update == nil {
			if update, err = tx.PrepareContext(ctx, storyUpdate); err != nil {
				return nil, err
			}
			defer update.Close()
		}
		if _, err := update.ExecContext(ctx, st.Title, st.Summary, st.Content, st.URL, st.CanonicalURL,
			st.Author, cats, st.ID); err != nil {
			return nil, fmt.Errorf("story %q: %w", st.ID, err)
		}
	}
	return fresh, nil
}

// saveClusters stores the cluster the plan gave each fresh story.
func saveClusters(ctx context.Context, tx *sql.Tx, fresh []story.Story) error {
	var upd *sql.Stmt
	for _, st := range fresh {
		if st.Cluster == "" {
			continue
		}
		if upd == nil {
			var err error
			if upd, err = tx.PrepareContext(ctx, `UPDATE stories SET cluster = ? WHERE id = ?`); err != nil {
				return err
			}
			defer upd.Close()
		}
		if _, err := upd.ExecContext(ctx, st.Cluster, st.ID); err != nil {
			return fmt.Errorf("story %q: cluster: %w", st.ID, err)
		}
	}
	return nil
}

// RuleStories returns the stories rule matched with the match recorded in
// [since, until), newest published first, at most limit, and their total.
func (s *Store) RuleStories(ctx context.Context, rule string, since, until time.Time, limit int) ([]story.Story, int, error) {
	if limit <= 0 {
		limit = 100
	}
	var out []story.Story
	var total int
	err := s.read(ctx, func(tx *sql.Tx) error {
		const where = ` FROM matches m JOIN stories st ON st.id = m.story_id
WHERE m.rule = ? AND m.at >= ? AND m.at < ?`
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*)`+where, rule, since.UnixMilli(), until.UnixMilli()).Scan(&total); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+storyColumns+where+` ORDER BY st.published DESC, st.rid DESC LIMIT ?`,
			rule, since.UnixMilli(), until.UnixMilli(), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			st, err := scanStory(rows)
			if err != nil {
				return err
			}
			out = append(out, st)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, fmt.Errorf("rule stories %q: %w", rule, err)
	}
	return out, total, nil
}

// DigestLast returns when rule's last digest period ended (zero: never).
func (s *Store) DigestLast(ctx context.Context, rule string) (time.Time, error) {
	var at time.Time
	err := s.r.QueryRowContext(ctx, `SELECT last FROM digests WHERE rule = ?`, rule).Scan(msTime{&at})
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, fmt.Errorf("digest state %q: %w", rule, err)
	}
	return at, nil
}

// AdvanceDigest moves rule's last digest period end from prev (zero: none
// yet) to end and enqueues ds in one transaction; when the end is no longer
// prev (another worker advanced it) it changes nothing and reports false.
func (s *Store) AdvanceDigest(ctx context.Context, rule string, prev, end time.Time, ds []store.Delivery) (bool, error) {
	moved := false
	now := s.now()
	err := s.write(ctx, func(tx *sql.Tx) error {
		moved = false
		var res sql.Result
		var err error
		if prev.IsZero() {
			res, err = tx.ExecContext(ctx, `INSERT INTO digests (rule, last) VALUES (?, ?) ON CONFLICT (rule) DO NOTHING`,
				rule, millis(end))
		} else {
			res, err = tx.ExecContext(ctx, `UPDATE digests SET last = ? WHERE rule = ? AND last = ?`,
				millis(end), rule, millis(prev))
		}
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		moved = true
		_, _, _, err = insertDeliveries(ctx, tx, ds, now)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("advance digest %q: %w", rule, err)
	}
	return moved, nil
}

// insertMatches stores matches, at time now, and returns how many were new.
func insertMatches(ctx context.Context, tx *sql.Tx, matches []store.Match, now time.Time) (int, error) {
	if len(matches) == 0 {
		return 0, nil
	}
	ins, err := tx.PrepareContext(ctx, `
INSERT INTO matches (story_id, rule, terms, at) VALUES (?, ?, ?, ?)
ON CONFLICT (story_id, rule) DO NOTHING`)
	if err != nil {
		return 0, err
	}
	defer ins.Close()
	n := 0
	for _, m := range matches {
		r, err := ins.ExecContext(ctx, m.StoryID, m.Rule, jsonList(m.Terms), millis(now))
		if err != nil {
			return 0, fmt.Errorf("match %q/%q: %w", m.StoryID, m.Rule, err)
		}
		k, err := r.RowsAffected()
		if err != nil {
			return 0, err
		}
		n += int(k)
	}
	return n, nil
}

// Stories returns stored stories, newest published first (ties: newest stored
// first). q.Words is rendered as an FTS5 expression over title, summary and
// content.
func (s *Store) Stories(ctx context.Context, q store.StoryQuery) ([]story.Story, error) {
	var where []string
	var args []any
	text := ftsMatch(q.Words)
	if text != "" {
		where = append(where, `st.rid IN (SELECT rowid FROM stories_fts WHERE stories_fts MATCH ?)`)
		args = append(args, text)
	}
	if !q.Since.IsZero() {
		where = append(where, `st.published >= ?`)
		args = append(args, q.Since.UnixMilli())
	}
	if !q.Before.IsZero() {
		where = append(where, `st.published < ?`)
		args = append(args, q.Before.UnixMilli())
	}
	if !q.FetchedSince.IsZero() {
		where = append(where, `st.fetched >= ?`)
		args = append(args, q.FetchedSince.UnixMilli())
	}
	if q.SourceID != 0 {
		where = append(where, `st.source_id = ?`)
		args = append(args, q.SourceID)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	query := `SELECT ` + storyColumns + ` FROM stories st`
	if text != "" && q.SourceID == 0 {
		// Walk stories newest first and probe the FTS hits, stopping at the
		// limit. The planner would rather fetch and sort every hit: over 100k
		// stories that is 85 ms instead of 13 ms for a word in most of them,
		// at the price of 7 ms instead of 0.1 ms for a word in none
		// (docs/PERFORMANCE.md).
		query += ` INDEXED BY stories_published`
	}
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	query += ` ORDER BY st.published DESC, st.rid DESC LIMIT ?`
	args = append(args, limit)

	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("stories %q: %w", text, err)
	}
	defer rows.Close()
	var out []story.Story
	for rows.Next() {
		st, err := scanStory(rows)
		if err != nil {
			return nil, fmt.Errorf("stories %q: %w", text, err)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("stories %q: %w", text, err)
	}
	return out, nil
}

// Story returns one story by id.
func (s *Store) Story(ctx context.Context, id string) (story.Story, error) {
	st, err := scanStory(s.r.QueryRowContext(ctx, `SELECT `+storyColumns+` FROM stories st WHERE st.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return story.Story{}, fmt.Errorf("story %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return story.Story{}, fmt.Errorf("story %q: %w", id, err)
	}
	return st, nil
}

// MatchCounts returns, per rule name, the matches recorded since a time.
func (s *Store) MatchCounts(ctx context.Context, since time.Time) (map[string]int, error) {
	rows, err := s.r.QueryContext(ctx,
		`SELECT rule, COUNT(*) FROM matches WHERE at >= ? GROUP BY rule`, since.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("match counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var rule string
		var n int
		if err := rows.Scan(&rule, &n); err != nil {
			return nil, fmt.Errorf("match counts: %w", err)
		}
		out[rule] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("match counts: %w", err)
	}
	return out, nil
}

// pruneBatch is how many stories one Prune transaction deletes, so that the
// writer is not held for long and ingest goes on between batches.
const pruneBatch = 1000

// pruneOne deletes up to pruneBatch stories fetched before ?1 that no pending
// delivery names, with their FTS rows (trigger) and matches (foreign key).
const pruneOne = `
DELETE FROM stories WHERE rid IN (
	SELECT rid FROM stories
	WHERE fetched < ?1
	  AND id NOT IN (SELECT story_id FROM deliveries WHERE status = 'pending' AND story_id <> '')
	  AND id NOT IN (SELECT j.value FROM deliveries d, json_each(d.story_ids) j
	                 WHERE d.status = 'pending' AND j.value IS NOT NULL)
	LIMIT ?2)`

// Prune deletes stories fetched before a time, with their matches and FTS
// rows, keeping any that a pending delivery names (as story or in its
// stories). It works in batches of pruneBatch and returns how many stories went.
func (s *Store) Prune(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		var n int64
		err := s.write(ctx, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, pruneOne, before.UnixMilli(), pruneBatch)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return total, fmt.Errorf("prune: %w", err)
		}
		total += n
		if n < pruneBatch {
			return total, nil
		}
	}
}
