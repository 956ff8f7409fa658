package story

// WordFilter is a condition on the words of a story's title, summary and
// content, in the form the rule language gives words (rules.Normalize:
// case-folded, accents removed, split at everything but letters and digits).
// A rule hands its filter to a store lookup, so that the store can narrow the
// candidates with its own full-text index before the rule decides; the store
// renders it in its index's language. Exactly one of Phrase, All and Any is
// set.
type WordFilter struct {
	// Phrase is met by these words, consecutive, in one field. With Prefix
	// the last of them need only start a word.
	Phrase []string
	Prefix bool
	// All is met when every one of its parts is.
	All []WordFilter
	// Any is met when one of its parts is.
	Any []WordFilter
}
