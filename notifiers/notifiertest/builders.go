package notifiertest

import (
	"time"

	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/story"
)

// Story returns a complete test story, changed by each of opts in turn:
//
//	notifiertest.Story(func(s *story.Story) { s.Title = "<b>x</b>" })
//
// Its ID is "s1", its source "Reuters", and it was published 2026-11-28T09:00:00Z.
func Story(opts ...func(*story.Story)) *story.Story {
	published := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	s := &story.Story{
		ID:           "s1",
		SourceID:     1,
		Source:       "Reuters",
		GUID:         "tag:reuters.com,2026:s1",
		Title:        "Nvidia readies new China chip as US tightens export rules",
		Summary:      "Nvidia is preparing a new AI chip for China that meets the latest US export controls, people familiar with the matter said.",
		URL:          "https://www.reuters.com/technology/nvidia-china-chip-2026-11-28/",
		CanonicalURL: "https://www.reuters.com/technology/nvidia-china-chip-2026-11-28/",
		Author:       "Jane Doe",
		Categories:   []string{"Technology"},
		Published:    published,
		Fetched:      published.Add(2 * time.Minute),
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Alert returns an instant alert of Story() to the target "hook" from the rule
// "nvidia-china" with terms "nvidia" and "china", changed by each of opts in turn.
// Its ID is 42.
func Alert(opts ...func(*notifiers.Alert)) *notifiers.Alert {
	a := &notifiers.Alert{
		ID:     42,
		Target: "hook",
		Rules:  []string{"nvidia-china"},
		Terms:  []string{"nvidia", "china"},
		Story:  Story(),
	}
	for _, o := range opts {
		o(a)
	}
	return a
}
