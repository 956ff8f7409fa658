package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"
)

// storiesCounted is the term_counts row that counts the stories.
const storiesCounted = -1

// TermCounts returns the number of stories counted and how many of them had
// each of terms (absent: none).
func (p planTx) TermCounts(ctx context.Context, terms []uint32) (int64, map[uint32]int64, error) {
	var stories int64
	if err := p.tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(n), 0) FROM term_counts WHERE term < 0`).Scan(&stories); err != nil {
		return 0, nil, fmt.Errorf("term counts: %w", err)
	}
	counts := make(map[uint32]int64, len(terms))
	if len(terms) == 0 {
		return stories, counts, nil
	}
	rows, err := p.tx.QueryContext(ctx, `
SELECT t.term, t.n FROM json_each(?) j JOIN term_counts t ON t.term = j.value`, jsonTerms(terms))
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
// twice counts twice) and stories to the number of stories counted.
func countTerms(ctx context.Context, tx *sql.Tx, terms []uint32, stories int, now time.Time) error {
	if stories == 0 && len(terms) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `
INSERT INTO term_counts (term, n, seen) SELECT value, 1, ?2 FROM json_each(?1) WHERE true
ON CONFLICT (term) DO UPDATE SET n = n + 1, seen = excluded.seen`, jsonTerms(terms), now.UnixMilli()); err != nil {
		return fmt.Errorf("count terms: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `
INSERT INTO term_counts (term, n, seen) VALUES (?1, ?2, ?3)
ON CONFLICT (term) DO UPDATE SET n = n + excluded.n, seen = excluded.seen`, storiesCounted, stories, now.UnixMilli()); err != nil {
		return fmt.Errorf("count terms: %w", err)
	}
	return nil
}

// ForgetTerms drops the counts of the terms not seen since before.
func (s *Store) ForgetTerms(ctx context.Context, before time.Time) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM term_counts WHERE seen < ? AND term >= 0`, before.UnixMilli())
		return err
	})
	if err != nil {
		return fmt.Errorf("forget terms: %w", err)
	}
	return nil
}

// jsonTerms encodes terms as a JSON array of numbers.
func jsonTerms(terms []uint32) string {
	b := make([]byte, 0, len(terms)*11+2)
	b = append(b, '[')
	for i, t := range terms {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, uint64(t), 10)
	}
	return string(append(b, ']'))
}
