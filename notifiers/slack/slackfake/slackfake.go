package slackfake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// Message is one chat.postMessage or chat.postEphemeral the fake Slack accepted.
type Message struct {
	// Method is "chat.postMessage" or "chat.postEphemeral".
	Method string
	// Token is the token the request carried (form field or bearer header).
	Token   string
	Channel string
	// User is the recipient of an ephemeral message.
	User string
	Text string
	// Blocks is the blocks form field as sent (a JSON array), nil when absent.
	Blocks   json.RawMessage
	ThreadTS string
	// UnfurlLinks and UnfurlMedia are the form fields as sent: "true",
	// "false", or "" when the client did not send them.
	UnfurlLinks string
	UnfurlMedia string
	// TS is the message ts the fake answered with.
	TS string
	// Form holds every form field of the request.
	Form url.Values
}

// Channel is a conversation the fake Slack knows.
type Channel struct {
	ID        string
	Name      string
	IsPrivate bool
	// IsArchived channels are listed only without exclude_archived; posting to one answers is_archived.
	IsArchived bool
	// NotMember: the bot is not in the channel, so posting answers not_in_channel.
	NotMember bool
}

// Slack is a fake Slack on 127.0.0.1 that the real slack-go client talks to:
// the Web API methods wirewatch uses (chat.postMessage, chat.postEphemeral,
// conversations.list, auth.test, apps.connections.open), a receiver for
// response_url posts, and a Socket Mode websocket that sends hello, pings and
// envelopes and reads acks. It records what it receives; read it through its
// methods, which are safe for concurrent use. It is closed when the test ends.
//
// Like Slack, chat.postMessage rejects a message that breaks Slack's limits
// (over 50 blocks, a text object over 3000 characters, a header over 150, a
// section with over 10 fields or a field over 2000, a context with over 10
// elements, text over 40,000 characters, invalid UTF-8) with invalid_blocks or
// msg_too_long, so tests see a limit broken as a failed send.
type Slack struct {
	srv  *httptest.Server
	done chan struct{}
	wg   sync.WaitGroup // websocket goroutines

	mu         sync.Mutex
	closed     bool
	changed    chan struct{} // closed and replaced whenever something is recorded
	botToken   string
	appToken   string
	channels   []Channel
	known      bool // channels were set: posting checks them
	pageSize   int
	pingEvery  time.Duration
	scripts    map[string][]slackScript
	calls      map[string]int
	messages   []Message
	ephemerals []Message
	responses  []json.RawMessage
	seq        int
	conns      []*slackConn
	accepted   int
	pongs      int
	acks       map[string]chan json.RawMessage
}

type slackScript struct {
	status int
	header map[string]string
	body   string
}

type slackConn struct {
	ws      *websocket.Conn
	writeMu sync.Mutex
	done    chan struct{}
}

// The ids the fake Slack reports for the app, its bot user and the workspace.
const (
	AppID     = "A0FAKEAPP"
	BotUserID = "U0FAKEBOT"
	TeamID    = "T0FAKETEAM"
)

// New starts a fake Slack. Any non-empty bot token is accepted and any
// app token that starts with "xapp-" until SetTokens says otherwise; it pings
// Socket Mode clients every 200 ms.
func New(t testing.TB) *Slack {
	t.Helper()
	s := &Slack{
		done:      make(chan struct{}),
		changed:   make(chan struct{}),
		pingEvery: 200 * time.Millisecond,
		pageSize:  100,
		scripts:   make(map[string][]slackScript),
		calls:     make(map[string]int),
		acks:      make(map[string]chan json.RawMessage),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/", s.serveAPI)
	mux.HandleFunc("/response/", s.serveResponseURL)
	mux.HandleFunc("/link/", s.serveSocket)
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// URL returns the Web API base with its trailing slash, for slack.OptionAPIURL.
func (s *Slack) URL() string { return s.srv.URL + "/api/" }

// ResponseURL returns a response_url whose JSON posts the fake records (see Responses).
func (s *Slack) ResponseURL() string { return s.srv.URL + "/response/hooks" }

// SetTokens makes the fake accept only these tokens: bot for the Web API
// methods (else invalid_auth), app for apps.connections.open. An empty value
// keeps the default check.
func (s *Slack) SetTokens(bot, app string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.botToken, s.appToken = bot, app
}

// SetChannels sets the conversations the fake lists. From then on
// chat.postMessage checks its channel against them (by id or name) and answers
// channel_not_found, not_in_channel or is_archived as Slack would.
func (s *Slack) SetChannels(chs ...Channel) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channels = append([]Channel(nil), chs...)
	s.known = true
}

// SetPageSize sets the most channels one conversations.list page holds (default 100).
func (s *Slack) SetPageSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pageSize = max(n, 1)
}

