package service

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wirewatch/wirewatch/sources"
	"github.com/wirewatch/wirewatch/store"
)

// maxSourceName is the longest source name AddSource makes or accepts, in characters.
const maxSourceName = 100

// Sources lists every source, by id, with its fetch state and stories of the
// last 7 days.
func (s *Service) Sources(ctx context.Context) ([]store.Source, error) {
	return s.o.Store.Sources(ctx)
}

// FindSource returns the source a user means by ref: its exact name, else its
// numeric id, else its name in any case when only one source has it. No such
// source is store.ErrNotFound, wrapped.
func (s *Service) FindSource(ctx context.Context, ref string) (store.Source, error) {
	ref = strings.TrimSpace(ref)
	notFound := fmt.Errorf("source %q: %w", ref, store.ErrNotFound)
	if ref == "" {
		return store.Source{}, notFound
	}
	all, err := s.o.Store.Sources(ctx)
	if err != nil {
		return store.Source{}, err
	}
	for _, src := range all {
		if src.Name == ref {
			return src, nil
		}
	}
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		for _, src := range all {
			if src.ID == id {
				return src, nil
			}
		}
	}
	var found []store.Source
	for _, src := range all {
		if strings.EqualFold(src.Name, ref) {
			found = append(found, src)
		}
	}
	if len(found) == 1 {
		return found[0], nil
	}
	return store.Source{}, notFound
}

// AddSource adds a source at run time. The URL must pass sources.CheckURL and
// a test fetch through the private-address guard must bring a feed that
// parses; otherwise the error is an *InvalidError for field "url" that says
// why (and wraps sources.ErrRefused for a refused address, or the
// *sources.Error of the fetch). The name is the given one (an error when
// taken), else the feed's title, else the URL's host, made unique with " (2)",
// " (3)", …. Origin defaults to api; config is refused. The source is stored
// and the schedule brought up to date, with a first fetch queued.
func (s *Service) AddSource(ctx context.Context, rawURL, name, addedBy, origin string) (store.Source, error) {
	rawURL = strings.TrimSpace(rawURL)
	name = strings.TrimSpace(name)
	switch origin {
	case "":
		origin = store.OriginAPI
	case store.OriginChat, store.OriginAPI:
	default:
		return store.Source{}, invalid("origin", `must be "chat" or "api"; configuration sources come from the file`)
	}
	if err := s.checkURL(rawURL); err != nil {
		return store.Source{}, err
	}
	if name != "" {
		if err := checkSourceName(name); err != nil {
			return store.Source{}, err
		}
	}
	taken, err := s.takenNames(ctx, rawURL)
	if err != nil {
		return store.Source{}, err
	}
	if name != "" && taken[strings.ToLower(name)] {
		return store.Source{}, &InvalidError{Field: "name", Reason: fmt.Sprintf("a source is already named %q; choose another name", name), Err: store.ErrExists}
	}

	if s.o.Fetcher == nil {
		return store.Source{}, errors.New("add source: no fetcher to check the feed with")
	}
	label := name
	if label == "" {
		label = "new source"
	}
	res, err := s.o.Fetcher.Fetch(ctx, sources.Request{Name: label, URL: rawURL, Guarded: !s.o.AllowPrivateAddresses})
	if err != nil {
		if errors.Is(err, sources.ErrRefused) {
			return store.Source{}, &InvalidError{Field: "url", Reason: refusedReason(err), Err: err}
		}
		if ctx.Err() != nil {
			return store.Source{}, ctx.Err()
		}
		return store.Source{}, &InvalidError{Field: "url", Reason: "the test fetch failed: " + sources.Plain(err), Err: err}
	}

	if name == "" {
		name = uniqueName(derivedName(res.Title, rawURL), taken)
	}
	src, err := s.o.Store.AddSource(ctx, store.Source{Name: name, URL: rawURL, Origin: origin, AddedBy: addedBy})
	if err != nil {
		if errors.Is(err, store.ErrExists) {
			return store.Source{}, fmt.Errorf("a source named %q or with that URL: %w", name, store.ErrExists)
		}
		return store.Source{}, fmt.Errorf("add source %q: %w", name, err)
	}
	return src, nil
}

// ImportSource adds a source from an OPML outline: the URL must pass
// sources.CheckURL, but nothing is fetched now, so that a list imports whole
// when the network is down; a feed that cannot be fetched becomes a failing
// source on its first fetch. The name is the given one, else the URL's
// host, made unique with " (2)", " (3)", …. A URL already stored is an
// *InvalidError wrapping store.ErrExists.
func (s *Service) ImportSource(ctx context.Context, rawURL, name, addedBy string) (store.Source, error) {
	rawURL = strings.TrimSpace(rawURL)
	name = strings.Join(strings.Fields(name), " ")
	if err := s.checkURL(rawURL); err != nil {
		return store.Source{}, err
	}
	if r := []rune(name); len(r) > maxSourceName-8 {
		name = strings.TrimSpace(string(r[:maxSourceName-8]))
	}
	taken, err := s.takenNames(ctx, rawURL)
	if err != nil {
		return store.Source{}, err
	}
	name = uniqueName(derivedName(name, rawURL), taken)
	src, err := s.o.Store.AddSource(ctx, store.Source{Name: name, URL: rawURL, Origin: store.OriginAPI, AddedBy: addedBy})
	if err != nil {
		return store.Source{}, fmt.Errorf("add source %q: %w", name, err)
	}
	return src, nil
}

// checkURL is sources.CheckURL, with private addresses let through when the
// guard is off (tests only).
func (s *Service) checkURL(raw string) error {
	err := sources.CheckURL(raw)
	if err == nil {
		return nil
	}
	if s.o.AllowPrivateAddresses && errors.Is(err, sources.ErrRefused) {
		if u, perr := url.Parse(raw); perr == nil && (u.Scheme == "http" || u.Scheme == "https") {
			return nil
		}
	}
	if errors.Is(err, sources.ErrRefused) {
		return &InvalidError{Field: "url", Reason: refusedReason(err), Err: err}
	}
	return &InvalidError{Field: "url", Reason: err.Error(), Err: err}
}

// refusedReason explains a refusal of the private-address guard.
func refusedReason(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "refused: "); i >= 0 {
		msg = msg[i:]
	}
	if strings.Contains(msg, "file URL") {
		return msg
	}
	return msg + " (sources added at run time must be on public addresses)"
}

// checkSourceName refuses names that cannot be told apart from ids or are unwieldy.
func checkSourceName(name string) error {
	if utf8.RuneCountInString(name) > maxSourceName {
		return invalid("name", fmt.Sprintf("longer than %d characters", maxSourceName))
	}
	if _, err := strconv.ParseInt(name, 10, 64); err == nil {
		return invalid("name", "must not be a number: numbers are source ids")
	}
	return nil
}

// derivedName names a source without a given name: the feed's title, else
// the URL's host.
func derivedName(title, rawURL string) string {
	name := strings.Join(strings.Fields(title), " ")
	if r := []rune(name); len(r) > maxSourceName-8 {
		name = strings.TrimSpace(string(r[:maxSourceName-8]))
	}
	if _, err := strconv.ParseInt(name, 10, 64); name == "" || err == nil {
		if u, err := url.Parse(rawURL); err == nil && u.Hostname() != "" {
			return u.Hostname()
		}
		return "feed"
	}
	return name
}

// uniqueName returns name, or name with " (2)", " (3)", … when taken (keys
// lower-cased) has it.
func uniqueName(name string, taken map[string]bool) string {
	if !taken[strings.ToLower(name)] {
		return name
	}
	for i := 2; ; i++ {
		n := fmt.Sprintf("%s (%d)", name, i)
		if !taken[strings.ToLower(n)] {
			return n
		}
	}
}

// RemoveSource deletes the source ref names (see FindSource) and brings the
// schedule up to date; its stories stay until pruned. Sources from the
// configuration file are ErrReadOnly.
func (s *Service) RemoveSource(ctx context.Context, ref string) error {
	src, err := s.FindSource(ctx, ref)
	if err != nil {
		return err
	}
	if src.Origin == store.OriginConfig {
		return fmt.Errorf("source %q: %w", src.Name, ErrReadOnly)
	}
	return s.o.Store.RemoveSource(ctx, src.ID)
}

// takenNames returns the sources' names, lower-cased, or an InvalidError on
// the url field when a source already fetches rawURL.
func (s *Service) takenNames(ctx context.Context, rawURL string) (map[string]bool, error) {
	all, err := s.o.Store.Sources(ctx)
	if err != nil {
		return nil, err
	}
	taken := map[string]bool{}
	for _, src := range all {
		if src.URL == rawURL {
			return nil, &InvalidError{Field: "url", Reason: fmt.Sprintf("the source %q already fetches that URL", src.Name), Err: store.ErrExists}
		}
		taken[strings.ToLower(src.Name)] = true
	}
	return taken, nil
}
