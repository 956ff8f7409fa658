package discordfake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Discord is a fake Discord on 127.0.0.1 for tests that drive the real
// discordgo client: the REST routes wirewatch uses, under /api/ with or
// without a version (/api/v9/…, /api/v10/…), and the gateway websocket at /.
// Point discordgo at it with discord.SetAPIBase(d.Base()).
//
// REST: POST channels/{id}/messages, POST webhooks/{id}/{token} (execute or
// interaction follow-up; with wait=true it answers the message),
// PATCH/DELETE webhooks/{id}/{token}/messages/{id} (@original is the
// interaction reply), PUT and GET applications/{app}[/guilds/{g}]/commands,
// POST interactions/{id}/{token}/callback (204), GET gateway, GET gateway/bot
// and GET users/@me. Bodies must be JSON. Anything else is a Discord-style 404.
// FailNext scripts failures.
//
// Gateway: HELLO on connect; IDENTIFY is answered with READY, RESUME of the
// current session with RESUMED (of another with op 9, invalid session);
// heartbeats with acks. SendDispatch and SendInteraction send events with
// increasing sequence numbers; Reconnect sends op 7.
//
// Everything it receives is recorded; the accessors copy under a lock and the
// Wait methods block until enough has arrived, so tests need no sleeps.
type Discord struct {
	srv *httptest.Server

	mu         sync.Mutex
	changed    chan struct{} // closed and replaced on every recorded change
	closed     bool
	reqs       []Request
	fails      []discordFailure
	nextID     int64
	commands   map[string]json.RawMessage // last bulk overwrite per "app" or "app/guild"
	conns      map[*gatewayConn]struct{}
	live       *gatewayConn // the connection that may receive dispatches
	seq        int64
	sessionID  string
	sessions   int
	identifies []Identify
	resumes    []Resume
	heartbeats int
}

// Identities of the fake's application, bot user and guild.
const (
	AppID   = "100000000000000001"
	BotID   = "100000000000000002"
	GuildID = "100000000000000003"
)

// discordHeartbeatMS is the interval HELLO asks for, in milliseconds: long,
// so a test sees the one heartbeat discordgo sends at once and no more.
const discordHeartbeatMS = 41250

// Request is one REST request the fake received.
type Request struct {
	Method string
	// Path is the path as sent ("/api/v9/channels/1/messages").
	Path string
	// Route is the path below the API version ("/channels/1/messages").
	Route string
	// Params are the route's variables: "channel", "webhook", "token",
	// "message", "app", "guild", "interaction", as the route has them.
	Params map[string]string
	Query  url.Values
	Header http.Header
	Body   []byte
	// Status is the status the fake answered.
	Status int
	// ID is the id of the message the request created or edited, if any.
	ID string

	kind string
}

// Decode unmarshals the request's JSON body into v.
func (r Request) Decode(v any) error {
	return json.Unmarshal(r.Body, v)
}

// Kinds of request the typed accessors select.
const (
	kindMessage  = "message"
	kindEdit     = "edit"
	kindCommands = "commands"
	kindCallback = "callback"
)

// Identify is an IDENTIFY (op 2) the gateway received.
type Identify struct {
	Token   string
	Intents int
	// SessionID is the session the fake started for it.
	SessionID string
}

// Resume is a RESUME (op 6) the gateway received.
type Resume struct {
	Token     string
	SessionID string
	Seq       int64
}

type discordFailure struct {
	prefix  string
	status  int
	headers map[string]string
	body    string
}

// New starts a fake Discord that is closed when the test ends.
func New(t testing.TB) *Discord {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("discord fake: listen: %v", err)
	}
	d := &Discord{
		changed:  make(chan struct{}),
		commands: make(map[string]json.RawMessage),
		conns:    make(map[*gatewayConn]struct{}),
	}
	d.srv = httptest.NewUnstartedServer(http.HandlerFunc(d.serve))
	d.srv.Listener.Close()
	d.srv.Listener = l
	d.srv.Start()
	t.Cleanup(d.Close)
	return d
}

