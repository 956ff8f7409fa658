package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// countShards is the number of term_counts rows (terms -1 to -countShards)
// that count the stories between them, so that replicas ingesting at once
// seldom wait for the same row.
const countShards = 16

// TermCounts returns the number of stories counted and how many of them had
// each of terms (absent: none).
func (p planTx) TermCounts(ctx context.Context, terms []uint32) (int64, map[uint32]int64, error) {
	var stories int64
	if err := p.tx.QueryRow(ctx, `SELECT COALESCE(SUM(n), 0)::bigint FROM term_counts WHERE term < 0`).Scan(&stories); err != nil {
		return 0, nil, fmt.Errorf("term counts: %w", err)
	}
	counts := make(map[uint32]int64, len(terms))
	if len(terms) == 0 {
		return stories, counts, nil
	}
	rows, err := p.tx.Query(ctx, `SELECT term, n FROM term_counts WHERE term = ANY($1)`, int64s(terms))
	if err != nil {
		return 0, nil, fmt.Errorf("term counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var term, n int64
		if err := rows.Scan(&term, &n); err != nil {
			return 0, nil, fmt.Errorf("term counts: %w", err)
		}
		counts[uint32(term)] = n
	}
	if err := rows.Err(); err != nil {
		return 0, nil, fmt.Errorf("term counts: %w", err)
	}
	return stories, counts, nil
}

// countTerms adds one to the count of each term in terms (a term listed
// twice counts twice) and stories to the number of stories counted, in one
// of the counting rows chosen by salt. Rows are locked in term order, so
// that two ingests counting the same terms wait for each other rather than
// deadlock.
func countTerms(ctx context.Context, tx pgx.Tx, terms []uint32, stories int, salt string, now time.Time) error {
	if stories == 0 && len(terms) == 0 {
		return nil
	}
	sorted := slices.Clone(terms)
	slices.Sort(sorted)
	if _, err := tx.Exec(ctx, `
INSERT INTO term_counts (term, n, seen)
SELECT t, COUNT(*), $2 FROM unnest($1::bigint[]) t GROUP BY t ORDER BY t
ON CONFLICT (term) DO UPDATE SET n = term_counts.n + excluded.n, seen = excluded.seen`, int64s(sorted), now.UnixMilli()); err != nil {
		return fmt.Errorf("count terms: %w", err)
	}
	h := fnv.New32a()
	h.Write([]byte(salt))
	shard := -1 - int64(h.Sum32()%countShards)
	if _, err := tx.Exec(ctx, `
INSERT INTO term_counts (term, n, seen) VALUES ($1, $2, $3)
ON CONFLICT (term) DO UPDATE SET n = term_counts.n + excluded.n, seen = excluded.seen`, shard, stories, now.UnixMilli()); err != nil {
		return fmt.Errorf("count terms: %w", err)
	}
	return nil
}

// ForgetTerms drops the counts of the terms not seen since before.
func (s *Store) ForgetTerms(ctx context.Context, before time.Time) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM term_counts WHERE seen < $1 AND term >= 0`, before.UnixMilli())
		return err
	})
	if err != nil {
		return fmt.Errorf("forget terms: %w", err)
	}
	return nil
}

// int64s widens term hashes for a bigint array.
func int64s(terms []uint32) []int64 {
	out := make([]int64, len(terms))
	for i, t := range terms {
		out[i] = int64(t)
	}
	return out
}
