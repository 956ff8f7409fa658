package service

import (
	"context"
	"time"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

// WithBudget returns a Service like s whose story lookups stop after d (and
// report Truncated), for callers that answer as a person types, such as the
// dashboard's live rule preview. The copy shares s's dependencies.
func (s *Service) WithBudget(d time.Duration) *Service {
	c := *s
	if d > 0 {
		c.o.Budget = d
	}
	return &c
}

// SearchBefore is SearchResults over the stories published before before
// (zero: no bound): the next page of a lookup whose last story was published
// at before. Stories published at the very same instant as before are not
// included; callers paging by time pass the last time plus one millisecond
// and skip the stories they have already shown.
func (s *Service) SearchBefore(ctx context.Context, query string, since, before time.Time, limit int) (Results, error) {
	if before.IsZero() {
		return s.SearchResults(ctx, query, since, limit)
	}
	c := *s
	c.o.Store = beforeStore{Store: s.o.Store, before: before}
	return c.SearchResults(ctx, query, since, limit)
}

// beforeStore is a store whose story lists end before a time.
type beforeStore struct {
	store.Store
	before time.Time
}

// Stories lists the stories that q selects published before the bound.
func (b beforeStore) Stories(ctx context.Context, q store.StoryQuery) ([]story.Story, error) {
	if q.Before.IsZero() || q.Before.After(b.before) {
		q.Before = b.before
	}
	return b.Store.Stories(ctx, q)
}
