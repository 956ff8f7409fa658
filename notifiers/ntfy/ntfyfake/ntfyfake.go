// Package ntfyfake is a fake ntfy server on 127.0.0.1 for tests: JSON
// publishing at its root with token or basic auth, ntfy's checks of topic,
// priority and message size, and its error answers, with refusals, rate
// limits and held answers on demand. It never reaches the internet.
package ntfyfake

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"testing"

	"github.com/wirewatch/wirewatch/notifiers/notifiertest"
)

// MaxMessage is the longest message the fake takes, in bytes (ntfy.sh would
// turn a longer one into an attachment).
const MaxMessage = 4096

// Notification is one message the fake accepted.
type Notification struct {
	ID       string
	Topic    string
	Title    string
	Message  string
	Click    string
	Tags     []string
	Priority int
	Markdown bool
	// Auth is the Authorization header it came with.
	Auth string
}

// Ntfy is the fake server; notifiertest.Fake gives it URL, Hold, Calls and
// Close. It is closed when the test ends; its methods are safe for
// concurrent use.
type Ntfy struct {
	*notifiertest.Fake
	auth string // the Authorization header required; "" for none

	mu   sync.Mutex
	msgs []Notification
}

// New starts a fake that requires the Authorization header auth ("" for an
// open server).
func New(t testing.TB, auth string) *Ntfy {
	t.Helper()
	f := &Ntfy{auth: auth}
	f.Fake = notifiertest.NewFake(t, http.HandlerFunc(f.serve))
	return f
}

// Fail makes the next request fail with status and message in ntfy's form.
func (f *Ntfy) Fail(status int, message string) {
	f.Answer(func(w http.ResponseWriter, _ *http.Request) { refuse(w, status, message) })
}

// RateLimit makes the next request answer 429, with a Retry-After of
// seconds (ntfy behind a proxy that sets one).
func (f *Ntfy) RateLimit(seconds int) {
	f.Answer(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", strconv.Itoa(seconds))
		refuse(w, http.StatusTooManyRequests, "limit reached: too many requests")
	})
}

// Notifications returns the accepted messages, oldest first.
func (f *Ntfy) Notifications() []Notification {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Notification(nil), f.msgs...)
}

var topicRE = regexp.MustCompile(`^[-_A-Za-z0-9]{1,64}$`)

func (f *Ntfy) serve(w http.ResponseWriter, r *http.Request) {
	if f.auth != "" && r.Header.Get("Authorization") != f.auth {
		refuse(w, http.StatusForbidden, "forbidden")
		return
	}
	var n Notification
	body, _ := io.ReadAll(r.Body)
	if r.Method != http.MethodPost || r.URL.Path != "/" || json.Unmarshal(body, &n) != nil {
		refuse(w, http.StatusBadRequest, "invalid request: request body must be message JSON")
		return
	}
	switch {
	case !topicRE.MatchString(n.Topic):
		refuse(w, http.StatusBadRequest, "invalid request: topic invalid")
		return
	case n.Priority < 0 || n.Priority > 5:
		refuse(w, http.StatusBadRequest, "invalid request: priority invalid")
		return
	case len(n.Message) > MaxMessage:
		refuse(w, http.StatusRequestEntityTooLarge, "message too large: would be sent as an attachment")
		return
	}
	n.Auth = r.Header.Get("Authorization")
	id := make([]byte, 6)
	_, _ = rand.Read(id)
	n.ID = hex.EncodeToString(id)
	f.mu.Lock()
	f.msgs = append(f.msgs, n)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"id": n.ID, "time": 1764320400, "event": "message", "topic": n.Topic,
		"title": n.Title, "message": n.Message})
}

func refuse(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": status*100 + 1, "http": status, "error": message,
		"link": "https://ntfy.sh/docs/publish/"})
}
