// Package store defines what wirewatch keeps: sources and their fetch state,
// stories, rules, matches and the delivery outbox. The Store interface is all the
// rest of the code depends on; sqlite/ is the embedded default and a PostgreSQL
// implementation can follow without touching callers. The store knows no HTTP,
// no rules language and no chat platform.
package store

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
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

// Delivery kinds, as the outbox records them and the alert payload's "kind"
// field names them. An empty Kind is an alert.
const (
	KindAlert    = "alert"
	KindFollowUp = "follow_up"
	KindSurge    = "surge"
	KindDigest   = "digest"
	KindSummary  = "summary"
	KindHealth   = "health"
)

// Instant reports whether a kind of delivery is an instant alert, the kind
// flood control counts.
func Instant(kind string) bool {
	return kind == "" || kind == KindAlert || kind == KindSurge
}

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

// SourceHost is the host name of a source URL, lower-cased, as per-host
// limits count it ("" when it has none, as a file: URL).
func SourceHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
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
	// NextFetch is when the source is next due: its next scheduled slot, or
	// the end of its backoff after failures. Zero: due now (never fetched,
	// or its schedule changed).
	NextFetch time.Time
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

// SameSettings reports whether two rules say the same in everything a
// configuration file sets: a config sync leaves such a rule untouched, so
// that a restart does not tell every worker the rules changed.
func (r Rule) SameSettings(o Rule) bool {
	return r.Query == o.Query && slices.Equal(r.Notify, o.Notify) && r.Digest == o.Digest &&
		r.Timezone == o.Timezone && slices.Equal(r.Sources, o.Sources) && r.FollowUps == o.FollowUps &&
		r.MinSources == o.MinSources && r.Window == o.Window && r.Paused == o.Paused
}

// Match records that a rule matched a story; kept for counts and explanations.
type Match struct {
	StoryID string
	Rule    string // rule name
	Terms   []string
	// At is when the match was recorded (filled by StoryMatches; Ingest
	// records the ingest time).
	At time.Time
}

// AlertDefinition says in words what MatchDays counts as an alert; pages
// that show those counts state it.
const AlertDefinition = "An alert is a story a rule matched that went, or is waiting to go, " +
	"to at least one target: syndicated copies of one event (one cluster), threaded or folded " +
	"under the first alert, count once; stories whose every delivery failed, or that sent nothing " +
	"(held back on a source's first fetch, rule paused), do not count. A digest rule counts " +
	"each story its digests carry."

// AlertDay is how many alerts (see AlertDefinition) one rule made on one
// UTC day, by the day the match was recorded.
type AlertDay struct {
	Rule   string
	Day    string // "2026-11-28"
	Alerts int
}

// Delivery is one outbox row: one alert to one target.
type Delivery struct {
	ID       int64
	Target   string // "notifier:channel" or "notifier"
	Kind     string // a Kind constant; "" is an alert
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
	// Waiting says why a pending row is not due yet (a receiver's
	// Retry-After, backoff after an error, flood control); empty when due.
	Waiting   string
	LastError string
	Ref       string // message reference returned by the notifier once sent
	Created   time.Time
	Sent      time.Time

	// Story and Stories are filled when rows are read for the dispatcher or
	// the delivery log; they are not stored with the row.
	Story   *story.Story
	Stories []story.Story
	// ParentRef is the Ref of ParentID, filled in as Story is.
	ParentRef string
}

// PlanFunc decides, inside the ingest transaction, what the stories that were
// new matched and which deliveries they cause. It may set Cluster on the fresh
// stories; the store saves it with them, with their fingerprints. tx reads what
// the decision needs from the same transaction, so that two processes ingesting
// at once decide as if one came after the other. An error rolls the ingest back.
type PlanFunc func(ctx context.Context, tx PlanTx, fresh []story.Story) (Plan, error)

