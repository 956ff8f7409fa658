// Package rules is wirewatch's rule language: Parse turns a query into a
// Query, an Engine holds many of them, and a Matcher tells which match a story.
// On the road it sits after the store (sources → store → rules.Engine →
// outbox): the bot matches each new story before its matches become outbox
// rows. It is pure: no I/O, no clock, no logging.
//
// # Language
//
// Words, "phrases", prefix*, AND (or nothing), OR, NOT or -, parentheses
// (NOT binds tighter than AND, AND than OR), a NEAR/n b, field scopes
// (title:, summary:, content:, source:, author:, category:, url:),
// site:host and /RE2 regular expressions/. Operators are upper case; and, or
// and not are words. Parse rejects, with a column and a reason, what cannot
// be meant: unbalanced parentheses or quotes, unknown fields, prefixes of one
// letter, invalid regular expressions, queries that would match a story with
// no text, and queries over MaxQueryLen characters, MaxTerms terms or MaxDepth
// nested parentheses.
//
// # Words
//
// Stories and queries are tokenized alike: compatibility decomposition
// (NFKD), accents removed, case folded, split at anything that is not a
// letter or digit, with each Han ideograph and kana a word of its own. A
// query term that splits into several words is a phrase: U.S. is "u s".
// Normalize shows the words of a text. Matches report a term in this form,
// its words joined by one space (U.S. as "u s", export* as "export*"), a
// regular expression lower-cased between slashes, a site as site:host.
//
// # Matching
//
// An Engine compiles its rules into an index. For each rule it derives
// clauses: sets of keys (a word, a prefix or a host, in the namespace of the
// fields searched) that must all be in a story for the rule to match, at least
// one clause per way the rule can match. Negated terms and regular
// expressions give no keys; an AND of ORs gives the product of its
// alternatives, up to 16 clauses, dropping whole operands beyond that; and
// stop-words and short prefixes are left out of a clause that has other keys.
// A story's words are looked up once in the index's dictionary; each posting
// counts towards its clause, and a rule whose clause is complete is verified
// by its compiled code. Rules without any key (a lone regular expression) are
// checked on every story, after a substring test for the literal text they
// need. Query.Eval is the straightforward evaluator, and the tests hold the
// Engine to it.
//
// # Explaining and highlighting
//
// Query.Explain evaluates a query as Eval does and says why: every term with
// the fields it was found in, and the terms a failed query needed or
// excluded. A Highlighter finds where matched terms occur in a text, with
// the tokenizer matching uses, so every word a rule matched can be shown.
// Both are off the matching path and may allocate.
package rules
