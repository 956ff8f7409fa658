// Package eventset reads the hand-labelled event sets of cluster/testdata
// (events.jsonl and the held-out sets; cluster/testdata/README.md), which
// the cluster package and the bot's store-backed tests both score.
package eventset

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// Story is one story of a set.
type Story struct {
	ID        string    `json:"id"`
	Event     string    `json:"event"`
	Kind      string    `json:"kind"` // syndicated, rewrite, paraphrase: the event's; near: a near miss
	Near      string    `json:"near"` // the event a near miss is close to
	Source    string    `json:"source"`
	Published time.Time `json:"published"`
	Title     string    `json:"title"`
	Summary   string    `json:"summary"`
}

// Read returns the stories of a set, one a line, in the file's order; a
// line that is not a story is an error naming it.
func Read(path string) ([]Story, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Story
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		var s Story
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// Order returns the indexes of stories in the order they are clustered:
// by publication, then by id.
func Order(stories []Story) []int {
	order := make([]int, len(stories))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Or(stories[a].Published.Compare(stories[b].Published), strings.Compare(stories[a].ID, stories[b].ID))
	})
	return order
}