// Plan is what a PlanFunc decided for the fresh stories of one ingest.
type Plan struct {
	Matches    []Match
	Deliveries []Delivery
	// Fingerprints are the fresh stories' cluster fingerprints, kept so that
	// later stories of the same event find them (see PlanTx.Candidates).
	Fingerprints []Fingerprint
	// Refresh names stored stories whose fingerprints a fresh verbatim copy
	// stands in for: their fetch time in the window becomes the ingest's, as
	// if the copy had been filed, and the copy files nothing of its own.
	Refresh []string
	// Terms are the terms of fresh stories (each story's distinct terms
	// once, all in one list) for the store to count, and TermStories the
	// number of stories they came from: later stories weigh a term by how
	// many stored stories had it (PlanTx.TermCounts).
	Terms       []uint32
	TermStories int
}

// Fingerprint is what the store keeps of a story for clustering: a signature
// it does not interpret, and the keys under which Candidates finds it.
type Fingerprint struct {
	StoryID string
	Sig     []byte
	Keys    []uint64
}

// Candidate is a stored story that shares a fingerprint key with a new one.
type Candidate struct {
	StoryID string
	Cluster string // "" when the story started none (its own id stands)
	Source  string
	Fetched time.Time
	Sig     []byte
	// Keys are the keys asked for that the story is filed under.
	Keys []uint64
}

// PlanTx is the ingest transaction as a PlanFunc sees it.
type PlanTx interface {
	// Candidates returns the stories fetched at or after since whose
	// fingerprints share a key with keys: for each key its newest perKey
	// stories, each story once (with the keys it was found under), newest
	// first.
	Candidates(ctx context.Context, keys []uint64, since time.Time, perKey int) ([]Candidate, error)
	// ClusterSources returns the distinct sources of the stories of a cluster
	// fetched at or after since, in the order they first carried it.
	ClusterSources(ctx context.Context, cluster string, since time.Time) ([]string, error)
	// TermCounts returns the number of stories whose terms the store has
	// counted (Plan.Terms) and, for each of terms that any of them had, how
	// many did; a term no counted story had is absent.
	TermCounts(ctx context.Context, terms []uint32) (stories int64, counts map[uint32]int64, err error)
}

// IngestResult says what one Ingest did.
type IngestResult struct {
	Fresh      int // stories that were new
	Matches    int
	Deliveries int // outbox rows inserted as pending
	Duplicates int // deliveries skipped because the target already had that story
}

// StoryQuery selects stored stories, newest first.
type StoryQuery struct {
	// Words is a necessary condition on the words of a story's title, summary
	// and content (nil: no text filter). A store may let through stories that
	// do not meet it, never hold back one that does.
	Words  *story.WordFilter
	Since  time.Time // zero: no lower bound
	Before time.Time // zero: no upper bound (for paging)
	// FetchedSince selects stories first seen at or after it (zero: any).
	FetchedSince time.Time
	SourceID     int64 // 0: all sources
	// Cluster selects the stories of one cluster (""; any).
	Cluster string
	Limit   int // 0: 100
}

