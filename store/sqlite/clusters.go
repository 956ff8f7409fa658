package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

// planTx is the ingest transaction as a plan sees it.
type planTx struct{ tx *sql.Tx }

// Candidates returns the stories fetched at or after since that are filed
// under one of keys: for each key its newest perKey, each story once (with
// the keys it was found under), newest first. The keys' rows are read from
// their index alone, and only the chosen stories' narrow fingerprint rows
// are then read.
func (p planTx) Candidates(ctx context.Context, keys []uint64, since time.Time, perKey int) ([]store.Candidate, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	// The newest perKey rows of each key: from the perKey-th newest on, so
	// that a crowded key costs no more to read than any other.
	rows, err := p.tx.QueryContext(ctx, `
SELECT k.key, k.rid FROM json_each(?1) j JOIN fingerprint_keys k ON k.key = j.value
WHERE k.rid >= COALESCE((SELECT n.rid FROM fingerprint_keys n WHERE n.key = j.value
                         ORDER BY n.rid DESC LIMIT 1 OFFSET ?2), 0)
ORDER BY k.key, k.rid DESC`, jsonKeys(keys), perKey-1)
	if err != nil {
		return nil, fmt.Errorf("cluster candidates: %w", err)
	}
	found := map[int64][]uint64{} // rid → keys
	var last int64
	n := 0
	for rows.Next() {
		var key, rid int64
		if err := rows.Scan(&key, &rid); err != nil {
			rows.Close()
			return nil, fmt.Errorf("cluster candidates: %w", err)
		}
		if key != last || n == 0 {
			last, n = key, 0
		}
		if n++; n <= perKey {
			found[rid] = append(found[rid], uint64(key))
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cluster candidates: %w", err)
	}
	if len(found) == 0 {
		return nil, nil
	}
	rids := make([]int64, 0, len(found))
	for rid := range found {
		rids = append(rids, rid)
	}
	rows, err = p.tx.QueryContext(ctx, `
SELECT f.rid, f.story_id, f.cluster, f.source, f.fetched, f.sig
FROM json_each(?) r JOIN fingerprints f ON f.rid = r.value
WHERE f.fetched >= ? ORDER BY f.rid DESC`, jsonIDs(rids), since.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("cluster candidates: %w", err)
	}
	defer rows.Close()
	var out []store.Candidate
	for rows.Next() {
		var c store.Candidate
		var rid int64
		if err := rows.Scan(&rid, &c.StoryID, &c.Cluster, &c.Source, msTime{&c.Fetched}, &c.Sig); err != nil {
			return nil, fmt.Errorf("cluster candidates: %w", err)
		}
		c.Keys = found[rid]
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cluster candidates: %w", err)
	}
	return out, nil
}

// ClusterSources returns the distinct sources of a cluster's stories fetched
// at or after since, in the order they first carried it.
func (p planTx) ClusterSources(ctx context.Context, cluster string, since time.Time) ([]string, error) {
	rows, err := p.tx.QueryContext(ctx, `
SELECT source FROM stories WHERE cluster = ? AND cluster <> '' AND fetched >= ?
GROUP BY source ORDER BY MIN(fetched), MIN(rid)`, cluster, since.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("cluster sources: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var src string
		if err := rows.Scan(&src); err != nil {
			return nil, fmt.Errorf("cluster sources: %w", err)
		}
		out = append(out, src)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cluster sources: %w", err)
	}
	return out, nil
}

// jsonKeys encodes keys as a JSON array of the signed integers SQLite keeps.
func jsonKeys(keys []uint64) string {
	b := make([]byte, 0, len(keys)*21+2)
	b = append(b, '[')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(k), 10)
	}
	return string(append(b, ']'))
}

