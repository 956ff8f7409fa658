// Package store defines what wirewatch keeps: sources and their fetch state,
// stories, rules, matches and the delivery outbox. The Store interface is all the
// rest of the code depends on; sqlite/ is the embedded default and a PostgreSQL
// implementation can follow without touching callers. The store knows no HTTP,
// no rules language and no chat platform.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/wirewatch/wirewatch/story"
)

// Sentinel errors callers decide on.
var (
	// ErrNotFound means no row has that id or name.
	ErrNotFound = errors.New("not found")
	// ErrExists means a row with that name or URL is already there.
	ErrExists = errors.New("already exists")
	// ErrConflict means the row is not in a state that allows the change, such
	// as Retry of a delivery that has not failed.
	ErrConflict = errors.New("conflict")
)

// Origins of sources and rules.
const (
	OriginConfig = "config"
	OriginChat   = "chat"
	OriginAPI    = "api"
)

// Delivery statuses, as the delivery log shows them.
const (
	StatusPending    = "pending"
	StatusSent       = "sent"
	StatusFailed     = "failed"
	StatusDuplicate  = "duplicate"
	StatusFolded     = "folded"
	StatusSummarised = "summarised"
)

// Source is a place stories come from, with its fetch state.
type Source struct {
	ID       int64
	Name     string
	URL      string
	Interval time.Duration // 0: the [fetch] default
	Schedule string        // cron spec; overrides Interval when set
	Backfill int
	Origin   string // OriginConfig, OriginChat or OriginAPI
	AddedBy  string // user id for chat/API sources
	Paused   bool
	Created  time.Time
	State    SourceState
	// Stories7d is the number of stories of this source fetched in the last 7 days
	// (filled by Sources and Source).
	Stories7d int
}

// SourceState is what the fetcher remembers between fetches of a source.
type SourceState struct {
	ETag         string
	LastModified string
	LastFetch    time.Time // last attempt, successful or not
	LastSuccess  time.Time
	LastStatus   int // HTTP status of the last attempt (0: no response)
	LastError    string
	Failures     int       // consecutive failures
	FailingSince time.Time // first failure of the current run of failures
	NextFetch    time.Time // not before this (backoff); zero: when the schedule says
	// Primed is true once the source has been fetched successfully at least once,
	// so its backlog has been seen (first-fetch backfill applies while false).
	Primed bool
	// HealthAlerted is true while a "source failing" health alert stands unanswered
	// by a recovery alert.
	HealthAlerted bool
}

// Rule is a stored rule, from the config file or made at run time.
type Rule struct {
	ID         int64
	Name       string // unique; chat rules get a generated name
	Query      string
	Notify     []string // targets, "notifier:channel"
	Digest     string   // "" instant; "hourly", "daily", "weekly" or a cron spec
	Timezone   string
	Sources    []string // source names; empty: all
	FollowUps  string   // "thread" or "none"
	MinSources int
	Window     time.Duration
	Paused     bool
	Origin     string // OriginConfig, OriginChat or OriginAPI
	Author     string // user id of the person who made it (chat/API)
	Channel    string // target the rule was made from (chat)
	Created    time.Time
}

// Match records that a rule matched a story; kept for counts and explanations.
type Match struct {
	StoryID string
	Rule    string // rule name
	Terms   []string
}

// Delivery is one outbox row: one alert to one target.
type Delivery struct {
	ID       int64
	Target   string // "notifier:channel" or "notifier"
	Kind     string // notifiers.Kind*; "" is an alert
	StoryID  string // instant alerts and follow-ups
	StoryIDs []string
	// DedupKey makes a story alert at most once per target (story.DedupKey);
	// empty for kinds that are not deduplicated (digests, health).
	DedupKey    string
	Rules       []string
	Terms       []string
	Cluster     string
	ParentID    int64  // delivery this one threads under (follow-ups)
	Text        string // for health and other text-only kinds
	Status      string
	Attempts    int
	NextAttempt time.Time
	LastError   string
	Ref         string // message reference returned by the notifier once sent
	Created     time.Time
	Sent        time.Time

	// Story and Stories are filled by Due for the dispatcher; they are not stored.
	Story   *story.Story
	Stories []story.Story
	// ParentRef is the Ref of ParentID, filled by Due.
	ParentRef string
}