// DeliveryQuery selects outbox rows, newest first.
type DeliveryQuery struct {
	Rule   string
	Status string
	Target string // "": any target
	// StoryID selects rows about one story (as StoryID, not in StoryIDs).
	StoryID string
	Since   time.Time
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

// Topics a Waker wakes workers with.
const (
	TopicOutbox  = "outbox"  // deliveries were queued or released
	TopicSources = "sources" // sources were made due
	TopicRules   = "rules"   // rules changed
)

// Waker is a Store that can tell workers, in every process that shares it,
// when new work may be there, so that they need not wait for their next
// look. Workers poll as well: a lost wake-up costs latency, never work.
type Waker interface {
	// Wakeups sends a topic each time another worker signals it, until ctx
	// ends; it reconnects after failures on its own.
	Wakeups(ctx context.Context) <-chan string
}

// ErrLeaseLost is returned when work is recorded under a lease that another
// worker has since taken over (its fencing token moved on): the record is
// refused, and the stale holder must stop.
var ErrLeaseLost = errors.New("lease lost to another worker")

// Lease is the right of one worker to one piece of work (a source's fetch, a
// target's queue) until a time. Token is the fencing token: it grows with
// every claim of that piece of work, and the store refuses what a holder
// records once the token has moved on.
type Lease struct {
	Owner string
	Token int64
	Until time.Time // on the store's clock
}

// SourceClaim asks for due sources to fetch.
type SourceClaim struct {
	Owner string
	TTL   time.Duration // how long the lease lasts
	Limit int           // sources at most
	// PerHost caps the leases held at once, by every worker, on sources of
	// one host (0: no cap).
	PerHost int
	// FetchedBefore, when set, passes over sources fetched at or after it:
	// one poll of every source (`run --once`) fetches each once.
	FetchedBefore time.Time
}

// ClaimedSource is a source leased for one fetch.
type ClaimedSource struct {
	Source
	Lease Lease
}

// Lane is one target's queue of deliveries, leased to one dispatcher at a
// time so that its rows go out in order and once.
type Lane struct {
	Target string
	Lease  Lease
	// Due are the target's due pending rows, oldest first, with Story,
	// Stories and ParentRef filled in.
	Due []Delivery
	// SentLastHour counts the instant alerts sent to the target in the last
	// hour (flood control).
	SentLastHour int
	// LastSummary is when the last flood summary to the target went out
	// (zero: never).
	LastSummary time.Time
}

// LaneClaim asks for targets with due deliveries.
type LaneClaim struct {
	Owner string
	TTL   time.Duration
	Lanes int // targets at most
	Rows  int // due rows per target at most
}

// Outcome is what became of deliveries of a leased lane.
type Outcome struct {
	// IDs are the rows: one for a send, several for a summary or a
	// postponement.
	IDs []int64
	// Status is StatusSent, StatusFailed, StatusSummarised, or StatusPending
	// for a row that waits (a retry, or flood control holding it).
	Status string
	Ref    string    // the message reference (sent, summarised)
	At     time.Time // when it was sent, or when the attempt failed
	Next   time.Time // pending: when the row is due again
	// Attempt is true when the outcome ends an attempt to send (it counts).
	Attempt bool
	Error   string // the attempt's error (failed, or pending after an attempt)
	Waiting string // pending: why the row waits
}

// Hold keeps a lane from being claimed until a time (a receiver asked to
// wait), with the reason people see.
type Hold struct {
	Until  time.Time
	Reason string
}

// TargetState is what the store knows of a target's health, for people.
type TargetState struct {
	Target      string
	Pending     int
	LastSent    time.Time
	LastError   string
	LastErrorAt time.Time
	Hold        Hold
	// Lease is the lane's current lease (Owner empty: not being sent).
	Lease Lease
}

// EpochDay formats day n after 1970-01-01 (UTC) as "2026-11-28", as
// AlertDay.Day has it.
func EpochDay(n int64) string {
	return time.UnixMilli(n * 24 * int64(time.Hour/time.Millisecond)).UTC().Format(time.DateOnly)
}

// Store is the persistence wirewatch needs. Every method is safe for
// concurrent use, by several goroutines and by several processes on one
// database: every decision that more than one worker could make at once (a
// fetch, a send, a digest, a cluster) is taken through the store.
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
	// AddSource stores a run-time source, due now; ErrExists when the name or URL is taken.
	AddSource(ctx context.Context, s Source) (Source, error)
	// UpdateSource changes a source's name, URL, schedule, backfill and pause
	// flag; a changed URL or schedule makes it due now.
	UpdateSource(ctx context.Context, s Source) error
	// RemoveSource deletes a source (its stories stay until pruned).
	RemoveSource(ctx context.Context, id int64) error
	// ClaimSources leases up to c.Limit enabled sources that are due (their
	// NextFetch is not after now) and not leased, earliest due first, keeping
	// to c.PerHost.
	ClaimSources(ctx context.Context, c SourceClaim) ([]ClaimedSource, error)
	// NextSourceDue returns when the earliest enabled source falls due, or
	// its lease ends (ok false: no enabled source).
	NextSourceDue(ctx context.Context) (at time.Time, ok bool, err error)
	// FetchAll makes every enabled source due now (`run --once`).
	FetchAll(ctx context.Context) error
	// FetchSoon makes one source due now ("fetch now").
	FetchSoon(ctx context.Context, id int64) error
	// LeaseOwners returns the owners of the leases that have not ended, on
	// sources and lanes alike.
	LeaseOwners(ctx context.Context) ([]string, error)
	// ExpireLeases ends every lease an owner holds, for a worker known to be
	// dead, and returns how many there were; the next claim takes the work
	// over under a new fencing token.
	ExpireLeases(ctx context.Context, owner string) (int, error)
	// SaveSourceState records the outcome of a fetch and, under lease, ends
	// the lease; ErrLeaseLost when another worker has claimed the source
	// since. A zero lease records without one (tools and tests).
	SaveSourceState(ctx context.Context, id int64, st SourceState, lease Lease) error
	// LogFetch adds an entry to its source's fetch log, keeping the source's
	// newest FetchLogKeep entries; ErrNotFound when the source is not there.
	LogFetch(ctx context.Context, e FetchLogEntry) error
	// FetchLog returns a source's newest fetch log entries, newest first, at
	// most limit (0: 50). A source's log goes with the source.
	FetchLog(ctx context.Context, sourceID int64, limit int) ([]FetchLogEntry, error)

	// Ingest inserts a source's stories. Stories whose ID is already stored are not
	// new (their text is updated). For the new ones it calls plan and, in the same
	// transaction, stores the matches, fingerprints and deliveries it returns; a
	// delivery whose (Target, DedupKey) was already delivered or queued is stored
	// with StatusDuplicate instead of pending. A follow-up delivery (KindFollowUp)
	// gets as ParentID the first alert of its Cluster to its Target; when the
	// target has had no alert of that cluster it becomes a pending alert itself.
	Ingest(ctx context.Context, sourceID int64, stories []story.Story, plan PlanFunc) (IngestResult, error)
	// Stories returns stored stories, newest published first.
	Stories(ctx context.Context, q StoryQuery) ([]story.Story, error)
	// Story returns one story by id.
	Story(ctx context.Context, id string) (story.Story, error)
	// MatchCounts returns, per rule name, the matches recorded since a time.
	MatchCounts(ctx context.Context, since time.Time) (map[string]int, error)
	// MatchDays counts the alerts (AlertDefinition) per rule and UTC day of
	// the matches recorded since a time, by rule name and then day; days
	// without alerts are left out.
	MatchDays(ctx context.Context, since time.Time) ([]AlertDay, error)
	// StoryMatches returns the matches recorded for one story, with At, by
	// rule name.
	StoryMatches(ctx context.Context, storyID string) ([]Match, error)
	// OldestFetch returns when the oldest stored story was fetched (zero:
	// no stories), so that rates divide by the days the store holds.
	OldestFetch(ctx context.Context) (time.Time, error)
	// Prune deletes stories (and their matches) fetched before a time, keeping any
	// that a pending delivery still needs. It returns how many stories went.
	Prune(ctx context.Context, before time.Time) (int64, error)
	// ForgetFingerprints drops the cluster fingerprints of stories fetched
	// before a time: older stories no longer join clusters.
	ForgetFingerprints(ctx context.Context, before time.Time) error
	// ForgetTerms drops the counts of the terms no story counted since
	// before had (Plan.Terms); the number of stories counted stays.
	ForgetTerms(ctx context.Context, before time.Time) error

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
	// RulesVersion returns a number that changes whenever any rule is added,
	// changed or removed, by any process; workers poll it to reload.
	RulesVersion(ctx context.Context) (int64, error)

	// Enqueue adds deliveries that do not come from ingest (health, summaries);
	// dedup applies as in Ingest.
	Enqueue(ctx context.Context, ds []Delivery) ([]Delivery, error)
	// ClaimLanes leases up to c.Lanes targets that have due pending rows and
	// are neither leased nor held, and returns each with up to c.Rows of its
	// due rows.
	ClaimLanes(ctx context.Context, c LaneClaim) ([]Lane, error)
	// Settle records an outcome of a leased lane and renews the lease for ttl;
	// ErrLeaseLost, recording nothing, when another worker has the lane now.
	Settle(ctx context.Context, target string, lease Lease, ttl time.Duration, o Outcome) (Lease, error)
	// ReleaseLane ends a lease on a lane, holding the lane until hold.Until
	// when set; ErrLeaseLost when another worker has the lane now.
	ReleaseLane(ctx context.Context, target string, lease Lease, hold Hold) error
	// NextDue returns when the earliest pending delivery falls due, taking
	// the holds and leases of its lane into account (ok false: none pending).
	NextDue(ctx context.Context) (at time.Time, ok bool, err error)
	// Targets returns the health of every target that has had deliveries.
	Targets(ctx context.Context) ([]TargetState, error)
	// Deliveries lists outbox rows for the delivery log.
	Deliveries(ctx context.Context, q DeliveryQuery) ([]Delivery, error)
	// Retry makes a failed or pending delivery pending and due now, and
	// lifts its target's hold (a Retry-After, flood control), so that a
	// person can say "send it now"; ErrConflict for any other status.
	Retry(ctx context.Context, id int64) error
	// Cancel gives a pending delivery up: it becomes failed with reason as
	// its error; ErrConflict for any other status.
	Cancel(ctx context.Context, id int64, reason string) error
	// ClampWaits brings every pending delivery due after latest, and every
	// target hold that lasts past it, forward to latest, and returns how many
	// rows and holds it changed: a wait stored before a lower ceiling was
	// configured must not outlast it.
	ClampWaits(ctx context.Context, latest time.Time) (int, error)
	// OutboxDepth counts pending deliveries.
	OutboxDepth(ctx context.Context) (int, error)

	// RuleStories returns the stories a rule matched with the match recorded in
	// [since, until), newest published first, at most limit, and how many there
	// were in all.
	RuleStories(ctx context.Context, rule string, since, until time.Time, limit int) ([]story.Story, int, error)
	// DigestLast returns when a rule's last digest period ended (zero: never).
	DigestLast(ctx context.Context, rule string) (time.Time, error)
	// AdvanceDigest moves a rule's last digest period end from prev (zero:
	// none yet) to end and enqueues ds, in one transaction, and reports true;
	// when another worker moved it first it changes nothing and reports false.
	AdvanceDigest(ctx context.Context, rule string, prev, end time.Time, ds []Delivery) (bool, error)

	// AddSession stores a dashboard session by the hash of its secret,
	// dropping expired ones and, beyond max, the oldest.
	AddSession(ctx context.Context, hash []byte, expires time.Time, max int) error
	// SessionExpires returns when a session ends; ErrNotFound when there is
	// no such session or it has ended.
	SessionExpires(ctx context.Context, hash []byte) (time.Time, error)
	// DeleteSession ends a session.
	DeleteSession(ctx context.Context, hash []byte) error

	// AcquireLease takes or renews the named lease (a role one worker holds
	// at a time, such as the Discord gateway) for owner until ttl from now,
	// with a new fencing token when it changes hands. It returns ErrLeaseLost
	// while another owner holds it.
	AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (Lease, error)
	// ReleaseLease gives the named lease up, if lease is still its current
	// one.
	ReleaseLease(ctx context.Context, name string, lease Lease) error
	// Remember records key until a time and reports whether it was new: a
	// signed request or an event seen again within that time, by any
	// replica, is a replay to refuse. Keys past their time are forgotten.
	Remember(ctx context.Context, key string, until time.Time) (bool, error)
}