// SetPingInterval sets how often the Socket Mode websocket pings, for
// connections made afterwards; 0 stops pinging (the client then reconnects
// after its ping timeout).
func (s *Slack) SetPingInterval(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pingEvery = d
}

// FailNext makes the next call of method (a Web API method such as
// "chat.postMessage", or "response_url") answer with status, headers and
// body instead. Calls queue up in order. A Slack API error is status 200 with
// a body such as {"ok":false,"error":"channel_not_found"}; see FailNextError.
func (s *Slack) FailNext(method string, status int, headers map[string]string, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scripts[method] = append(s.scripts[method], slackScript{status: status, header: headers, body: body})
}

// FailNextError makes the next call of method answer 200 with {"ok":false,"error":code}.
func (s *Slack) FailNextError(method, code string) {
	body, _ := json.Marshal(map[string]any{"ok": false, "error": code})
	s.FailNext(method, http.StatusOK, map[string]string{"Content-Type": "application/json"}, string(body))
}

// Calls returns how many times method was called, answered by a script or not.
func (s *Slack) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// Messages returns the chat.postMessage calls accepted so far, oldest first.
func (s *Slack) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// WaitMessages blocks until at least n messages were accepted and returns them all.
func (s *Slack) WaitMessages(ctx context.Context, n int) ([]Message, error) {
	var out []Message
	err := s.waitFor(ctx, fmt.Sprintf("%d messages", n), func() bool {
		out = append([]Message(nil), s.messages...)
		return len(out) >= n
	})
	return out, err
}

// Ephemerals returns the chat.postEphemeral calls accepted so far, oldest first.
func (s *Slack) Ephemerals() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.ephemerals...)
}

// WaitEphemerals blocks until at least n ephemeral messages were accepted and returns them all.
func (s *Slack) WaitEphemerals(ctx context.Context, n int) ([]Message, error) {
	var out []Message
	err := s.waitFor(ctx, fmt.Sprintf("%d ephemeral messages", n), func() bool {
		out = append([]Message(nil), s.ephemerals...)
		return len(out) >= n
	})
	return out, err
}

// Responses returns the JSON bodies posted to ResponseURL so far, oldest first.
func (s *Slack) Responses() []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]json.RawMessage(nil), s.responses...)
}

// WaitResponses blocks until at least n bodies were posted to ResponseURL and returns them all.
func (s *Slack) WaitResponses(ctx context.Context, n int) ([]json.RawMessage, error) {
	var out []json.RawMessage
	err := s.waitFor(ctx, fmt.Sprintf("%d response_url posts", n), func() bool {
		out = append([]json.RawMessage(nil), s.responses...)
		return len(out) >= n
	})
	return out, err
}

// Connections returns how many Socket Mode websocket connections the fake
// has accepted so far (a reconnect counts again).
func (s *Slack) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

// WaitConnections blocks until at least n websocket connections were accepted
// and greeted with hello.
func (s *Slack) WaitConnections(ctx context.Context, n int) error {
	return s.waitFor(ctx, fmt.Sprintf("%d connections", n), func() bool { return s.accepted >= n })
}

// Pongs returns how many pongs clients have sent back to the fake's pings.
func (s *Slack) Pongs() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pongs
}

// WaitPongs blocks until clients have answered at least n pings.
func (s *Slack) WaitPongs(ctx context.Context, n int) error {
	return s.waitFor(ctx, fmt.Sprintf("%d pongs", n), func() bool { return s.pongs >= n })
}

// SendSlashCommand sends a slash_commands envelope with payload (a
// slack.SlashCommand, a map, or anything that encodes to the command's JSON)
// over the newest Socket Mode connection, waiting for one if there is none,
// and waits for the client's ack. It returns the ack's payload (nil when the
// ack had none).
func (s *Slack) SendSlashCommand(ctx context.Context, payload any) (json.RawMessage, error) {
	return s.SendEnvelope(ctx, "slash_commands", payload)
}

// SendEnvelope sends an envelope of type typ ("slash_commands",
// "interactive", "events_api") with payload and a new envelope_id over the
// newest Socket Mode connection, and waits for the client's ack; it returns
// the ack's payload.
func (s *Slack) SendEnvelope(ctx context.Context, typ string, payload any) (json.RawMessage, error) {
	s.mu.Lock()
	s.seq++
	id := fmt.Sprintf("env-%d", s.seq)
	s.mu.Unlock()
	return s.SendEnvelopeAgain(ctx, typ, id, 0, payload)
}

// SendEnvelopeAgain sends an envelope with a given envelope_id and
// retry_attempt, as Slack does when it saw no ack in time, and waits for the
// client's ack; it returns the ack's payload.
func (s *Slack) SendEnvelopeAgain(ctx context.Context, typ, id string, retryAttempt int, payload any) (json.RawMessage, error) {
	c, err := s.waitConn(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	ack := make(chan json.RawMessage, 1)
	s.acks[id] = ack
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.acks, id)
		s.mu.Unlock()
	}()

	env := map[string]any{
		"type":                     typ,
		"envelope_id":              id,
		"accepts_response_payload": typ != "events_api",
		"payload":                  payload,
		"retry_attempt":            retryAttempt,
		"retry_reason":             map[bool]string{true: "timeout"}[retryAttempt > 0],
	}
	if err := c.writeJSON(env); err != nil {
		return nil, fmt.Errorf("fake slack: send %s envelope: %w", typ, err)
	}
	select {
	case p := <-ack:
		return p, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("fake slack: no ack for envelope %s: %w", id, ctx.Err())
	case <-s.done:
		return nil, errors.New("fake slack: closed while waiting for an ack")
	}
}

// Disconnect asks every open Socket Mode client to reconnect, as Slack does
// before it rotates a connection: it sends {"type":"disconnect"} and closes
// the socket. Wait for the new connection with WaitConnections.
func (s *Slack) Disconnect() {
	s.mu.Lock()
	conns := append([]*slackConn(nil), s.conns...)
	s.mu.Unlock()
	msg := map[string]any{
		"type":       "disconnect",
		"reason":     "refresh_requested",
		"debug_info": map[string]any{"host": "wirewatch-fake"},
	}
	for _, c := range conns {
		_ = c.writeJSON(msg)
		_ = c.ws.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseGoingAway, "refresh"), time.Now().Add(time.Second))
		_ = c.ws.Close()
	}
}

// Close shuts the fake down: websockets first, then the HTTP server. It is
// safe to call twice.
func (s *Slack) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.done)
	conns := append([]*slackConn(nil), s.conns...)
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.ws.Close()
	}
	s.srv.Close()
	s.wg.Wait()
}

// waitFor blocks until cond, evaluated under the lock, holds.
func (s *Slack) waitFor(ctx context.Context, what string, cond func() bool) error {
	for {
		s.mu.Lock()
		if cond() {
			s.mu.Unlock()
			return nil
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("fake slack: waiting for %s: %w", what, ctx.Err())
		}
	}
}

// notifyLocked wakes the waiters; s.mu must be held.
func (s *Slack) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Slack) waitConn(ctx context.Context) (*slackConn, error) {
	var c *slackConn
	err := s.waitFor(ctx, "a Socket Mode connection", func() bool {
		if n := len(s.conns); n > 0 {
			c = s.conns[n-1]
			return true
		}
		return false
	})
	return c, err
}

func (s *Slack) serveAPI(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	if err := r.ParseForm(); err != nil {
		slackReply(w, map[string]any{"ok": false, "error": "invalid_form_data"})
		return
	}
	s.mu.Lock()
	s.calls[method]++
	s.notifyLocked()
	script, scripted := s.popScriptLocked(method)
	s.mu.Unlock()
	if scripted {
		script.write(w)
		return
	}

	token := r.PostForm.Get("token")
	if token == "" {
		token = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	if method == "apps.connections.open" {
		s.openConnection(w, token)
		return
	}
	if errCode := s.checkBotToken(token); errCode != "" {
		slackReply(w, map[string]any{"ok": false, "error": errCode})
		return
	}
	switch method {
	case "auth.test":
		slackReply(w, map[string]any{
			"ok": true, "url": "https://wirewatch-fake.slack.com/", "team": "wirewatch fake",
			"user": "wirewatch", "team_id": TeamID, "user_id": BotUserID, "bot_id": "B0FAKEBOT",
		})
	case "conversations.list":
		s.listConversations(w, r.PostForm)
	case "chat.postMessage", "chat.postEphemeral":
		s.postMessage(w, method, token, r.PostForm)
	default:
		slackReply(w, map[string]any{"ok": false, "error": "unknown_method"})
	}
}

func (s *Slack) popScriptLocked(method string) (slackScript, bool) {
	q := s.scripts[method]
	if len(q) == 0 {
		return slackScript{}, false
	}
	s.scripts[method] = q[1:]
	return q[0], true
}

func (sc slackScript) write(w http.ResponseWriter) {
	for k, v := range sc.header {
		w.Header().Set(k, v)
	}
	if w.Header().Get("Content-Type") == "" && strings.HasPrefix(strings.TrimSpace(sc.body), "{") {
		w.Header().Set("Content-Type", "application/json")
	}
	status := sc.status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, sc.body)
}

func slackReply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Slack) checkBotToken(token string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case token == "":
		return "not_authed"
	case s.botToken != "" && token != s.botToken:
		return "invalid_auth"
	}
	return ""
}

func (s *Slack) openConnection(w http.ResponseWriter, token string) {
	s.mu.Lock()
	want := s.appToken
	s.seq++
	ticket := s.seq
	s.mu.Unlock()
	if token == "" || (want == "" && !strings.HasPrefix(token, "xapp-")) || (want != "" && token != want) {
		slackReply(w, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	wsURL := "ws://" + strings.TrimPrefix(s.srv.URL, "http://") + "/link/?ticket=" + strconv.Itoa(ticket)
	slackReply(w, map[string]any{"ok": true, "url": wsURL})
}

func (s *Slack) listConversations(w http.ResponseWriter, form url.Values) {
	types := form.Get("types")
	if types == "" {
		types = "public_channel"
	}
	public := strings.Contains(types, "public_channel")
	private := strings.Contains(types, "private_channel")
	excludeArchived := form.Get("exclude_archived") == "true"

	s.mu.Lock()
	var matching []Channel
	for _, c := range s.channels {
		if (c.IsPrivate && !private) || (!c.IsPrivate && !public) || (c.IsArchived && excludeArchived) {
			continue
		}
		matching = append(matching, c)
	}
	page := s.pageSize
	s.mu.Unlock()

	if limit, err := strconv.Atoi(form.Get("limit")); err == nil && limit > 0 {
		page = min(page, limit)
	}
	start := 0
	if cur := form.Get("cursor"); cur != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(cur, "page:"))
		if err != nil || n < 0 || n > len(matching) {
			slackReply(w, map[string]any{"ok": false, "error": "invalid_cursor"})
			return
		}
		start = n
	}
	end := min(start+page, len(matching))
	chans := make([]map[string]any, 0, end-start)
	for _, c := range matching[start:end] {
		chans = append(chans, map[string]any{
			"id": c.ID, "name": c.Name, "is_channel": true, "is_private": c.IsPrivate,
			"is_archived": c.IsArchived, "is_member": !c.NotMember,
		})
	}
	next := ""
	if end < len(matching) {
		next = "page:" + strconv.Itoa(end)
	}
	slackReply(w, map[string]any{"ok": true, "channels": chans, "response_metadata": map[string]any{"next_cursor": next}})
}

func (s *Slack) postMessage(w http.ResponseWriter, method, token string, form url.Values) {
	channel := form.Get("channel")
	id, errCode := s.checkChannel(channel)
	if errCode == "" {
		errCode = checkSlackMessage(form)
	}
	if errCode != "" {
		slackReply(w, map[string]any{"ok": false, "error": errCode})
		return
	}
	m := Message{
		Method:      method,
		Token:       token,
		Channel:     channel,
		User:        form.Get("user"),
		Text:        form.Get("text"),
		ThreadTS:    form.Get("thread_ts"),
		UnfurlLinks: form.Get("unfurl_links"),
		UnfurlMedia: form.Get("unfurl_media"),
		Form:        form,
	}
	if b := form.Get("blocks"); b != "" {
		m.Blocks = json.RawMessage(b)
	}
	s.mu.Lock()
	s.seq++
	m.TS = fmt.Sprintf("1700000000.%06d", s.seq)
	if method == "chat.postEphemeral" {
		s.ephemerals = append(s.ephemerals, m)
	} else {
		s.messages = append(s.messages, m)
	}
	s.notifyLocked()
	s.mu.Unlock()

	if method == "chat.postEphemeral" {
		slackReply(w, map[string]any{"ok": true, "message_ts": m.TS})
		return
	}
	slackReply(w, map[string]any{
		"ok": true, "channel": id, "ts": m.TS,
		"message": map[string]any{"type": "message", "text": m.Text, "ts": m.TS, "thread_ts": m.ThreadTS, "bot_id": "B0FAKEBOT"},
	})
}

