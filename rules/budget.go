package rules

import (
	"time"
	"unicode/utf8"

	"github.com/wirewatch/wirewatch/story"
)

// What a rule sees of a story is bounded, and so is the time its regular
// expressions may take, so that no story and no rule can hold matching up:
// RE2 runs in time linear in the text, but the factor is the size of the
// expression's program, and one call cannot be interrupted.
const (
	// MaxTitleBytes is how much of a title rules see (story.TitleMax
	// characters of up to four bytes).
	MaxTitleBytes = 4 * story.TitleMax
	// MaxSummaryBytes is how much of a summary rules see.
	MaxSummaryBytes = 4 << 10
	// MaxContentBytes is how much of the content rules see (what ingest
	// keeps, story.ContentMax).
	MaxContentBytes = story.ContentMax
	// MaxOtherBytes is how much of the source, author, URL and each category
	// rules see.
	MaxOtherBytes = 2 << 10
	// MaxRegexProgram is the largest compiled program (in RE2 instructions)
	// a /regular expression/ may have: the cost of one call is the text's
	// length times this at worst, so it bounds the one call a budget cannot
	// stop. /[a-z]{190}/ fits; /.{1000}x/ does not.
	MaxRegexProgram = 200
	// DefaultRegexBudget is how long the regular expressions of all rules
	// together may run on one story. When it is spent, rules that still
	// need a regular expression do not match that story and are reported
	// (Matcher.OverBudget).
	DefaultRegexBudget = 200 * time.Millisecond
)

// fieldLimits is the most bytes rules see of each field.
var fieldLimits = [numFields]int{
	fTitle: MaxTitleBytes, fSummary: MaxSummaryBytes, fContent: MaxContentBytes,
	fSource: MaxOtherBytes, fAuthor: MaxOtherBytes, fCategory: MaxOtherBytes, fURL: MaxOtherBytes,
}

// capText returns s cut to at most n bytes, at a character boundary.
func capText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// SetRegexBudget sets how long the regular expressions of all rules together
// may run on one story (DefaultRegexBudget; d <= 0 restores it). Matchers
// made before the call use it from their next story.
func (e *Engine) SetRegexBudget(d time.Duration) {
	if d <= 0 {
		d = DefaultRegexBudget
	}
	e.regexBudget.Store(int64(d))
}

// RegexBudget returns the regular expression time per story Matchers use.
func (e *Engine) RegexBudget() time.Duration {
	if b := e.regexBudget.Load(); b > 0 {
		return time.Duration(b)
	}
	return DefaultRegexBudget
}

// OverBudget returns the rules the last Match gave up on because the regular
// expression budget of the story was spent before they could be decided:
// they did not match, whatever their query. The slice is valid until the
// next call on this Matcher.
func (m *Matcher) OverBudget() []string { return m.overBudget }
