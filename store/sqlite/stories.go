package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

const storyColumns = `st.id, st.source_id, st.source, st.guid, st.title, st.summary, st.content,
	st.url, st.canonical_url, st.author, st.categories, st.published, st.fetched, st.cluster, st.cluster_why`

func scanStory(sc interface{ Scan(...any) error }) (story.Story, error) {
	var s story.Story
	err := sc.Scan(&s.ID, &s.SourceID, &s.Source, &s.GUID, &s.Title, &s.Summary, &s.Content,
		&s.URL, &s.CanonicalURL, &s.Author, list{&s.Categories}, msTime{&s.Published}, msTime{&s.Fetched},
		&s.Cluster, list{&s.ClusterWhy})
	return s, err
}

// storyUpdate updates the text fields of a stored story, only when one of
// them changed, so that a re-fetch of an unchanged feed leaves the FTS index
// alone.
const storyUpdate = `
UPDATE stories SET title = ?1, summary = ?2, content = ?3, url = ?4, canonical_url = ?5,
	author = ?6, categories = ?7
WHERE id = ?8 AND (title <> ?1 OR summary <> ?2 OR content <> ?3 OR url <> ?4
	OR canonical_url <> ?5 OR author <> ?6 OR categories <> ?7)`

// Ingest inserts a source's stories. Stories whose ID is already stored are
// not new; their text fields (title, summary, content, URLs, author,
// categories) are updated. The new ones, in input order and as they read back
// (SourceID set to sourceID, Source defaulting to the source's name, Fetched
// to now, Published to Fetched, times in UTC to the millisecond), go to plan;
// its matches, fingerprints and deliveries are stored with them, all or
// nothing. A delivery whose (Target, DedupKey) is already queued or
// delivered, or comes earlier in the same call, is stored with status
// duplicate.
//
// Ingests that arrive while another is being written are written together,
// in one transaction, each within a savepoint of its own (group commit): a
// commit costs about the same for one fetch or ten, and the fetch workers
// outpace one writer. One ingest's failure rolls back its part only.
func (s *Store) Ingest(ctx context.Context, sourceID int64, stories []story.Story, plan store.PlanFunc) (store.IngestResult, error) {
	for i := range stories {
		if stories[i].ID == "" {
			return store.IngestResult{}, fmt.Errorf("ingest: story %d of %d has no id", i+1, len(stories))
		}
	}
	if err := ctx.Err(); err != nil {
		return store.IngestResult{}, fmt.Errorf("ingest: %w", err)
	}
	job := &ingestJob{ctx: ctx, sourceID: sourceID, stories: stories, plan: plan}
	s.ingestMu.Lock()
	s.ingestQueue = append(s.ingestQueue, job)
	if s.ingesting {
		job.done = make(chan struct{})
		s.ingestMu.Unlock()
		<-job.done
	} else {
		// This caller writes every group that queues up until none is left.
		s.ingesting = true
		for {
			group := s.ingestQueue
			s.ingestQueue = nil
			s.ingestMu.Unlock()
			s.ingestGroup(group)
			s.ingestMu.Lock()
			if len(s.ingestQueue) == 0 {
				s.ingesting = false
				s.ingestMu.Unlock()
				break
			}
		}
	}
	if job.err != nil {
		return store.IngestResult{}, fmt.Errorf("ingest: %w", job.err)
	}
	return job.res, nil
}

// ingestJob is one Ingest call waiting for, or written by, a group commit.
type ingestJob struct {
	ctx      context.Context
	sourceID int64
	stories  []story.Story
	plan     store.PlanFunc

	res  store.IngestResult
	err  error
	done chan struct{} // closed when written (nil for the caller that writes)
}

