package service

import (
	"context"
	"fmt"
	"strings"

	"github.com/wirewatch/wirewatch/store"
)

// SourcePatch is a change to a source; nil fields stay as they are.
type SourcePatch struct {
	// Name renames a source added at run time.
	Name *string
	// Paused stops or restarts fetching; it applies to every source, those
	// of the configuration file too (the file's next sync keeps the flag).
	Paused *bool
}

// UpdateSource renames, pauses or resumes a source and brings the schedule up
// to date. Renaming a source from the configuration file is ErrReadOnly; a
// name that is taken is store.ErrExists.
func (s *Service) UpdateSource(ctx context.Context, id int64, patch SourcePatch) (store.Source, error) {
	src, err := s.o.Store.Source(ctx, id)
	if err != nil {
		return store.Source{}, err
	}
	if patch.Name != nil && *patch.Name != src.Name {
		if src.Origin == store.OriginConfig {
			return store.Source{}, fmt.Errorf("source %q: %w", src.Name, ErrReadOnly)
		}
		name := strings.TrimSpace(*patch.Name)
		if name == "" {
			return store.Source{}, invalid("name", "must not be empty")
		}
		if err := checkSourceName(name); err != nil {
			return store.Source{}, err
		}
		src.Name = name
	}
	if patch.Paused != nil {
		src.Paused = *patch.Paused
	}
	if err := s.o.Store.UpdateSource(ctx, src); err != nil {
		return store.Source{}, fmt.Errorf("update source %q: %w", src.Name, err)
	}
	return src, nil
}