// Base returns "http://127.0.0.1:PORT", the root to pass to discord.SetAPIBase.
func (d *Discord) Base() string { return d.srv.URL }

// GatewayURL returns the websocket URL GET gateway answers.
func (d *Discord) GatewayURL() string { return "ws" + strings.TrimPrefix(d.srv.URL, "http") }

// WebhookURL returns a webhook URL on the fake for id and token, in the form
// Discord hands them out (no API version).
func (d *Discord) WebhookURL(id, token string) string {
	return d.srv.URL + "/api/webhooks/" + id + "/" + token
}

// FailNext makes the next request whose route starts with pathPrefix fail with
// status, headers and body instead of being served. pathPrefix is a route such
// as "/channels/1/messages" or "/webhooks/"; an /api/vN prefix on it is
// ignored. Failures queue: each is used once, in the order given.
//
//	d.FailNext("/channels/", 429, nil, `{"message":"You are being rate limited.","retry_after":1.5,"global":false}`)
func (d *Discord) FailNext(pathPrefix string, status int, headers map[string]string, body string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.fails = append(d.fails, discordFailure{prefix: route(pathPrefix), status: status, headers: headers, body: body})
}

// Requests returns every REST request received, failed ones included, oldest first.
func (d *Discord) Requests() []Request {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Request(nil), d.reqs...)
}

// Messages returns the messages posted: channel messages and webhook executes
// (interaction follow-ups included) that the fake accepted, oldest first.
func (d *Discord) Messages() []Request { return d.selected(kindMessage) }

// Edits returns the accepted edits of webhook messages (interaction replies).
func (d *Discord) Edits() []Request { return d.selected(kindEdit) }

// Commands returns the accepted bulk overwrites of application commands.
func (d *Discord) Commands() []Request { return d.selected(kindCommands) }

// Callbacks returns the accepted interaction responses.
func (d *Discord) Callbacks() []Request { return d.selected(kindCallback) }

// WaitMessages blocks until at least n messages were accepted and returns them all.
func (d *Discord) WaitMessages(ctx context.Context, n int) ([]Request, error) {
	return d.waitSelected(ctx, kindMessage, n)
}

// WaitEdits blocks until at least n edits were accepted and returns them all.
func (d *Discord) WaitEdits(ctx context.Context, n int) ([]Request, error) {
	return d.waitSelected(ctx, kindEdit, n)
}

// WaitCommands blocks until at least n command overwrites were accepted and returns them all.
func (d *Discord) WaitCommands(ctx context.Context, n int) ([]Request, error) {
	return d.waitSelected(ctx, kindCommands, n)
}

// WaitCallbacks blocks until at least n interaction responses were accepted and returns them all.
func (d *Discord) WaitCallbacks(ctx context.Context, n int) ([]Request, error) {
	return d.waitSelected(ctx, kindCallback, n)
}

// Identifies returns the IDENTIFY packets received, oldest first.
func (d *Discord) Identifies() []Identify {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Identify(nil), d.identifies...)
}

// Resumes returns the RESUME packets received, oldest first.
func (d *Discord) Resumes() []Resume {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Resume(nil), d.resumes...)
}

// Heartbeats returns how many heartbeats the gateway received (and acked).
func (d *Discord) Heartbeats() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.heartbeats
}

// WaitIdentify blocks until at least n IDENTIFY packets were answered with READY.
func (d *Discord) WaitIdentify(ctx context.Context, n int) error {
	return d.waitFor(ctx, fmt.Sprintf("%d identifies", n), func() bool { return len(d.identifies) >= n && d.live != nil })
}

// WaitResume blocks until at least n RESUME packets were received and the
// current connection is resumed.
func (d *Discord) WaitResume(ctx context.Context, n int) error {
	return d.waitFor(ctx, fmt.Sprintf("%d resumes", n), func() bool { return len(d.resumes) >= n && d.live != nil })
}