// ingestGroup writes a group of ingests in one transaction and hands each
// its result. When one of them fails, the transaction is rolled back, that
// one gets its error, and the others are written again without it: a
// savepoint per ingest would make SQLite copy every page it touches to the
// statement journal and FTS5 flush its pending terms at each one, which
// costs more than the group saves.
func (s *Store) ingestGroup(group []*ingestJob) {
	defer func() {
		for _, j := range group {
			if j.done != nil {
				close(j.done)
			}
		}
	}()
	now := s.now()
	var live []*ingestJob
	for _, j := range group {
		if err := j.ctx.Err(); err != nil {
			j.err = err
		} else {
			live = append(live, j)
		}
	}
	for len(live) > 0 {
		var failed *ingestJob
		// The transaction outlives any one caller's cancellation: a
		// cancelled caller's statements fail, and the others go again.
		err := s.write(context.WithoutCancel(live[0].ctx), func(tx *sql.Tx) error {
			for _, j := range live {
				if j.res, j.err = ingestOne(j.ctx, tx, j, now); j.err != nil {
					failed = j
					return j.err
				}
			}
			return nil
		})
		if failed == nil {
			if err != nil {
				for _, j := range live {
					j.res, j.err = store.IngestResult{}, err
				}
			}
			return
		}
		failed.res = store.IngestResult{}
		live = slices.DeleteFunc(live, func(j *ingestJob) bool { return j == failed })
	}
}

// ingestOne writes one ingest inside the group's transaction.
func ingestOne(ctx context.Context, tx *sql.Tx, j *ingestJob, now time.Time) (store.IngestResult, error) {
	var res store.IngestResult
	fresh, stored, err := splitStories(ctx, tx, j.sourceID, j.stories, truncMillis(now))
	if err != nil {
		return res, err
	}
	if err := updateStories(ctx, tx, stored); err != nil {
		return res, err
	}
	res.Fresh = len(fresh)
	var p store.Plan
	if len(fresh) > 0 && j.plan != nil {
		if p, err = j.plan(ctx, planTx{tx}, fresh); err != nil {
			return res, fmt.Errorf("plan: %w", err)
		}
	}
	if err := insertStories(ctx, tx, fresh); err != nil {
		return res, err
	}
	if err := saveFingerprints(ctx, tx, fresh, p.Fingerprints); err != nil {
		return res, err
	}
	if err := refreshFingerprints(ctx, tx, p.Refresh, now); err != nil {
		return res, err
	}
	if err := countTerms(ctx, tx, p.Terms, p.TermStories, now); err != nil {
		return res, err
	}
	if res.Matches, err = insertMatches(ctx, tx, p.Matches, now); err != nil {
		return res, err
	}
	_, res.Deliveries, res.Duplicates, err = insertDeliveries(ctx, tx, p.Deliveries, now)
	return res, err
}

// splitStories normalises stories as they are stored and splits them into
// the fresh ones (not stored yet, not inserted here) and the stored ones. The
// write transaction is the only one on the file while it runs, so the read
// cannot race another writer; a story twice in one call is fresh once.
func splitStories(ctx context.Context, tx *sql.Tx, sourceID int64, stories []story.Story, now time.Time) (fresh, stored []story.Story, err error) {
	var sourceName string
	if sourceID != 0 {
		err := tx.QueryRowContext(ctx, `SELECT name FROM sources WHERE id = ?`, sourceID).Scan(&sourceName)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, nil, err
		}
	}
	ids := make([]string, len(stories))
	for i := range stories {
		ids[i] = stories[i].ID
	}
	seen := map[string]bool{}
	rows, err := tx.QueryContext(ctx, `SELECT st.id FROM json_each(?) j JOIN stories st ON st.id = j.value`, jsonList(ids))
	if err != nil {
		return nil, nil, err
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, nil, err
		}
		seen[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
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
		st.Cluster, st.ClusterWhy = "", nil
		if seen[st.ID] {
			stored = append(stored, st)
			continue
		}
		seen[st.ID] = true
		fresh = append(fresh, st)
	}
	return fresh, stored, nil
}

