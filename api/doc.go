// Package api is wirewatch's JSON API under /api/v1: sources with their
// health, rules and the live rule preview, the delivery log with retry, and
// story lookups with "why / why not". It sits beside the dashboard on the
// road's side branch: both call the one service layer (package service), so a
// rule or a source means the same thing wherever it is made, with the
// checks of the configuration file, and both read the store.
// Authentication, the Host check and cross-origin protection are the web
// package's; this package only speaks JSON.
//
// # Endpoints
//
//	GET    /api/v1/sources                  sources with health: last_fetch, last_status, last_error, failures, next_fetch, stories_7d
//	POST   /api/v1/sources                  {"url", "name"}: through the private-address guard and a test fetch; 201
//	GET    /api/v1/sources/{id}             one source (ids are the store's int64 ids)
//	PATCH  /api/v1/sources/{id}             {"name", "paused"}: renaming a configuration source is 409
//	DELETE /api/v1/sources/{id}             204; a configuration source is 409
//	POST   /api/v1/sources/{id}/check       fetch now: 202 {"id", "queued": true} (due at once, for whichever process claims it)
//	GET    /api/v1/sources/{id}/log         ?limit=: its fetch log, newest first: at, status, not_modified, items, fresh, bytes, duration_ms, error
//	POST   /api/v1/sources/import           OPML body: each outline's xmlUrl added as POST /sources would; a result per outline
//	GET    /api/v1/sources/export.opml      every source as OPML 2.0
//	GET    /api/v1/rules                    rules: id, name, query, notify, digest, paused, origin (config, chat, api), matches_7d, alerts_7d, regex_over_budget
//	POST   /api/v1/rules                    {"name", "query", "notify", "digest", "timezone", "sources", …}: origin api; 201
//	GET    /api/v1/rules/{id}               one rule
//	PATCH  /api/v1/rules/{id}               {"query", "notify", "digest", "paused"}; configuration rules are 409
//	DELETE /api/v1/rules/{id}               204; configuration rules are 409
//	POST   /api/v1/rules/preview            {"query", "days": 30, "limit": 20}: total, alerts, per_day, alerts_per_day, more, definition, stories with terms
//	GET    /api/v1/alerts                   the delivery log: ?rule=&status=&target=&since=&limit=&before=
//	POST   /api/v1/alerts/{id}/retry        a failed alert back to pending, or a pending one due now (lifting its target's hold); 409 otherwise
//	POST   /api/v1/alerts/{id}/cancel       a pending alert is not sent (kept as failed, "cancelled by hand"); 409 when not pending
//	GET    /api/v1/notifiers                every configured target's health: last sent, last error, waiting, held until
//	POST   /api/v1/notifiers/test           {"target"}: a test alert queued to it; 202
//	GET    /api/v1/stories                  ?q=QUERY&limit=&before=: the stories a rule with that query matches, with terms
//	GET    /api/v1/stories/{id}             one story
//	GET    /api/v1/stories/{id}/explain     per rule: matched or not, the terms and the fields they were found in, and why not
//
// # Errors
//
// Every error is {"error": "…"} with the HTTP status: 400 for bad input
// (with "field", and "column" — 1-based, in characters — when a query is at
// fault), 401 without a valid token, 403 for a cross-origin request, 404,
// 405, 409 when the thing's origin or state refuses the change (rules and
// sources of the configuration file: "defined in the configuration file"),
// 413 for a body over 1 MiB (OPML: 4 MiB), 415 for a JSON body not sent as
// Content-Type: application/json, 421 for an unknown Host header, 429 after
// too many wrong tokens from one address.
//
// # Pagination
//
// The delivery log and story lookups are paged newest first. limit sets the
// page size (default 50; at most 500 for alerts and 100 for stories). When
// more rows follow, the answer's next_before is set: pass it as before= to
// get the next, older page, with the same filters. For alerts it is the id of
// the last alert of the page; for stories an opaque cursor (the last story's
// publication time and id), so that stories published at the same instant
// are neither lost nor repeated across pages. Sources and rules are short
// lists and come whole; a source's fetch log gives its newest limit entries
// (default 50, at most the 200 it keeps).
//
// # Preview bounds
//
// A preview stops after PreviewBudget (default 50 ms) or 20,000 candidate
// stories and then says truncated: total counts the stories seen (scanned),
// and alerts_per_day is spread over covered_days, the days from the oldest
// match to today.
package api