// PlanFunc decides, inside the ingest transaction, what the stories that were new
// matched and which deliveries they cause. It may set Cluster on the fresh
// stories; the store saves it with them.
type PlanFunc func(fresh []story.Story) ([]Match, []Delivery)

// IngestResult says what one Ingest did.
type IngestResult struct {
	Fresh      int // stories that were new
	Matches    int
	Deliveries int // outbox rows inserted as pending
	Duplicates int // deliveries skipped because the target already had that story
}

// StoryQuery selects stored stories, newest first.
type StoryQuery struct {
	// Text is an FTS5 match expression over title and summary; empty: no text filter.
	Text   string
	Since  time.Time // zero: no lower bound
	Before time.Time // zero: no upper bound (for paging)
	// FetchedSince selects stories first seen at or after it (zero: any).
	FetchedSince time.Time
	SourceID     int64 // 0: all sources
	Limit        int   // 0: 100
}

// DeliveryQuery selects outbox rows, newest first.
type DeliveryQuery struct {
	Rule   string
	Status string
	Target string // "": any target
	Since  time.Time
	// Before selects rows whose id is below it, for paging (0: no bound).
	Before int64
	Limit  int // 0: 100
}

// FetchLogKeep is how many of its newest fetch log entries a source keeps.
const FetchLogKeep = 200

// FetchLogEntry is one fetch attempt of a source, as its fetch log shows it.
type FetchLogEntry struct {
	ID          int64
	SourceID    int64
	At          time.Time // when the attempt started
	Status      int       // HTTP status (0: no response)
	NotModified bool
	Items       int   // items the feed held
	Fresh       int   // items that were new
	Bytes       int64 // body size read
	Duration    time.Duration
	Error       string // "": the fetch succeeded
}

