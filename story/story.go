// Package story defines the normalised news story that travels the whole road:
// sources produce it, the store keeps it, rules match it and notifiers render it.
// It holds data and pure helpers only; nothing here does I/O.
package story

import "time"

// Story is one item of a source, normalised. Text fields are plain text:
// HTML removed, entities decoded, whitespace collapsed.
type Story struct {
	// ID is stable across restarts and edits of the item: a hash of the source URL
	// and the item's GUID, else its link, else its title and date (see MakeID).
	ID string `json:"id"`
	// SourceID is the store's id of the source; 0 for stories that did not come from one.
	SourceID int64 `json:"-"`
	// Source is the source's display name.
	Source string `json:"source,omitempty"`
	// GUID is the item's own identifier as the feed gave it (may be empty).
	GUID string `json:"guid,omitempty"`
	// Title is the headline, cut to TitleMax characters at a word boundary.
	Title string `json:"title,omitempty"`
	// Summary is the item's description, cut to SummaryMax characters at a word boundary.
	Summary string `json:"summary,omitempty"`
	// Content is the item's full text when the feed carries more than the summary,
	// cut to ContentMax bytes.
	Content string `json:"content,omitempty"`
	// URL is the item's link as the feed gave it.
	URL string `json:"url,omitempty"`
	// CanonicalURL is URL without tracking parameters, fragment and default port,
	// with scheme and host lower-cased (see CanonicalURL). It keys cross-source dedup.
	CanonicalURL string `json:"-"`
	// Author is the item's author names, joined with ", ".
	Author string `json:"author,omitempty"`
	// Categories are the item's categories or tags.
	Categories []string `json:"categories,omitempty"`
	// Published is the item's publication time, else the time it was first fetched.
	Published time.Time `json:"published"`
	// Fetched is when wirewatch first saw the item.
	Fetched time.Time `json:"-"`
	// Cluster is the id of the story's cluster of near-duplicates: the id of
	// the cluster's first story (its own id when it started the cluster).
	Cluster string `json:"-"`
	// ClusterWhy are the names and numbers the story shares with the story
	// of its cluster it was joined to, when it joined by them rather than
	// by its wording: why two outlets' versions are one event.
	ClusterWhy []string `json:"-"`
}

// TitleMax is the longest Title, in characters: a longer one is cut at a word
// boundary and ends in "…".
const TitleMax = 1000

// SummaryMax is the longest Summary, in characters.
const SummaryMax = 300

// ContentMax is the longest Content, in bytes.
const ContentMax = 32 << 10

// DedupKey is the key under which a story is alerted at most once per target:
// its canonical URL, or its ID when it has no link.
func (s *Story) DedupKey() string {
	if s.CanonicalURL != "" {
		return s.CanonicalURL
	}
	return "id:" + s.ID
}