// WaitHeartbeats blocks until at least n heartbeats were received and acked.
func (d *Discord) WaitHeartbeats(ctx context.Context, n int) error {
	return d.waitFor(ctx, fmt.Sprintf("%d heartbeats", n), func() bool { return d.heartbeats >= n })
}

// SendDispatch sends a dispatch event (op 0) of type t with data v and the
// next sequence number, once a connection is ready (READY or RESUMED sent).
func (d *Discord) SendDispatch(ctx context.Context, t string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("discord fake: dispatch %s: %w", t, err)
	}
	var c *gatewayConn
	if err := d.waitFor(ctx, "a ready gateway connection", func() bool { c = d.live; return c != nil }); err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	d.mu.Lock()
	d.seq++
	seq := d.seq
	d.mu.Unlock()
	return c.write(map[string]any{"op": 0, "t": t, "s": seq, "d": json.RawMessage(data)})
}

// SendInteraction sends an INTERACTION_CREATE dispatch with v (an
// interaction object; see SlashCommand).
func (d *Discord) SendInteraction(ctx context.Context, v any) error {
	return d.SendDispatch(ctx, "INTERACTION_CREATE", v)
}

// SlashCommand returns an application-command interaction (type 2) for
// /name, run by userID in channelID of the fake's guild, with options as
// Discord sends them, for example
//
//	map[string]any{"name": "add", "type": 1, "options": []any{map[string]any{"name": "query", "type": 3, "value": "nvidia"}}}
//
// Its id is fresh and its token is "itoken-" + id.
func (d *Discord) SlashCommand(channelID, userID, name string, options ...map[string]any) map[string]any {
	id := d.newID()
	opts := make([]any, 0, len(options))
	for _, o := range options {
		opts = append(opts, o)
	}
	return map[string]any{
		"id":             id,
		"application_id": AppID,
		"type":           2,
		"token":          "itoken-" + id,
		"version":        1,
		"guild_id":       GuildID,
		"channel_id":     channelID,
		"locale":         "en-US",
		"member": map[string]any{
			"user":        map[string]any{"id": userID, "username": "user" + userID},
			"roles":       []string{},
			"permissions": "0",
		},
		"data": map[string]any{"id": "cmd-" + name, "name": name, "type": 1, "options": opts},
	}
}

// Reconnect sends op 7 (reconnect) on the ready connection; the client closes
// it and comes back with RESUME. Dispatches wait until it has.
func (d *Discord) Reconnect() error {
	d.mu.Lock()
	c := d.live
	d.live = nil
	d.mu.Unlock()
	if c == nil {
		return errors.New("discord fake: reconnect: no ready gateway connection")
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.write(map[string]any{"op": 7, "d": nil})
}

// Close closes every gateway connection and stops the server. It is safe to call twice.
func (d *Discord) Close() {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.closed = true
	conns := make([]*gatewayConn, 0, len(d.conns))
	for c := range d.conns {
		conns = append(conns, c)
	}
	d.live = nil
	d.notifyLocked()
	d.mu.Unlock()
	for _, c := range conns {
		c.ws.Close()
	}
	d.srv.Close()
}

func (d *Discord) selected(kind string) []Request {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.selectedLocked(kind)
}

func (d *Discord) selectedLocked(kind string) []Request {
	var out []Request
	for _, r := range d.reqs {
		if r.kind == kind {
			out = append(out, r)
		}
	}
	return out
}

func (d *Discord) waitSelected(ctx context.Context, kind string, n int) ([]Request, error) {
	var out []Request
	err := d.waitFor(ctx, fmt.Sprintf("%d %s requests", n, kind), func() bool {
		out = d.selectedLocked(kind)
		return len(out) >= n
	})
	return out, err
}

// waitFor blocks until cond, called with d.mu held, is true.
func (d *Discord) waitFor(ctx context.Context, what string, cond func() bool) error {
	for {
		d.mu.Lock()
		if cond() {
			d.mu.Unlock()
			return nil
		}
		changed, closed := d.changed, d.closed
		d.mu.Unlock()
		if closed {
			return fmt.Errorf("discord fake: waiting for %s: closed", what)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("discord fake: waiting for %s: %w", what, ctx.Err())
		}
	}
}

func (d *Discord) notifyLocked() {
	close(d.changed)
	d.changed = make(chan struct{})
}

func (d *Discord) newID() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.newIDLocked()
}

func (d *Discord) newIDLocked() string {
	d.nextID++
	return strconv.FormatInt(1300000000000000000+d.nextID, 10)
}

// apiPathRE splits "/api/v9/rest" into its version and the route.
var apiPathRE = regexp.MustCompile(`^/api(?:/v[0-9]+)?(/.*)?$`)

// route returns path without its /api and /vN prefix.
func route(path string) string {
	if m := apiPathRE.FindStringSubmatch(path); m != nil {
		path = m[1]
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return path
}

// reply is what the fake answers one request with.
type reply struct {
	status int
	header map[string]string
	body   []byte
}

func jsonReply(status int, v any) reply {
	b, err := json.Marshal(v)
	if err != nil {
		return reply{status: http.StatusInternalServerError, body: []byte(`{"message":"fake: ` + err.Error() + `","code":0}`)}
	}
	return reply{status: status, body: b}
}

func discordError(status int, code int, message string) reply {
	return jsonReply(status, map[string]any{"message": message, "code": code})
}

func (d *Discord) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/" && websocket.IsWebSocketUpgrade(r) {
		d.serveGateway(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "discord fake: read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	req := Request{
		Method: r.Method,
		Path:   r.URL.Path,
		Route:  route(r.URL.Path),
		Query:  r.URL.Query(),
		Header: r.Header.Clone(),
		Body:   body,
		Params: map[string]string{},
	}

	d.mu.Lock()
	var rep reply
	if f, ok := d.takeFailureLocked(req.Route); ok {
		rep = reply{status: f.status, header: f.headers, body: []byte(f.body)}
	} else if !strings.HasPrefix(r.URL.Path, "/api/") {
		rep = discordError(http.StatusNotFound, 0, "404: Not Found")
	} else {
		rep = d.routeLocked(&req)
	}
	req.Status = rep.status
	if rep.status >= 300 {
		req.kind = ""
	}
	d.reqs = append(d.reqs, req)
	d.notifyLocked()
	d.mu.Unlock()

	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	if len(rep.body) > 0 && w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(rep.status)
	_, _ = w.Write(rep.body)
}

func (d *Discord) takeFailureLocked(rt string) (discordFailure, bool) {
	for i, f := range d.fails {
		if strings.HasPrefix(rt, f.prefix) {
			d.fails = append(d.fails[:i:i], d.fails[i+1:]...)
			return f, true
		}
	}
	return discordFailure{}, false
}