// saveFingerprints files the fingerprints of fresh stories under their keys.
func saveFingerprints(ctx context.Context, tx *sql.Tx, fresh []story.Story, fps []store.Fingerprint) error {
	if len(fps) == 0 {
		return nil
	}
	byID := make(map[string]*story.Story, len(fresh))
	for i := range fresh {
		byID[fresh[i].ID] = &fresh[i]
	}
	ins, err := tx.PrepareContext(ctx, `
INSERT OR REPLACE INTO fingerprints (rid, story_id, cluster, source, fetched, sig)
SELECT rid, id, ?, ?, ?, ? FROM stories WHERE id = ? RETURNING rid`)
	if err != nil {
		return err
	}
	defer ins.Close()
	var keys []int64 // pairs: key, rid
	for _, fp := range fps {
		st := byID[fp.StoryID]
		if st == nil {
			return fmt.Errorf("fingerprint of %q: not a fresh story of this ingest", fp.StoryID)
		}
		var rid int64
		if err := ins.QueryRowContext(ctx, st.Cluster, st.Source, millis(st.Fetched), fp.Sig, fp.StoryID).Scan(&rid); err != nil {
			return fmt.Errorf("story %q: fingerprint: %w", fp.StoryID, err)
		}
		for _, k := range fp.Keys {
			keys = append(keys, int64(k), rid)
		}
	}
	_, err = tx.ExecContext(ctx, `
INSERT OR IGNORE INTO fingerprint_keys (key, rid)
SELECT value ->> 0, value ->> 1 FROM json_each(?)`, jsonPairs(keys))
	if err != nil {
		return fmt.Errorf("fingerprint keys: %w", err)
	}
	return nil
}

// refreshFingerprints moves the fetch time of the fingerprints of stories
// ids up to now, for the verbatim copies that stand in for them.
func refreshFingerprints(ctx context.Context, tx *sql.Tx, ids []string, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `
UPDATE fingerprints SET fetched = ?1
WHERE fetched < ?1 AND rid IN (SELECT st.rid FROM json_each(?2) j JOIN stories st ON st.id = j.value)`,
		now.UnixMilli(), jsonList(ids))
	if err != nil {
		return fmt.Errorf("refresh fingerprints: %w", err)
	}
	return nil
}

// jsonPairs encodes a flat list of (key, rid) pairs as a JSON array of
// two-element arrays.
func jsonPairs(flat []int64) string {
	b := make([]byte, 0, len(flat)*12+2)
	b = append(b, '[')
	for i := 0; i+1 < len(flat); i += 2 {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, flat[i], 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, flat[i+1], 10)
		b = append(b, ']')
	}
	return string(append(b, ']'))
}

// ForgetFingerprints drops the fingerprints of the stories fetched before
// a time, and the keys of every story stored before the oldest fingerprint
// kept.
func (s *Store) ForgetFingerprints(ctx context.Context, before time.Time) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM fingerprints WHERE fetched < ?`, before.UnixMilli()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `
DELETE FROM fingerprint_keys WHERE rid < (SELECT COALESCE(MIN(rid), 1 << 62) FROM fingerprints)`)
		return err
	})
	if err != nil {
		return fmt.Errorf("forget fingerprints: %w", err)
	}
	return nil
}

// ftsMatch renders a word condition as an FTS5 expression over title,
// summary and content ("" for none): a phrase is quoted, a prefix gets " *".
func ftsMatch(f *story.WordFilter) string {
	if f == nil {
		return ""
	}
	var b strings.Builder
	writeFTS(&b, f)
	return b.String()
}

func writeFTS(b *strings.Builder, f *story.WordFilter) {
	parts, op := f.All, " AND "
	switch {
	case f.Phrase != nil:
		b.WriteByte('"')
		b.WriteString(strings.ReplaceAll(strings.Join(f.Phrase, " "), `"`, `""`))
		b.WriteByte('"')
		if f.Prefix {
			b.WriteString(" *")
		}
		return
	case f.Any != nil:
		parts, op = f.Any, " OR "
	}
	for i := range parts {
		if i > 0 {
			b.WriteString(op)
		}
		nested := parts[i].Phrase == nil
		if nested {
			b.WriteByte('(')
		}
		writeFTS(b, &parts[i])
		if nested {
			b.WriteByte(')')
		}
	}
}
