// Package config loads and validates wirewatch's TOML configuration. Decoding is
// strict: an unknown key, a wrong type or an invalid value is an error that names
// the file, the line and the key. Secrets are typed so they cannot be printed.
package config

import (
	"encoding/json"
	"log/slog"
	"time"
)

// Config is a whole, validated configuration file with defaults applied.
type Config struct {
	// File is the path the configuration was read from.
	File      string
	Storage   Storage
	Fetch     Fetch
	HTTP      HTTP
	Sources   []Source
	Notifiers []Notifier
	Rules     []Rule
	Alerts    Alerts
	Health    Health
	Chat      Chat
	Cluster   Cluster
}

// Storage is the [storage] table.
type Storage struct {
	Path      string        // SQLite file; default "wirewatch.db"
	URL       Secret        // postgres://… (later)
	Retention time.Duration // default 720h
	// Lease is how long a worker's claim on a target's queue lasts without
	// news from it before another worker may take the queue over (default
	// 90s; a send is cut off at half of it).
	Lease time.Duration
}

// Fetch is the [fetch] table.
type Fetch struct {
	Interval    time.Duration // default 5m
	Concurrency int           // default 8
	PerHost     int           // default 2
	Timeout     time.Duration // default 30s
	MaxBody     int64         // bytes; default 10 MiB
}

// HTTP is the [http] table.
type HTTP struct {
	Listen string   // default "127.0.0.1:8080"; empty string in the file disables the server
	Tokens []Secret // bearer tokens for the dashboard and API
	// Hosts are extra Host header values the dashboard and API answer to
	// (host or host:port), such as a reverse proxy's public name.
	Hosts []string
	// MetricsToken, when set, is a bearer token that opens /metrics (and
	// nothing else), for a Prometheus scraper. With tokens set, /metrics
	// needs one of them or this one.
	MetricsToken Secret
}

// Source is one [[sources]] entry.
type Source struct {
	Name     string
	URL      string
	Interval time.Duration // 0: Fetch.Interval
	Schedule string        // cron spec (robfig/cron/v3 syntax); overrides Interval
	Backfill int
	Line     int // line of the entry in File, for messages
}

// Notifier is one [[notifiers]] entry. Besides the keys every entry has, it
// takes the keys of its type, read into Settings.
type Notifier struct {
	Name string
	// Type is the notifier type, the Name of one of the NotifierTypes.
	Type string
	// MaxPerHour is how many instant alerts one target gets per hour; the
	// rest are summarised. Default DefaultMaxPerHour.
	MaxPerHour int
	// Pace, when set, overrides the type's pace of messages to one target.
	Pace *Pace
	// Settings is what the type's Settings function returned, filled from
	// the entry's other keys: a pointer to the notifier package's Config.
	Settings any
	Line     int
}

// Rule is one [[rules]] entry.
type Rule struct {
	Name       string
	Query      string
	Notify     []Target
	Digest     string // "", "hourly", "daily", "weekly" or a cron spec
	Timezone   string // default Alerts.Timezone
	Sources    []string
	FollowUps  string // "thread" (default) or "none"
	MinSources int    // default 1
	Window     time.Duration
	Line       int
	QueryLine  int // line of the query key, for the rules package's messages
}

// Target is a notifier and, where it has them, a channel.
type Target struct {
	Notifier string
	Channel  string
}

// String returns the target as written: "notifier" or "notifier:channel".
func (t Target) String() string {
	if t.Channel == "" {
		return t.Notifier
	}
	return t.Notifier + ":" + t.Channel
}

// Alerts is the [alerts] table.
type Alerts struct {
	Timezone string // default "UTC"
	// MaxRetryAfter caps the wait a receiver's Retry-After can ask for
	// (default 1h); longer asks wait this long, and the row says so.
	MaxRetryAfter time.Duration
}

// Chat is the [chat] table: limits on what people do with chat commands.
type Chat struct {
	// MaxRulesPerUser is the most rules one person may have made with
	// /watch add (default 100).
	MaxRulesPerUser int
	// MaxRulesPerChannel is the most chat rules one channel may have
	// (default 500).
	MaxRulesPerChannel int
}

// Cluster is the [cluster] table: how the stories of one event are found.
type Cluster struct {
	// ByFacts joins stories told in other words by the rare names and
	// numbers they share, besides copies and near-copies of one text
	// (default true; false: by their wording alone).
	ByFacts bool
	// FactsThreshold is the same-event model's probability that a story
	// that shares names and numbers with a cluster's stories is one more
	// version of their event, from which it joins the cluster (default
	// 0.575, at most 1): higher joins fewer, so fewer same-day reactions
	// fold under the event's alert and more rewrites alert again
	// (docs/PERFORMANCE.md).
	FactsThreshold float64
}

// Health is the [health] table.
type Health struct {
	Notify             []Target
	AlertAfterFailures int // default 5
}

// Secret is a configuration value that must never be printed or logged.
type Secret string

const redacted = "[redacted]"

// Reveal returns the secret's value, for the one place that must send it.
func (s Secret) Reveal() string { return string(s) }

// String hides the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString hides the value from %#v.
func (s Secret) GoString() string { return s.String() }

// LogValue hides the value from slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON hides the value from JSON.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }
