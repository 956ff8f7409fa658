// Package mattermostfake is a fake Mattermost server on 127.0.0.1 for tests:
// POST /api/v4/posts with a bearer token, threads by root_id, incoming
// webhooks at /hooks/KEY, the post size limit and Mattermost's error answers,
// with refusals, rate limits and held answers on demand. It never reaches
// the internet.
package mattermostfake

import (
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/wirewatch/wirewatch/notifiers/notifiertest"
)

// MaxMessage is the longest post the fake takes, in characters.
const MaxMessage = 16383

// Post is one post the fake accepted.
type Post struct {
	ID        string
	ChannelID string // empty for a webhook post
	Message   string
	RootID    string
	// Hook is the key of the webhook it came through; empty for an API post.
	Hook string
}

// Mattermost is the fake server; notifiertest.Fake gives it URL, Hold,
// Calls and Close. It is closed when the test ends; its methods are safe for
// concurrent use.
type Mattermost struct {
	*notifiertest.Fake
	token string
	hook  string

	mu       sync.Mutex
	channels map[string]bool
	posts    []Post
}

// New starts a fake that takes the bot token token, the webhook key hook and
// posts to channels.
func New(t testing.TB, token, hook string, channels ...string) *Mattermost {
	t.Helper()
	f := &Mattermost{token: token, hook: hook, channels: map[string]bool{}}
	for _, c := range channels {
		f.channels[c] = true
	}
	f.Fake = notifiertest.NewFake(t, http.HandlerFunc(f.serve))
	return f
}

// HookURL is the URL of the fake's incoming webhook.
func (f *Mattermost) HookURL() string { return f.URL() + "/hooks/" + f.hook }

// Fail makes the next request fail with status and message in Mattermost's
// error form.
func (f *Mattermost) Fail(status int, message string) {
	f.Answer(func(w http.ResponseWriter, _ *http.Request) { refuse(w, status, "api.fake.scripted", message) })
}

// RateLimit makes the next request answer 429 with Retry-After and
// X-Ratelimit-Reset of seconds, as Mattermost's rate limiter does.
func (f *Mattermost) RateLimit(seconds int) {
	f.Answer(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", strconv.Itoa(seconds))
		w.Header().Set("X-Ratelimit-Reset", strconv.Itoa(seconds))
		refuse(w, http.StatusTooManyRequests, "api.context.rate_limit.app_error", "Too many requests. Please try again later.")
	})
}

// Posts returns the posts accepted so far, oldest first.
func (f *Mattermost) Posts() []Post {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Post(nil), f.posts...)
}

func (f *Mattermost) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/api/v4/posts":
		f.createPost(w, r, body)
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/hooks/"):
		f.webhook(w, strings.TrimPrefix(r.URL.Path, "/hooks/"), body)
	default:
		refuse(w, http.StatusNotFound, "api.context.404.app_error", "Sorry, we could not find the page.")
	}
}

func (f *Mattermost) createPost(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		refuse(w, http.StatusUnauthorized, "api.context.session_expired.app_error", "Invalid or expired session, please login again.")
		return
	}
	var p Post
	var in struct {
		ChannelID string `json:"channel_id"`
		Message   string `json:"message"`
		RootID    string `json:"root_id"`
	}
	if json.Unmarshal(body, &in) != nil {
		refuse(w, http.StatusBadRequest, "api.context.invalid_body_param.app_error", "Invalid or missing post in request body.")
		return
	}
	p.ChannelID, p.Message, p.RootID = in.ChannelID, in.Message, in.RootID
	f.mu.Lock()
	known, rootOK := f.channels[p.ChannelID], p.RootID == "" || f.root(p.RootID, p.ChannelID)
	f.mu.Unlock()
	switch {
	case !known:
		refuse(w, http.StatusForbidden, "api.context.permissions.app_error", "You do not have the appropriate permissions.")
	case !rootOK:
		refuse(w, http.StatusBadRequest, "api.post.create_post.root_id.app_error", "Invalid RootId parameter.")
	default:
		f.accept(w, p, http.StatusCreated)
	}
}

func (f *Mattermost) webhook(w http.ResponseWriter, key string, body []byte) {
	if key != f.hook {
		refuse(w, http.StatusBadRequest, "web.incoming_webhook.invalid.app_error", "Invalid webhook.")
		return
	}
	var in struct {
		Text string `json:"text"`
	}
	if json.Unmarshal(body, &in) != nil {
		refuse(w, http.StatusBadRequest, "api.webhook.incoming.error", "Unable to parse the request body.")
		return
	}
	f.accept(w, Post{Message: in.Text, Hook: key}, http.StatusOK)
}

// accept checks a post as Mattermost does and keeps it.
func (f *Mattermost) accept(w http.ResponseWriter, p Post, status int) {
	switch {
	case strings.TrimSpace(p.Message) == "":
		refuse(w, http.StatusBadRequest, "web.incoming_webhook.text.app_error", "No text specified.")
		return
	case !utf8.ValidString(p.Message) || utf8.RuneCountInString(p.Message) > MaxMessage:
		refuse(w, http.StatusBadRequest, "model.post.is_valid.message_length.app_error", "Invalid Message property for post.")
		return
	}
	p.ID = newID()
	f.mu.Lock()
	f.posts = append(f.posts, p)
	f.mu.Unlock()
	if p.Hook != "" {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "ok")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"id": p.ID, "channel_id": p.ChannelID, "message": p.Message,
		"root_id": p.RootID, "create_at": 1764320400000})
}

// root reports a root post of channel with id; f.mu is held.
func (f *Mattermost) root(id, channel string) bool {
	for _, p := range f.posts {
		if p.ID == id && p.ChannelID == channel && p.RootID == "" {
			return true
		}
	}
	return false
}

func refuse(w http.ResponseWriter, status int, id, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"id": id, "message": message, "detailed_error": "",
		"request_id": newID(), "status_code": status})
}

// newID makes a 26-character id as Mattermost's are.
func newID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 26)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