// insertStories stores fresh stories with the clusters the plan gave them,
// in one statement: SQLite asks the FTS5 index to flush its pending terms at
// the start of every statement that writes to it (through the insert
// trigger), so a statement per story would write a tiny index segment per
// story and spend the commit merging them.
func insertStories(ctx context.Context, tx *sql.Tx, fresh []story.Story) error {
	if len(fresh) == 0 {
		return nil
	}
	type row struct {
		ID           string `json:"id"`
		Source       string `json:"source"`
		GUID         string `json:"guid"`
		Title        string `json:"title"`
		Summary      string `json:"summary"`
		Content      string `json:"content"`
		URL          string `json:"url"`
		CanonicalURL string `json:"canonical_url"`
		Author       string `json:"author"`
		Categories   string `json:"categories"`
		Published    any    `json:"published"`
		Fetched      any    `json:"fetched"`
		Cluster      string `json:"cluster"`
		ClusterWhy   string `json:"cluster_why"`
	}
	rows := make([]row, len(fresh))
	for i, st := range fresh {
		rows[i] = row{st.ID, st.Source, st.GUID, st.Title, st.Summary, st.Content, st.URL, st.CanonicalURL,
			st.Author, jsonList(st.Categories), millis(st.Published), millis(st.Fetched), st.Cluster, jsonList(st.ClusterWhy)}
	}
	b, err := json.Marshal(rows)
	if err != nil {
		return fmt.Errorf("stories: %w", err)
	}
	_, err = tx.ExecContext(ctx, `
INSERT INTO stories (id, source_id, source, guid, title, summary, content, url, canonical_url,
	author, categories, published, fetched, cluster, cluster_why)
SELECT value ->> 'id', ?1, value ->> 'source', value ->> 'guid', value ->> 'title', value ->> 'summary',
	value ->> 'content', value ->> 'url', value ->> 'canonical_url', value ->> 'author',
	value ->> 'categories', value ->> 'published', value ->> 'fetched', value ->> 'cluster',
	value ->> 'cluster_why'
FROM json_each(?2)`, fresh[0].SourceID, string(b))
	if err != nil {
		return fmt.Errorf("stories: %w", err)
	}
	return nil
}

// updateStories updates the text of stored stories where it changed.
func updateStories(ctx context.Context, tx *sql.Tx, stored []story.Story) error {
	if len(stored) == 0 {
		return nil
	}
	update, err := tx.PrepareContext(ctx, storyUpdate)
	if err != nil {
		return err
	}
	defer update.Close()
	for _, st := range stored {
		if _, err := update.ExecContext(ctx, st.Title, st.Summary, st.Content, st.URL, st.CanonicalURL,
			st.Author, jsonList(st.Categories), st.ID); err != nil {
			return fmt.Errorf("story %q: %w", st.ID, err)
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
	if q.Cluster != "" {
		// The cluster's few stories by its index, not a walk of every
		// story newest first to find them.
		where = append(where, `st.cluster = ? AND st.cluster <> ''`)
		args = append(args, q.Cluster)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	query := `SELECT ` + storyColumns + ` FROM stories st`
	if text != "" && q.SourceID == 0 && q.Cluster == "" {
		many, err := s.manyHits(ctx, text, limit)
		if err != nil {
			return nil, fmt.Errorf("stories %q: %w", text, err)
		}
		if many {
			// Walk stories newest first and probe the FTS hits, stopping at
			// the limit. The planner would rather fetch and sort every hit:
			// over 100k stories that is 85 ms instead of 13 ms for a word in
			// most of them. For a rare word the walk would read the whole
			// window (180 ms over 1M stories), so there the planner's way
			// stands (docs/PERFORMANCE.md).
			query += ` INDEXED BY stories_published`
		}
	} else if q.Cluster != "" {
		query += ` INDEXED BY stories_cluster`
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

// manyHits reports whether an FTS expression has so many hits that walking
// the stories newest first finds limit of them sooner than fetching and
// sorting every hit. The walk probes ~N·limit/hits stories (N stories
// stored), at ~0.2 µs each; fetching a hit's row to sort it costs ~2 µs: so
// walk when hits > √(N·limit/10). It counts no more hits than that.
func (s *Store) manyHits(ctx context.Context, text string, limit int) (bool, error) {
	var n int64
	if err := s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(rid), 0) FROM stories`).Scan(&n); err != nil {
		return false, err
	}
	enough := int(math.Sqrt(float64(n)*float64(limit)/10)) + 1
	var hits int
	err := s.r.QueryRowContext(ctx, `
SELECT COUNT(*) FROM (SELECT 1 FROM stories_fts WHERE stories_fts MATCH ? LIMIT ?)`, text, enough).Scan(&hits)
	return hits >= enough, err
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
