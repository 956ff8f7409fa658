// Package telegramfake is a fake Telegram Bot API server on 127.0.0.1 for
// tests: sendMessage as Telegram answers it — the token checked, the HTML
// parse mode parsed as strictly as Telegram parses it, the length limit
// kept, reply parameters recorded — with refusals, rate limits and held
// answers on demand. It never reaches the internet.
package telegramfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"unicode/utf16"

	"github.com/wirewatch/wirewatch/notifiers/notifiertest"
)

// MaxText is the longest text Telegram takes, in UTF-16 code units after
// the HTML is parsed.
const MaxText = 4096

// Message is one sendMessage the fake accepted.
type Message struct {
	// ID is the message id the fake answered with.
	ID int64
	// ChatID is chat_id as sent: digits or an @username.
	ChatID string
	// Text is the text as sent; Visible is what a person sees of it.
	Text, Visible string
	// ParseMode is parse_mode as sent.
	ParseMode string
	// ReplyTo is reply_parameters.message_id (or reply_to_message_id); 0 when none.
	ReplyTo int64
	// AllowWithoutReply is reply_parameters.allow_sending_without_reply.
	AllowWithoutReply bool
	// PreviewDisabled is link_preview_options.is_disabled.
	PreviewDisabled bool
}

// Telegram is the fake server; notifiertest.Fake gives it URL (the base for
// api_url), Hold, Calls and Close. It is closed when the test ends; its
// methods are safe for concurrent use.
type Telegram struct {
	*notifiertest.Fake
	token string

	mu       sync.Mutex
	messages []Message
	nextID   int64
}

// New starts a fake that accepts the bot token token.
func New(t testing.TB, token string) *Telegram {
	t.Helper()
	f := &Telegram{token: token, nextID: 100}
	f.Fake = notifiertest.NewFake(t, http.HandlerFunc(f.serve))
	return f
}

// Fail makes the next call fail with status and description, as Telegram
// words its refusals ("Bad Request: chat not found").
func (f *Telegram) Fail(status int, description string) {
	f.Answer(func(w http.ResponseWriter, _ *http.Request) { refuse(w, status, description, 0) })
}

// RateLimit makes the next call answer 429 with parameters.retry_after.
func (f *Telegram) RateLimit(seconds int) {
	f.Answer(func(w http.ResponseWriter, _ *http.Request) {
		refuse(w, http.StatusTooManyRequests, fmt.Sprintf("Too Many Requests: retry after %d", seconds), seconds)
	})
}

// Messages returns the messages accepted so far, oldest first.
func (f *Telegram) Messages() []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Message(nil), f.messages...)
}

func (f *Telegram) serve(w http.ResponseWriter, r *http.Request) {
	token, method, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/bot"), "/")
	switch {
	case !ok || !strings.HasPrefix(r.URL.Path, "/bot"):
		refuse(w, http.StatusNotFound, "Not Found", 0)
		return
	case token != f.token:
		refuse(w, http.StatusUnauthorized, "Unauthorized", 0)
		return
	case method != "sendMessage" || r.Method != http.MethodPost:
		refuse(w, http.StatusNotFound, "Not Found: method not found", 0)
		return
	}
	var req struct {
		ChatID           json.RawMessage `json:"chat_id"`
		Text             string          `json:"text"`
		ParseMode        string          `json:"parse_mode"`
		ReplyToMessageID int64           `json:"reply_to_message_id"`
		ReplyParameters  *struct {
			MessageID                int64 `json:"message_id"`
			AllowSendingWithoutReply bool  `json:"allow_sending_without_reply"`
		} `json:"reply_parameters"`
		LinkPreviewOptions struct {
			IsDisabled bool `json:"is_disabled"`
		} `json:"link_preview_options"`
	}
	body, _ := io.ReadAll(r.Body)
	if r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &req) != nil {
		refuse(w, http.StatusBadRequest, "Bad Request: invalid request body", 0)
		return
	}
	chat := strings.Trim(string(req.ChatID), `"`)
	if chat == "" {
		refuse(w, http.StatusBadRequest, "Bad Request: chat_id is empty", 0)
		return
	}
	visible := req.Text
	if req.ParseMode == "HTML" {
		v, err := ParseHTML(req.Text)
		if err != nil {
			refuse(w, http.StatusBadRequest, "Bad Request: can't parse entities: "+err.Error(), 0)
			return
		}
		visible = v
	}
	switch n := len(utf16.Encode([]rune(visible))); {
	case strings.TrimSpace(visible) == "":
		refuse(w, http.StatusBadRequest, "Bad Request: message text is empty", 0)
		return
	case n > MaxText:
		refuse(w, http.StatusBadRequest, "Bad Request: message is too long", 0)
		return
	}
	m := Message{ChatID: chat, Text: req.Text, Visible: visible, ParseMode: req.ParseMode,
		ReplyTo: req.ReplyToMessageID, PreviewDisabled: req.LinkPreviewOptions.IsDisabled}
	if p := req.ReplyParameters; p != nil {
		m.ReplyTo, m.AllowWithoutReply = p.MessageID, p.AllowSendingWithoutReply
	}
	f.mu.Lock()
	if m.ReplyTo != 0 && !m.AllowWithoutReply && !f.known(m.ChatID, m.ReplyTo) {
		f.mu.Unlock()
		refuse(w, http.StatusBadRequest, "Bad Request: message to be replied not found", 0)
		return
	}
	f.nextID++
	m.ID = f.nextID
	f.messages = append(f.messages, m)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "result": map[string]any{
		"message_id": m.ID, "chat": map[string]any{"id": chat}, "date": 1764320400, "text": visible}})
}

// known reports a message id sent to chat; f.mu is held.
func (f *Telegram) known(chat string, id int64) bool {
	for _, m := range f.messages {
		if m.ChatID == chat && m.ID == id {
			return true
		}
	}
	return false
}

func refuse(w http.ResponseWriter, status int, desc string, retryAfter int) {
	body := map[string]any{"ok": false, "error_code": status, "description": desc}
	if retryAfter > 0 {
		body["parameters"] = map[string]any{"retry_after": retryAfter}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
