package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wirewatch/wirewatch/store"
)

// matchDays counts alerts as store.AlertDefinition says: distinct clusters
// (a story without one stands for itself) of matched stories that have a
// delivery sent, summarised or waiting, or whose rule is a digest rule.
// Days are numbered from the Unix epoch (UTC): grouping by a number is
// cheaper than by a formatted date.
const matchDays = `
SELECT m.rule, m.at / 86400000 AS day,
       COUNT(DISTINCT CASE WHEN st.cluster <> '' THEN st.cluster ELSE st.id END)
FROM matches m
JOIN stories st ON st.id = m.story_id
LEFT JOIN rules r ON r.name = m.rule
WHERE m.at >= $1
  AND (COALESCE(r.digest, '') <> ''
       OR EXISTS (SELECT 1 FROM deliveries d
                  WHERE d.story_id = m.story_id AND d.story_id <> ''
                    AND d.status IN ('pending', 'sent', 'summarised')))
GROUP BY m.rule, day
ORDER BY m.rule, day`

// MatchDays counts the alerts per rule and UTC day since a time.
func (s *Store) MatchDays(ctx context.Context, since time.Time) ([]store.AlertDay, error) {
	rows, err := s.pool.Query(ctx, matchDays, since.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("alert counts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.AlertDay, error) {
		var d store.AlertDay
		var day int64
		err := row.Scan(&d.Rule, &day, &d.Alerts)
		d.Day = store.EpochDay(day)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("alert counts: %w", err)
	}
	return out, nil
}

// StoryMatches returns the matches recorded for one story, by rule name.
func (s *Store) StoryMatches(ctx context.Context, storyID string) ([]store.Match, error) {
	rows, err := s.pool.Query(ctx, `SELECT rule, terms, at FROM matches WHERE story_id = $1 ORDER BY rule`, storyID)
	if err != nil {
		return nil, fmt.Errorf("story matches %q: %w", storyID, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Match, error) {
		m := store.Match{StoryID: storyID}
		var at int64
		err := row.Scan(&m.Rule, &m.Terms, &at)
		m.At = time.UnixMilli(at).UTC()
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("story matches %q: %w", storyID, err)
	}
	return out, nil
}

// OldestFetch returns when the oldest stored story was fetched.
func (s *Store) OldestFetch(ctx context.Context) (time.Time, error) {
	var at *int64
	if err := s.pool.QueryRow(ctx, `SELECT MIN(fetched) FROM stories`).Scan(&at); err != nil {
		return time.Time{}, fmt.Errorf("oldest fetch: %w", err)
	}
	if at == nil {
		return time.Time{}, nil
	}
	return time.UnixMilli(*at).UTC(), nil
}