// routeLocked serves one REST request, filling in req's params, kind and id.
func (d *Discord) routeLocked(req *Request) reply {
	seg := strings.Split(strings.Trim(req.Route, "/"), "/")
	at := func(i int) string {
		if i < len(seg) {
			return seg[i]
		}
		return ""
	}
	m, n := req.Method, len(seg)
	switch {
	case m == http.MethodGet && req.Route == "/gateway":
		return jsonReply(http.StatusOK, map[string]any{"url": d.GatewayURL()})

	case m == http.MethodGet && req.Route == "/gateway/bot":
		return jsonReply(http.StatusOK, map[string]any{
			"url": d.GatewayURL(), "shards": 1,
			"session_start_limit": map[string]any{"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1},
		})

	case m == http.MethodGet && req.Route == "/users/@me":
		return jsonReply(http.StatusOK, d.botUser())

	case m == http.MethodPost && n == 3 && at(0) == "channels" && at(2) == "messages":
		req.Params["channel"] = at(1)
		return d.createMessageLocked(req, at(1), d.botUser())

	case m == http.MethodPost && n == 3 && at(0) == "webhooks":
		req.Params["webhook"], req.Params["token"] = at(1), at(2)
		channel := req.Query.Get("thread_id")
		if channel == "" {
			channel = "100000000000000009"
		}
		rep := d.createMessageLocked(req, channel, map[string]any{"id": at(1), "username": "wirewatch-webhook", "bot": true})
		if req.Query.Get("wait") != "true" && rep.status == http.StatusOK {
			return reply{status: http.StatusNoContent}
		}
		return rep

	case m == http.MethodPatch && n == 5 && at(0) == "webhooks" && at(3) == "messages":
		req.Params["webhook"], req.Params["token"], req.Params["message"] = at(1), at(2), at(4)
		var msg map[string]any
		if err := json.Unmarshal(req.Body, &msg); err != nil {
			return discordError(http.StatusBadRequest, 50109, "The request body contains invalid JSON.")
		}
		id := at(4)
		if id == "@original" {
			id = d.newIDLocked()
		}
		req.kind, req.ID = kindEdit, id
		msg["id"], msg["channel_id"], msg["type"] = id, "100000000000000009", 0
		msg["author"] = map[string]any{"id": at(1), "username": "wirewatch", "bot": true}
		msg["timestamp"] = time.Now().UTC().Format(time.RFC3339)
		return jsonReply(http.StatusOK, msg)

	case m == http.MethodDelete && n == 5 && at(0) == "webhooks" && at(3) == "messages":
		req.Params["webhook"], req.Params["token"], req.Params["message"] = at(1), at(2), at(4)
		return reply{status: http.StatusNoContent}

	case (m == http.MethodPut || m == http.MethodGet) && at(0) == "applications" &&
		((n == 3 && at(2) == "commands") || (n == 5 && at(2) == "guilds" && at(4) == "commands")):
		key := at(1)
		req.Params["app"] = at(1)
		if n == 5 {
			req.Params["guild"] = at(3)
			key += "/" + at(3)
		}
		if m == http.MethodGet {
			if cmds, ok := d.commands[key]; ok {
				return reply{status: http.StatusOK, body: cmds}
			}
			return reply{status: http.StatusOK, body: []byte("[]")}
		}
		var cmds []map[string]any
		if err := json.Unmarshal(req.Body, &cmds); err != nil {
			return discordError(http.StatusBadRequest, 50109, "The request body contains invalid JSON.")
		}
		for _, c := range cmds {
			if _, ok := c["id"]; !ok {
				c["id"] = d.newIDLocked()
			}
			c["application_id"] = at(1)
			c["version"] = "1"
			if g := req.Params["guild"]; g != "" {
				c["guild_id"] = g
			}
		}
		rep := jsonReply(http.StatusOK, cmds)
		d.commands[key] = rep.body
		req.kind = kindCommands
		return rep

	case m == http.MethodPost && n == 4 && at(0) == "interactions" && at(3) == "callback":
		req.Params["interaction"], req.Params["token"] = at(1), at(2)
		if !json.Valid(req.Body) {
			return discordError(http.StatusBadRequest, 50109, "The request body contains invalid JSON.")
		}
		req.kind = kindCallback
		return reply{status: http.StatusNoContent}
	}
	return discordError(http.StatusNotFound, 0, "404: Not Found")
}

func (d *Discord) botUser() map[string]any {
	return map[string]any{"id": BotID, "username": "wirewatch", "discriminator": "0", "bot": true}
}

// createMessageLocked answers a message post with the message Discord would
// return: the request's fields, a new id, the channel, author and time.
func (d *Discord) createMessageLocked(req *Request, channel string, author map[string]any) reply {
	var msg map[string]any
	if err := json.Unmarshal(req.Body, &msg); err != nil || msg == nil {
		return discordError(http.StatusBadRequest, 50109, "The request body contains invalid JSON.")
	}
	id := d.newIDLocked()
	req.kind, req.ID = kindMessage, id
	if msg["embeds"] == nil {
		msg["embeds"] = []any{}
	}
	msg["id"], msg["channel_id"], msg["type"] = id, channel, 0
	msg["author"] = author
	msg["timestamp"] = time.Now().UTC().Format(time.RFC3339)
	msg["mentions"], msg["mention_roles"], msg["attachments"] = []any{}, []any{}, []any{}
	return jsonReply(http.StatusOK, msg)
}

// gatewayConn is one gateway websocket; wmu orders writes (and, taken before
// Discord.mu, the sequence numbers they carry).
type gatewayConn struct {
	ws  *websocket.Conn
	wmu sync.Mutex
}

func (c *gatewayConn) write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second)); err != nil {
		return err
	}
	return c.ws.WriteMessage(websocket.TextMessage, b)
}

var gatewayUpgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

func (d *Discord) serveGateway(w http.ResponseWriter, r *http.Request) {
	ws, err := gatewayUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &gatewayConn{ws: ws}
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		ws.Close()
		return
	}
	d.conns[c] = struct{}{}
	d.mu.Unlock()
	defer func() {
		ws.Close()
		d.mu.Lock()
		delete(d.conns, c)
		if d.live == c {
			d.live = nil
		}
		d.notifyLocked()
		d.mu.Unlock()
	}()

	c.wmu.Lock()
	err = c.write(map[string]any{"op": 10, "d": map[string]any{"heartbeat_interval": discordHeartbeatMS}})
	c.wmu.Unlock()
	if err != nil {
		return
	}
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		var p struct {
			Op int             `json:"op"`
			D  json.RawMessage `json:"d"`
		}
		if err := json.NewDecoder(bytes.NewReader(data)).Decode(&p); err != nil {
			return
		}
		switch p.Op {
		case 1:
			err = d.heartbeat(c)
		case 2:
			err = d.identify(c, p.D)
		case 6:
			err = d.resume(c, p.D)
		}
		if err != nil {
			return
		}
	}
}

func (d *Discord) heartbeat(c *gatewayConn) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.write(map[string]any{"op": 11, "d": nil}); err != nil {
		return err
	}
	d.mu.Lock()
	d.heartbeats++
	d.notifyLocked()
	d.mu.Unlock()
	return nil
}

func (d *Discord) identify(c *gatewayConn, raw json.RawMessage) error {
	var id struct {
		Token   string `json:"token"`
		Intents int    `json:"intents"`
	}
	if err := json.Unmarshal(raw, &id); err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	d.mu.Lock()
	d.sessions++
	d.sessionID = "S" + strconv.Itoa(d.sessions)
	d.seq = 1
	session := d.sessionID
	d.identifies = append(d.identifies, Identify{Token: id.Token, Intents: id.Intents, SessionID: session})
	d.mu.Unlock()
	ready := map[string]any{
		"op": 0, "s": 1, "t": "READY",
		"d": map[string]any{
			"v":                  9,
			"session_id":         session,
			"resume_gateway_url": d.GatewayURL(),
			"user":               d.botUser(),
			"application":        map[string]any{"id": AppID, "flags": 0},
			"guilds":             []any{},
			"private_channels":   []any{},
		},
	}
	if err := c.write(ready); err != nil {
		return err
	}
	d.mu.Lock()
	d.live = c
	d.notifyLocked()
	d.mu.Unlock()
	return nil
}

func (d *Discord) resume(c *gatewayConn, raw json.RawMessage) error {
	var rs struct {
		Token     string `json:"token"`
		SessionID string `json:"session_id"`
		Seq       int64  `json:"seq"`
	}
	if err := json.Unmarshal(raw, &rs); err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	d.mu.Lock()
	d.resumes = append(d.resumes, Resume(rs))
	known := rs.SessionID != "" && rs.SessionID == d.sessionID
	d.seq++
	seq := d.seq
	d.notifyLocked()
	d.mu.Unlock()
	if !known {
		// The client must identify again.
		return c.write(map[string]any{"op": 9, "d": false})
	}
	if err := c.write(map[string]any{"op": 0, "s": seq, "t": "RESUMED", "d": map[string]any{}}); err != nil {
		return err
	}
	d.mu.Lock()
	d.live = c
	d.notifyLocked()
	d.mu.Unlock()
	return nil
}