// Store is the persistence wirewatch needs. Every method is safe for concurrent use.
type Store interface {
	// Ping reports whether the store answers.
	Ping(ctx context.Context) error
	// Close releases the store.
	Close() error

	// SyncConfigSources makes the config-file sources match sources (by name: insert
	// new, update changed URL/interval/schedule/backfill, delete config sources that
	// are gone) and keeps their fetch state. It returns every source.
	SyncConfigSources(ctx context.Context, sources []Source) ([]Source, error)
	// Sources lists every source, by id.
	Sources(ctx context.Context) ([]Source, error)
	// Source returns one source by id.
	Source(ctx context.Context, id int64) (Source, error)
	// AddSource stores a run-time source; ErrExists when the name or URL is taken.
	AddSource(ctx context.Context, s Source) (Source, error)
	// UpdateSource changes a source's name, URL, schedule, backfill and pause flag.
	UpdateSource(ctx context.Context, s Source) error
	// RemoveSource deletes a source (its stories stay until pruned).
	RemoveSource(ctx context.Context, id int64) error
	// SaveSourceState records the outcome of a fetch.
	SaveSourceState(ctx context.Context, id int64, st SourceState) error
	// LogFetch adds an entry to its source's fetch log, keeping the source's
	// newest FetchLogKeep entries; ErrNotFound when the source is not there.
	LogFetch(ctx context.Context, e FetchLogEntry) error
	// FetchLog returns a source's newest fetch log entries, newest first, at
	// most limit (0: 50). A source's log goes with the source.
	FetchLog(ctx context.Context, sourceID int64, limit int) ([]FetchLogEntry, error)

	// Ingest inserts a source's stories. Stories whose ID is already stored are not
	// new (their text is updated). For the new ones it calls plan and, in the same
	// transaction, stores the matches and the deliveries it returns; a delivery
	// whose (Target, DedupKey) was already delivered or queued is stored with
	// StatusDuplicate instead of pending. A follow-up delivery (Kind follow_up)
	// gets as ParentID the first alert of its Cluster to its Target; when the
	// target has had no alert of that cluster it becomes a pending alert itself.
	Ingest(ctx context.Context, sourceID int64, stories []story.Story, plan PlanFunc) (IngestResult, error)
	// Stories returns stored stories, newest published first.
	Stories(ctx context.Context, q StoryQuery) ([]story.Story, error)
	// Story returns one story by id.
	Story(ctx context.Context, id string) (story.Story, error)
	// MatchCounts returns, per rule name, the matches recorded since a time.
	MatchCounts(ctx context.Context, since time.Time) (map[string]int, error)
	// Prune deletes stories (and their matches) fetched before a time, keeping any
	// that a pending delivery still needs. It returns how many stories went.
	Prune(ctx context.Context, before time.Time) (int64, error)

	// SyncConfigRules makes the config-file rules match rules (by name).
	SyncConfigRules(ctx context.Context, rules []Rule) error
	// Rules lists every rule, by id.
	Rules(ctx context.Context) ([]Rule, error)
	// Rule returns one rule by id.
	Rule(ctx context.Context, id int64) (Rule, error)
	// AddRule stores a run-time rule; a rule with no Name gets "w<ID>".
	AddRule(ctx context.Context, r Rule) (Rule, error)
	// UpdateRule changes a rule's query, targets, digest, pause flag and options.
	UpdateRule(ctx context.Context, r Rule) error
	// DeleteRule removes a rule.
	DeleteRule(ctx context.Context, id int64) error

	// Enqueue adds deliveries that do not come from ingest (health, digests,
	// summaries); dedup applies as in Ingest.
	Enqueue(ctx context.Context, ds []Delivery) ([]Delivery, error)
	// Due returns up to limit pending deliveries whose NextAttempt is not after now,
	// oldest first, with Story, Stories and ParentRef filled in.
	Due(ctx context.Context, now time.Time, limit int) ([]Delivery, error)
	// NextDue returns the earliest NextAttempt of a pending delivery (ok false: none).
	NextDue(ctx context.Context) (at time.Time, ok bool, err error)
	// MarkSent records a successful send and the message reference.
	MarkSent(ctx context.Context, id int64, ref string, at time.Time) error
	// Reschedule records a failed attempt and when to try again.
	Reschedule(ctx context.Context, id int64, next time.Time, errMsg string) error
	// MarkFailed records a final failure.
	MarkFailed(ctx context.Context, id int64, errMsg string) error
	// Deliveries lists outbox rows for the delivery log.
	Deliveries(ctx context.Context, q DeliveryQuery) ([]Delivery, error)
	// Retry puts a failed delivery back to pending, due now.
	Retry(ctx context.Context, id int64) error
	// OutboxDepth counts pending deliveries.
	OutboxDepth(ctx context.Context) (int, error)
	// Postpone makes pending deliveries due at until, without counting an attempt
	// (a target asked to wait, or flood control holds them for a summary).
	Postpone(ctx context.Context, ids []int64, until time.Time) error
	// MarkSummarised records that pending deliveries went out inside one summary
	// message, with that message's reference.
	MarkSummarised(ctx context.Context, ids []int64, ref string, at time.Time) error
	// SentAlerts counts the instant alerts (kinds "", alert, surge) sent to a
	// target since a time, for flood control.
	SentAlerts(ctx context.Context, target string, since time.Time) (int, error)
	// LastSummary returns when the last flood summary to a target went out
	// (zero: never).
	LastSummary(ctx context.Context, target string) (time.Time, error)

	// RuleStories returns the stories a rule matched with the match recorded in
	// [since, until), newest published first, at most limit, and how many there
	// were in all.
	RuleStories(ctx context.Context, rule string, since, until time.Time, limit int) ([]story.Story, int, error)
	// DigestLast returns when a rule's last digest period ended (zero: never).
	DigestLast(ctx context.Context, rule string) (time.Time, error)
	// SetDigestLast records the end of a rule's last digest period.
	SetDigestLast(ctx context.Context, rule string, at time.Time) error
}
