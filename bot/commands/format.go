package commands

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/service"
)

// caretWindow is how many characters of a long query the caret display shows.
const caretWindow = 60

// queryProblem says what is wrong with a query and where, with the query on
// the next line and a caret under the column:
//
//	That query has a problem at column 8: unbalanced parenthesis opened at column 8
//	  nvidia (china
//	         ^
func queryProblem(query string, e *rules.Error) string {
	return fmt.Sprintf("That query has a problem at column %d: %s\n%s", e.Column, e.Reason, caret(query, e.Column))
}

// caret shows query (a window of it around col, when long) indented by two
// spaces, and a caret under character col (1-based). White space shows as
// one space; wide characters (CJK) count two columns, as monospaced fonts
// draw them.
func caret(query string, col int) string {
	runes := []rune(query)
	for i, r := range runes {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			runes[i] = ' '
		}
	}
	col = min(max(col, 1), len(runes)+1)
	start, end := 0, len(runes)
	var head, tail string
	if len(runes) > caretWindow {
		start = max(0, min(col-1-caretWindow/2, len(runes)-caretWindow))
		end = start + caretWindow
		if start > 0 {
			head = "…"
		}
		if end < len(runes) {
			tail = "…"
		}
	}
	pad := len([]rune(head))
	for _, r := range runes[start : col-1] {
		pad += width(r)
	}
	return "  " + head + string(runes[start:end]) + tail + "\n  " + strings.Repeat(" ", pad) + "^"
}

// width is how many columns a monospaced font gives r.
func width(r rune) int {
	switch {
	case unicode.Is(unicode.Han, r), unicode.Is(unicode.Hiragana, r), unicode.Is(unicode.Katakana, r),
		unicode.Is(unicode.Hangul, r), r >= 0xFF01 && r <= 0xFF60, r >= 0xFFE0 && r <= 0xFFE6:
		return 2
	case unicode.Is(unicode.Mn, r), unicode.Is(unicode.Me, r):
		return 0
	}
	return 1
}

// storyItem lists one hit: its title linked to its URL, and
// "Source · 2026-11-28 09:00 UTC · terms: nvidia, china".
func storyItem(h service.Hit) Item {
	title := strings.TrimSpace(h.Story.Title)
	if title == "" {
		title = "(no title)"
	}
	var parts []string
	if h.Story.Source != "" {
		parts = append(parts, h.Story.Source)
	}
	parts = append(parts, formatTime(h.Story.Published))
	if len(h.Terms) > 0 {
		parts = append(parts, "terms: "+strings.Join(h.Terms, ", "))
	}
	return Item{Title: title, URL: h.Story.URL, Detail: strings.Join(parts, " · ")}
}

// formatTime writes a time as "2026-11-28 09:00 UTC".
func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") + " UTC" }

// ago says how long before now t was: "just now", "5m ago", "3h ago", "2d ago"
// ("in 5m" for a time to come).
func ago(t, now time.Time) string {
	d := now.Sub(t)
	suffix, prefix := " ago", ""
	if d < 0 {
		d, suffix, prefix = -d, "", "in "
	}
	switch {
	case d < time.Minute:
		if prefix != "" {
			return "in under a minute"
		}
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%s%dm%s", prefix, int(d/time.Minute), suffix)
	case d < 48*time.Hour:
		return fmt.Sprintf("%s%dh%s", prefix, int(d/time.Hour), suffix)
	}
	return fmt.Sprintf("%s%dd%s", prefix, int(d/(24*time.Hour)), suffix)
}

// window describes how far back a lookup went: "the last 30 days", "the
// last 12 hours", "since 2026-11-01".
func window(since, now time.Time) string {
	d := now.Sub(since)
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return "the last " + plural(int(d/(24*time.Hour)), "day", "days")
	case d >= time.Hour && d%time.Hour == 0:
		return "the last " + plural(int(d/time.Hour), "hour", "hours")
	case d < time.Hour && d%time.Minute == 0:
		return "the last " + plural(int(d/time.Minute), "minute", "minutes")
	}
	return "since " + formatTime(since)
}
