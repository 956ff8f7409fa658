package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

// planTx is the ingest transaction as a plan sees it.
type planTx struct{ tx pgx.Tx }

// Candidates returns the stories fetched at or after since that are filed
// under one of keys: for each key its newest perKey, each story once (with
// the keys it was found under), newest first.
//
// Two replicas must not decide the clusters of two copies of one story at
// once, each unaware of the other. So before it reads, the transaction
// takes an advisory lock on every key (in key order, so that two
// transactions never wait on each other in a circle), held until it
// commits: a copy ingested at the same moment elsewhere waits, then finds
// this one's fingerprint.
func (p planTx) Candidates(ctx context.Context, keys []uint64, since time.Time, perKey int) ([]store.Candidate, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	signed := make([]int64, len(keys))
	for i, k := range keys {
		signed[i] = int64(k)
	}
	slices.Sort(signed)
	signed = slices.Compact(signed)
	if _, err := p.tx.Exec(ctx, `
SELECT pg_advisory_xact_lock(k) FROM (SELECT unnest($1::bigint[]) AS k ORDER BY 1) s`, signed); err != nil {
		return nil, fmt.Errorf("cluster candidates: %w", err)
	}
	rows, err := p.tx.Query(ctx, `
SELECT k.key, n.rid FROM unnest($1::bigint[]) k(key)
CROSS JOIN LATERAL (SELECT rid FROM fingerprint_keys f WHERE f.key = k.key ORDER BY rid DESC LIMIT $2) n`,
		signed, perKey)
	if err != nil {
		return nil, fmt.Errorf("cluster candidates: %w", err)
	}
	found := map[int64][]uint64{}
	for rows.Next() {
		var key, rid int64
		if err := rows.Scan(&key, &rid); err != nil {
			rows.Close()
			return nil, fmt.Errorf("cluster candidates: %w", err)
		}
		found[rid] = append(found[rid], uint64(key))
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
	rows, err = p.tx.Query(ctx, `
SELECT rid, story_id, cluster, source, fetched, sig FROM fingerprints
WHERE rid = ANY($1) AND fetched >= $2 ORDER BY rid DESC`, rids, since.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("cluster candidates: %w", err)
	}
	defer rows.Close()
	var out []store.Candidate
	for rows.Next() {
		var c store.Candidate
		var rid, fetched int64
		if err := rows.Scan(&rid, &c.StoryID, &c.Cluster, &c.Source, &fetched, &c.Sig); err != nil {
			return nil, fmt.Errorf("cluster candidates: %w", err)
		}
		c.Fetched, c.Keys = timeOf(&fetched), found[rid]
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
	rows, err := p.tx.Query(ctx, `
SELECT source FROM stories WHERE cluster = $1 AND cluster <> '' AND fetched >= $2
GROUP BY source ORDER BY MIN(fetched), MIN(rid)`, cluster, since.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("cluster sources: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("cluster sources: %w", err)
	}
	return out, nil
}

// saveFingerprints files the fingerprints of fresh stories under their keys.
func saveFingerprints(ctx context.Context, tx pgx.Tx, fresh []story.Story, fps []store.Fingerprint) error {
	if len(fps) == 0 {
		return nil
	}
	byID := make(map[string]*story.Story, len(fresh))
	for i := range fresh {
		byID[fresh[i].ID] = &fresh[i]
	}
	batch := &pgx.Batch{}
	for _, fp := range fps {
		st := byID[fp.StoryID]
		if st == nil {
			return fmt.Errorf("fingerprint of %q: not a fresh story of this ingest", fp.StoryID)
		}
		keys := make([]int64, len(fp.Keys))
		for i, k := range fp.Keys {
			keys[i] = int64(k)
		}
		batch.Queue(`
WITH f AS (
	INSERT INTO fingerprints (rid, story_id, cluster, source, fetched, sig)
	SELECT rid, id, $2, $3, $4, $5 FROM stories WHERE id = $1
	ON CONFLICT (rid) DO UPDATE SET cluster = excluded.cluster, fetched = excluded.fetched, sig = excluded.sig
	RETURNING rid)
INSERT INTO fingerprint_keys (key, rid) SELECT k, f.rid FROM f, unnest($6::bigint[]) k
ON CONFLICT DO NOTHING`, fp.StoryID, st.Cluster, st.Source, ms0(st.Fetched), fp.Sig, keys)
	}
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("fingerprints: %w", err)
	}
	return nil
}

// refreshFingerprints moves the fetch time of the fingerprints of stories
// ids up to now, for the verbatim copies that stand in for them.
func refreshFingerprints(ctx context.Context, tx pgx.Tx, ids []string, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `
UPDATE fingerprints SET fetched = $1
WHERE fetched < $1 AND rid IN (SELECT rid FROM stories WHERE id = ANY($2))`, now.UnixMilli(), ids)
	if err != nil {
		return fmt.Errorf("refresh fingerprints: %w", err)
	}
	return nil
}

// ForgetFingerprints drops the fingerprints of the stories fetched before a
// time, with their keys.
func (s *Store) ForgetFingerprints(ctx context.Context, before time.Time) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
WITH gone AS (DELETE FROM fingerprints WHERE fetched < $1 RETURNING rid)
DELETE FROM fingerprint_keys WHERE rid IN (SELECT rid FROM gone)`, before.UnixMilli())
		return err
	})
	if err != nil {
		return fmt.Errorf("forget fingerprints: %w", err)
	}
	return nil
}
