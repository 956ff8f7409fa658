package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

// planTx is the ingest transaction as a plan sees it.
type planTx struct{ tx *sql.Tx }

// candidatesQuery finds, for each key of the JSON array ?1, the newest ?2
// stories filed under it, and returns each once with its fingerprint, if it
// was fetched at or after ?3.
const candidatesQuery = `
WITH hits AS (
	SELECT k.rid, ROW_NUMBER() OVER (PARTITION BY k.key ORDER BY k.rid DESC) AS n
	FROM fingerprint_keys k
	WHERE k.key IN (SELECT value FROM json_each(?1))
)
SELECT st.id, st.cluster, st.source, st.fetched, f.sig
FROM (SELECT DISTINCT rid FROM hits WHERE n <= ?2) h
JOIN fingerprints f ON f.rid = h.rid
JOIN stories st ON st.rid = h.rid
WHERE st.fetched >= ?3
ORDER BY st.rid DESC`

// Candidates returns the stories fetched at or after since that are filed
// under one of keys: for each key its newest perKey, each story once, newest
// first.
func (p planTx) Candidates(ctx context.Context, keys []uint64, since time.Time, perKey int) ([]store.Candidate, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	rows, err := p.tx.QueryContext(ctx, candidatesQuery, jsonKeys(keys), perKey, since.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("cluster candidates: %w", err)
	}
	defer rows.Close()
	var out []store.Candidate
	for rows.Next() {
		var c store.Candidate
		if err := rows.Scan(&c.StoryID, &c.Cluster, &c.Source, msTime{&c.Fetched}, &c.Sig); err != nil {
			return nil, fmt.Errorf("cluster candidates: %w", err)
		}
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
func saveFingerprints(ctx context.Context, tx *sql.Tx, fps []store.Fingerprint) error {
	if len(fps) == 0 {
		return nil
	}
	type row struct {
		ID   string  `json:"i"`
		Keys []int64 `json:"k"`
	}
	sig, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO fingerprints (rid, sig) SELECT rid, ? FROM stories WHERE id = ?`)
	if err != nil {
		return err
	}
	defer sig.Close()
	rows := make([]row, 0, len(fps))
	for _, fp := range fps {
		if _, err := sig.ExecContext(ctx, fp.Sig, fp.StoryID); err != nil {
			return fmt.Errorf("story %q: fingerprint: %w", fp.StoryID, err)
		}
		r := row{ID: fp.StoryID, Keys: make([]int64, len(fp.Keys))}
		for i, k := range fp.Keys {
			r.Keys[i] = int64(k)
		}
		rows = append(rows, r)
	}
	// Marshalling strings and integers cannot fail.
	b, _ := json.Marshal(rows)
	_, err = tx.ExecContext(ctx, `
INSERT OR IGNORE INTO fingerprint_keys (key, rid)
SELECT k.value, st.rid
FROM json_each(?) r, json_each(r.value, '$.k') k
JOIN stories st ON st.id = r.value ->> '$.i'`, string(b))
	if err != nil {
		return fmt.Errorf("fingerprint keys: %w", err)
	}
	return nil
}

// ForgetFingerprints drops the fingerprints and keys of the stories stored
// before the first story fetched at or after before.
func (s *Store) ForgetFingerprints(ctx context.Context, before time.Time) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		var first sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT MIN(rid) FROM stories WHERE fetched >= ?`, before.UnixMilli()).Scan(&first); err != nil {
			return err
		}
		cutoff := first.Int64
		if !first.Valid {
			if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(rid), 0) + 1 FROM stories`).Scan(&cutoff); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM fingerprints WHERE rid < ?`, cutoff); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM fingerprint_keys WHERE rid < ?`, cutoff)
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