// checkChannel finds channel (an id, a name or #name) among the set channels
// and returns its id, or the error Slack would answer.
func (s *Slack) checkChannel(channel string) (string, string) {
	if channel == "" {
		return "", "channel_not_found"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.known {
		return channel, ""
	}
	name := strings.TrimPrefix(channel, "#")
	for _, c := range s.channels {
		if c.ID != channel && c.Name != name {
			continue
		}
		switch {
		case c.IsArchived:
			return "", "is_archived"
		case c.NotMember:
			return "", "not_in_channel"
		}
		return c.ID, ""
	}
	return "", "channel_not_found"
}

// checkSlackMessage applies Slack's message limits to a chat.post* form.
func checkSlackMessage(form url.Values) string {
	text, blocks := form.Get("text"), form.Get("blocks")
	if !utf8.ValidString(text) || !utf8.ValidString(blocks) {
		return "invalid_arguments"
	}
	if slackLen(text) > 40000 {
		return "msg_too_long"
	}
	if blocks == "" {
		if strings.TrimSpace(text) == "" {
			return "no_text"
		}
		return ""
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(blocks), &list); err != nil || len(list) > 50 {
		return "invalid_blocks"
	}
	for _, b := range list {
		if !slackBlockOK(b) {
			return "invalid_blocks"
		}
	}
	return ""
}

func slackBlockOK(b map[string]any) bool {
	textOK := func(v any, limit int) bool {
		if v == nil {
			return true
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return false
		}
		t, ok := obj["text"].(string)
		return ok && slackLen(t) <= limit
	}
	switch b["type"] {
	case "header":
		return textOK(b["text"], 150)
	case "section":
		fields, _ := b["fields"].([]any)
		if len(fields) > 10 || (b["text"] == nil && len(fields) == 0) {
			return false
		}
		for _, f := range fields {
			if !textOK(f, 2000) {
				return false
			}
		}
		return textOK(b["text"], 3000)
	case "context":
		elems, _ := b["elements"].([]any)
		if len(elems) == 0 || len(elems) > 10 {
			return false
		}
		for _, e := range elems {
			if obj, _ := e.(map[string]any); obj != nil && obj["type"] != "image" && !textOK(obj, 3000) {
				return false
			}
		}
		return true
	case nil, "":
		return false
	}
	return true
}

// slackLen counts s as Slack does at most: in UTF-16 code units.
func slackLen(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

func (s *Slack) serveResponseURL(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.calls["response_url"]++
	script, scripted := s.popScriptLocked("response_url")
	if !scripted {
		if json.Valid(body) {
			s.responses = append(s.responses, json.RawMessage(body))
		} else {
			script = slackScript{status: http.StatusBadRequest, body: "invalid_payload"}
			scripted = true
		}
	}
	s.notifyLocked()
	s.mu.Unlock()
	if scripted {
		script.write(w)
		return
	}
	slackReply(w, map[string]any{"ok": true})
}

var slackUpgrader = websocket.Upgrader{
	// slack-go dials with Origin: https://api.slack.com.
	CheckOrigin: func(*http.Request) bool { return true },
}

func (s *Slack) serveSocket(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	closed, every := s.closed, s.pingEvery
	s.mu.Unlock()
	if closed {
		http.Error(w, "closed", http.StatusServiceUnavailable)
		return
	}
	ws, err := slackUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	c := &slackConn{ws: ws, done: make(chan struct{})}
	ws.SetPongHandler(func(string) error {
		s.mu.Lock()
		s.pongs++
		s.notifyLocked()
		s.mu.Unlock()
		return nil
	})
	hello := map[string]any{
		"type":            "hello",
		"num_connections": 1,
		"debug_info":      map[string]any{"host": "wirewatch-fake", "approximate_connection_time": 18060},
		"connection_info": map[string]any{"app_id": AppID},
	}
	if err := c.writeJSON(hello); err != nil {
		_ = ws.Close()
		return
	}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ws.Close()
		return
	}
	s.conns = append(s.conns, c)
	s.accepted++
	s.notifyLocked()
	s.wg.Add(2)
	s.mu.Unlock()

	go s.readSocket(c)
	go s.pingSocket(c, every)
}

// readSocket reads acks until the connection ends, then forgets it.
func (s *Slack) readSocket(c *slackConn) {
	defer s.wg.Done()
	defer func() {
		close(c.done)
		_ = c.ws.Close()
		s.mu.Lock()
		for i, x := range s.conns {
			if x == c {
				s.conns = append(s.conns[:i], s.conns[i+1:]...)
				break
			}
		}
		s.notifyLocked()
		s.mu.Unlock()
	}()
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		var ack struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if json.Unmarshal(data, &ack) != nil || ack.EnvelopeID == "" {
			continue
		}
		s.mu.Lock()
		if ch, ok := s.acks[ack.EnvelopeID]; ok {
			select {
			case ch <- ack.Payload:
			default: // a second ack for one envelope
			}
		}
		s.notifyLocked()
		s.mu.Unlock()
	}
}

// pingSocket sends PING control frames, as Slack does, until the connection ends.
func (s *Slack) pingSocket(c *slackConn, every time.Duration) {
	defer s.wg.Done()
	if every <= 0 {
		select {
		case <-c.done:
		case <-s.done:
		}
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-s.done:
			return
		case <-t.C:
			if err := c.ws.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(time.Second)); err != nil {
				return
			}
		}
	}
}

func (c *slackConn) writeJSON(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if err := c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second)); err != nil {
		return err
	}
	return c.ws.WriteMessage(websocket.TextMessage, data)
}
