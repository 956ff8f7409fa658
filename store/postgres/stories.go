package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

const storyColumns = `st.id, st.source_id, st.source, st.guid, st.title, st.summary, st.content,
	st.url, st.canonical_url, st.author, st.categories, st.published, st.fetched, st.cluster, st.cluster_why`

func scanStory(row pgx.Row) (story.Story, error) {
	var s story.Story
	var published *int64
	var fetched int64
	err := row.Scan(&s.ID, &s.SourceID, &s.Source, &s.GUID, &s.Title, &s.Summary, &s.Content,
		&s.URL, &s.CanonicalURL, &s.Author, &s.Categories, &published, &fetched, &s.Cluster, &s.ClusterWhy)
	s.Categories, s.ClusterWhy = nilIfEmpty(s.Categories), nilIfEmpty(s.ClusterWhy)
	s.Published, s.Fetched = timeOf(published), timeOf(&fetched)
	return s, err
}

func collectStories(rows pgx.Rows, err error) ([]story.Story, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []story.Story
	for rows.Next() {
		st, err := scanStory(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// words is the text of a story's full-text index: its title, summary and
// content as the normaliser gives them.
func (s *Store) words(st *story.Story) string {
	return s.normalize(st.Title) + " " + s.normalize(st.Summary) + " " + s.normalize(st.Content)
}

// Ingest inserts a source's stories in one transaction. A story is new when
// its insert wins (ON CONFLICT DO NOTHING decides, so that two replicas
// ingesting one story at once cannot both take it as new); stored ones get
// their text updated where it changed. The new ones go to plan as they read
// back, and its clusters, matches, fingerprints and deliveries are stored in
// the same transaction.
func (s *Store) Ingest(ctx context.Context, sourceID int64, stories []story.Story, plan store.PlanFunc) (store.IngestResult, error) {
	var res store.IngestResult
	for i := range stories {
		if stories[i].ID == "" {
			return res, fmt.Errorf("ingest: story %d of %d has no id", i+1, len(stories))
		}
	}
	now := truncMillis(s.now())
	queued := false
	var err error
	for attempt := 1; ; attempt++ {
		err = s.tx(ctx, func(tx pgx.Tx) error {
			res = store.IngestResult{}
			queued = false
			fresh, stored, err := s.splitStories(ctx, tx, sourceID, stories, now)
			if err != nil {
				return err
			}
			if err := s.updateStories(ctx, tx, stored); err != nil {
				return err
			}
			res.Fresh = len(fresh)
			if len(fresh) == 0 {
				return nil
			}
			// The plan runs before the stories are written, so that each is
			// written once, with its cluster (an update would write a second
			// version of the row and of every index entry, GIN included).
			var p store.Plan
			if plan != nil {
				if p, err = plan(ctx, planTx{tx: tx}, fresh); err != nil {
					return fmt.Errorf("plan: %w", err)
				}
			}
			if err := s.insertStories(ctx, tx, fresh); err != nil {
				return err
			}
			if err := saveFingerprints(ctx, tx, fresh, p.Fingerprints); err != nil {
				return err
			}
			if err := refreshFingerprints(ctx, tx, p.Refresh, now); err != nil {
				return err
			}
			if err := countTerms(ctx, tx, p.Terms, p.TermStories, fresh[0].ID, now); err != nil {
				return err
			}
			if res.Matches, err = insertMatches(ctx, tx, p.Matches, now); err != nil {
				return err
			}
			_, res.Deliveries, res.Duplicates, err = insertDeliveries(ctx, tx, p.Deliveries, now)
			queued = res.Deliveries > 0
			return err
		})
		if !(errors.Is(err, errStoredMeanwhile) || isDeadlock(err)) || attempt == 3 {
			break
		}
	}
	if err != nil {
		return store.IngestResult{}, fmt.Errorf("ingest: %w", err)
	}
	if queued {
		_ = s.notify(ctx, topicOutbox)
	}
	return res, nil
}

// errStoredMeanwhile is a story that another replica stored between this
// transaction's look and its insert: the transaction is done again, and the
// story is then a stored one.
var errStoredMeanwhile = errors.New("a story was stored by another process meanwhile")

// splitStories normalises stories as they are stored and splits them into
// the fresh ones (not stored yet; a story twice in one call is fresh once)
// and the stored ones.
func (s *Store) splitStories(ctx context.Context, tx pgx.Tx, sourceID int64, stories []story.Story, now time.Time) (fresh, stored []story.Story, err error) {
	var sourceName string
	if sourceID != 0 {
		err := tx.QueryRow(ctx, `SELECT name FROM sources WHERE id = $1`, sourceID).Scan(&sourceName)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return nil, nil, err
		}
	}
	ids := make([]string, len(stories))
	for i := range stories {
		ids[i] = stories[i].ID
	}
	have := map[string]bool{}
	rows, err := tx.Query(ctx, `SELECT id FROM stories WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, nil, err
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, nil, err
		}
		have[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	seen := map[string]bool{}
	for _, st := range stories {
		if seen[st.ID] {
			continue
		}
		seen[st.ID] = true
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
		st.Categories = nilIfEmpty(st.Categories)
		st.Cluster, st.ClusterWhy = "", nil
		if have[st.ID] {
			stored = append(stored, st)
		} else {
			fresh = append(fresh, st)
		}
	}
	return fresh, stored, nil
}

// insertStories writes fresh stories with their clusters; one that another
// process stored since splitStories looked is errStoredMeanwhile.
func (s *Store) insertStories(ctx context.Context, tx pgx.Tx, fresh []story.Story) error {
	batch := &pgx.Batch{}
	for _, st := range fresh {
		batch.Queue(`
INSERT INTO stories (id, source_id, source, guid, title, summary, content, url, canonical_url,
	author, categories, published, fetched, words, cluster, cluster_why)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, to_tsvector('simple', $14), $15, $16)
ON CONFLICT (id) DO NOTHING`,
			st.ID, st.SourceID, st.Source, st.GUID, st.Title, st.Summary, st.Content, st.URL, st.CanonicalURL,
			st.Author, list(st.Categories), ms(st.Published), ms(st.Fetched), s.words(&st), st.Cluster, list(st.ClusterWhy))
	}
	results := tx.SendBatch(ctx, batch)
	for _, st := range fresh {
		tag, err := results.Exec()
		if err != nil {
			results.Close()
			return fmt.Errorf("story %q: %w", st.ID, err)
		}
		if tag.RowsAffected() == 0 {
			results.Close()
			return fmt.Errorf("story %q: %w", st.ID, errStoredMeanwhile)
		}
	}
	return results.Close()
}

// updateStories writes the changes of stories already stored.
func (s *Store) updateStories(ctx context.Context, tx pgx.Tx, stored []story.Story) error {
	if len(stored) == 0 {
		return nil
	}
	batch := &pgx.Batch{}
	for _, st := range stored {
		batch.Queue(`
UPDATE stories SET title = $1, summary = $2, content = $3, url = $4, canonical_url = $5, author = $6,
	categories = $7, words = to_tsvector('simple', $9)
WHERE id = $8 AND (title <> $1 OR summary <> $2 OR content <> $3 OR url <> $4 OR canonical_url <> $5
	OR author <> $6 OR categories <> $7)`,
			st.Title, st.Summary, st.Content, st.URL, st.CanonicalURL, st.Author, list(st.Categories), st.ID, s.words(&st))
	}
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("stories: %w", err)
	}
	return nil
}

// insertMatches stores matches, at time now, and returns how many were new.
func insertMatches(ctx context.Context, tx pgx.Tx, matches []store.Match, now time.Time) (int, error) {
	if len(matches) == 0 {
		return 0, nil
	}
	batch := &pgx.Batch{}
	for _, m := range matches {
		batch.Queue(`INSERT INTO matches (story_id, rule, terms, at) VALUES ($1, $2, $3, $4)
ON CONFLICT (story_id, rule) DO NOTHING`, m.StoryID, m.Rule, list(m.Terms), now.UnixMilli())
	}
	results := tx.SendBatch(ctx, batch)
	defer results.Close()
	n := 0
	for _, m := range matches {
		tag, err := results.Exec()
		if err != nil {
			return 0, fmt.Errorf("match %q/%q: %w", m.StoryID, m.Rule, err)
		}
		n += int(tag.RowsAffected())
	}
	return n, results.Close()
}

// tsQuery renders a word condition as a tsquery of the 'simple'
// configuration: a phrase is its words joined by <->, a prefix ends in :*.
// Words are those of the normaliser; anything else in them only separates
// words.
func (s *Store) tsQuery(f *story.WordFilter) string {
	var b strings.Builder
	s.writeTS(&b, f)
	return b.String()
}

func (s *Store) writeTS(b *strings.Builder, f *story.WordFilter) {
	parts, op := f.All, " & "
	switch {
	case f.Phrase != nil:
		var words []string
		for _, w := range f.Phrase {
			words = append(words, strings.Fields(s.normalize(w))...)
		}
		if len(words) == 0 {
			b.WriteString("''") // a phrase of no words: nothing meets it
			return
		}
		for i, w := range words {
			if i > 0 {
				b.WriteString(" <-> ")
			}
			b.WriteString("'" + strings.ReplaceAll(strings.ReplaceAll(w, `\`, `\\`), "'", "''") + "'")
			if f.Prefix && i == len(words)-1 {
				b.WriteString(":*")
			}
		}
		return
	case f.Any != nil:
		parts, op = f.Any, " | "
	}
	for i := range parts {
		if i > 0 {
			b.WriteString(op)
		}
		b.WriteByte('(')
		s.writeTS(b, &parts[i])
		b.WriteByte(')')
	}
}

// Stories returns stored stories, newest published first (ties: newest
// stored first); q.Words is matched against the full-text index.
func (s *Store) Stories(ctx context.Context, q store.StoryQuery) ([]story.Story, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if q.Words != nil {
		where = append(where, `st.words @@ to_tsquery('simple', `+arg(s.tsQuery(q.Words))+`)`)
	}
	if !q.Since.IsZero() {
		where = append(where, `st.published >= `+arg(q.Since.UnixMilli()))
	}
	if !q.Before.IsZero() {
		where = append(where, `st.published < `+arg(q.Before.UnixMilli()))
	}
	if !q.FetchedSince.IsZero() {
		where = append(where, `st.fetched >= `+arg(q.FetchedSince.UnixMilli()))
	}
	if q.SourceID != 0 {
		where = append(where, `st.source_id = `+arg(q.SourceID))
	}
	if q.Cluster != "" {
		where = append(where, `st.cluster = `+arg(q.Cluster))
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	query := `SELECT ` + storyColumns + ` FROM stories st`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	query += ` ORDER BY st.published DESC NULLS LAST, st.rid DESC LIMIT ` + arg(limit)
	out, err := collectStories(s.pool.Query(ctx, query, args...))
	if err != nil {
		return nil, fmt.Errorf("stories: %w", err)
	}
	return out, nil
}

// Story returns one story by id.
func (s *Store) Story(ctx context.Context, id string) (story.Story, error) {
	st, err := scanStory(s.pool.QueryRow(ctx, `SELECT `+storyColumns+` FROM stories st WHERE st.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return story.Story{}, fmt.Errorf("story %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return story.Story{}, fmt.Errorf("story %q: %w", id, err)
	}
	return st, nil
}

// MatchCounts returns, per rule name, the matches recorded since a time.
func (s *Store) MatchCounts(ctx context.Context, since time.Time) (map[string]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT rule, COUNT(*) FROM matches WHERE at >= $1 GROUP BY rule`, since.UnixMilli())
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

// pruneBatch is how many stories one Prune transaction deletes.
const pruneBatch = 1000

// Prune deletes stories fetched before a time, with their matches, keeping
// any that a pending delivery names, in batches of pruneBatch.
func (s *Store) Prune(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		tag, err := s.pool.Exec(ctx, `
DELETE FROM stories WHERE rid IN (
	SELECT st.rid FROM stories st
	WHERE st.fetched < $1
	  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.status = 'pending' AND d.story_id = st.id)
	  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.status = 'pending' AND d.story_ids @> ARRAY[st.id])
	LIMIT $2)`, before.UnixMilli(), pruneBatch)
		if err != nil {
			return total, fmt.Errorf("prune: %w", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < pruneBatch {
			return total, nil
		}
	}
}

// RuleStories returns the stories rule matched with the match recorded in
// [since, until), newest published first, at most limit, and their total.
func (s *Store) RuleStories(ctx context.Context, rule string, since, until time.Time, limit int) ([]story.Story, int, error) {
	if limit <= 0 {
		limit = 100
	}
	const where = ` FROM matches m JOIN stories st ON st.id = m.story_id
WHERE m.rule = $1 AND m.at >= $2 AND m.at < $3`
	var total int
	if err := s.pool.QueryRow(ctx, `SELECT COUNT(*)`+where, rule, since.UnixMilli(), until.UnixMilli()).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("rule stories %q: %w", rule, err)
	}
	out, err := collectStories(s.pool.Query(ctx, `SELECT `+storyColumns+where+` ORDER BY st.published DESC, st.rid DESC LIMIT $4`,
		rule, since.UnixMilli(), until.UnixMilli(), limit))
	if err != nil {
		return nil, 0, fmt.Errorf("rule stories %q: %w", rule, err)
	}
	return out, total, nil
}

// DigestLast returns when rule's last digest period ended (zero: never).
func (s *Store) DigestLast(ctx context.Context, rule string) (time.Time, error) {
	var last int64
	err := s.pool.QueryRow(ctx, `SELECT last FROM digests WHERE rule = $1`, rule).Scan(&last)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("digest state %q: %w", rule, err)
	}
	return timeOf(&last), nil
}

// AdvanceDigest moves rule's last digest period end from prev (zero: none
// yet) to end and enqueues ds in one transaction; the row's lock makes a
// second worker reading the same prev find it moved, change nothing and
// report false.
func (s *Store) AdvanceDigest(ctx context.Context, rule string, prev, end time.Time, ds []store.Delivery) (bool, error) {
	moved := false
	now := s.now()
	err := s.tx(ctx, func(tx pgx.Tx) error {
		moved = false
		var sql string
		args := []any{rule, end.UnixMilli()}
		if prev.IsZero() {
			sql = `INSERT INTO digests (rule, last) VALUES ($1, $2) ON CONFLICT (rule) DO NOTHING`
		} else {
			sql = `UPDATE digests SET last = $2 WHERE rule = $1 AND last = $3`
			args = append(args, prev.UnixMilli())
		}
		tag, err := tx.Exec(ctx, sql, args...)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		moved = true
		_, _, _, err = insertDeliveries(ctx, tx, ds, now)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("advance digest %q: %w", rule, err)
	}
	if moved && len(ds) > 0 {
		_ = s.notify(ctx, topicOutbox)
	}
	return moved, nil
}
