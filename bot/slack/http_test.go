package slack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/bot/commands"
	"github.com/wirewatch/wirewatch/notifiers/slack/slackfake"
)

// httpRun is an adapter serving HTTP mode on a local server, with a fake
// Slack to receive response_url posts.
type httpRun struct {
	fake *slackfake.Slack
	a    *Adapter
	stub *stub
	logs *logBuffer
	url  string // the commands endpoint
}

func startHTTP(t *testing.T, setup func(*Adapter)) *httpRun {
	t.Helper()
	fake := slackfake.New(t)
	cfg := notifierConfig(fake)
	cfg.AppToken = "" // HTTP mode only
	st := newStub()
	logger, logs := newLogger(t)
	a, err := New("team", cfg, st, logger)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = a.Close() })
	if setup != nil {
		setup(a)
	}
	h := a.HTTPHandler()
	if h == nil {
		t.Fatal("HTTPHandler is nil with a signing secret")
	}
	mux := http.NewServeMux()
	mux.Handle(CommandsPath, h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &httpRun{fake: fake, a: a, stub: st, logs: logs, url: srv.URL + CommandsPath}
}

// commandForm is a slash command as Slack posts it in HTTP mode.
func commandForm(fake *slackfake.Slack, command, text, user string) string {
	v := url.Values{}
	for k, x := range slashCommand(fake, command, text, user) {
		v.Set(k, x.(string))
	}
	return v.Encode()
}

// sign returns Slack's v0 signature headers for body, signed with secret at ts.
func sign(secret string, ts time.Time, body string) http.Header {
	stamp := strconv.FormatInt(ts.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + stamp + ":" + body))
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", stamp)
	h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	return h
}

// post sends body with header to the endpoint and returns the status and body.
func (r *httpRun) post(t *testing.T, header http.Header, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(testContext(t), http.MethodPost, r.url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode == http.StatusOK && len(out) > 0 && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("Content-Type = %q, want JSON", resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, out
}

// postSigned posts a correctly signed body.
func (r *httpRun) postSigned(t *testing.T, body string) (int, []byte) {
	t.Helper()
	return r.post(t, sign(signingSecret, time.Now(), body), body)
}

func TestHTTPCommands(t *testing.T) {
	for _, tc := range commandCases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			r := startHTTP(t, nil)

			status, body := r.postSigned(t, commandForm(r.fake, tc.command, tc.text, tc.user))
			if status != http.StatusOK {
				t.Fatalf("status %d (%s), want 200", status, body)
			}
			want := fullRequest(tc.want, tc.user)
			if tc.slow {
				wantWorking(t, body)
				responses, err := r.fake.WaitResponses(ctx, 1)
				if err != nil {
					t.Fatal(err)
				}
				wantEcho(t, decodeReply(t, responses[0]), want)
			} else {
				wantEcho(t, decodeReply(t, body), want)
			}

			_ = r.a.Close()
			if got := r.stub.requests(); len(got) != 1 || !reflect.DeepEqual(got[0], want) {
				t.Errorf("handler got %+v\nwant [%+v]", got, want)
			}
			if !tc.slow && len(r.fake.Responses()) != 0 {
				t.Errorf("a fast command also posted to response_url: %s", r.fake.Responses())
			}
		})
	}
}

func TestHTTPSignatures(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name   string
		header func(body string) http.Header
		body   func(body string) string // what is sent; the signature is over the original
		want   int
	}{
		{name: "valid", want: http.StatusOK,
			header: func(b string) http.Header { return sign(signingSecret, now, b) }},
		{name: "valid, 4 minutes old", want: http.StatusOK,
			header: func(b string) http.Header { return sign(signingSecret, now.Add(-4*time.Minute), b) }},
		{name: "wrong secret", want: http.StatusUnauthorized,
			header: func(b string) http.Header { return sign("another-secret", now, b) }},
		{name: "tampered body", want: http.StatusUnauthorized,
			header: func(b string) http.Header { return sign(signingSecret, now, b) },
			body:   func(b string) string { return strings.Replace(b, "text=add+nato", "text=add+anything", 1) }},
		{name: "timestamp 6 minutes old", want: http.StatusUnauthorized,
			header: func(b string) http.Header { return sign(signingSecret, now.Add(-6*time.Minute), b) }},
		{name: "timestamp 6 minutes ahead", want: http.StatusUnauthorized,
			header: func(b string) http.Header { return sign(signingSecret, now.Add(6*time.Minute), b) }},
		{name: "timestamp changed after signing", want: http.StatusUnauthorized,
			header: func(b string) http.Header {
				h := sign(signingSecret, now.Add(-time.Minute), b)
				h.Set("X-Slack-Request-Timestamp", strconv.FormatInt(now.Unix(), 10))
				return h
			}},
		{name: "missing headers", want: http.StatusUnauthorized,
			header: func(string) http.Header { return http.Header{} }},
		{name: "missing signature", want: http.StatusUnauthorized,
			header: func(b string) http.Header {
				h := sign(signingSecret, now, b)
				h.Del("X-Slack-Signature")
				return h
			}},
		{name: "missing timestamp", want: http.StatusUnauthorized,
			header: func(b string) http.Header {
				h := sign(signingSecret, now, b)
				h.Del("X-Slack-Request-Timestamp")
				return h
			}},
		{name: "signature not hex", want: http.StatusUnauthorized,
			header: func(b string) http.Header {
				h := sign(signingSecret, now, b)
				h.Set("X-Slack-Signature", "v0=not-hex")
				return h
			}},
		{name: "other signature version", want: http.StatusUnauthorized,
			header: func(b string) http.Header {
				h := sign(signingSecret, now, b)
				h.Set("X-Slack-Signature", "v1="+strings.TrimPrefix(h.Get("X-Slack-Signature"), "v0="))
				return h
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := startHTTP(t, nil)
			body := commandForm(r.fake, "/watch", "add nato", userID)
			header := tc.header(body)
			if tc.body != nil {
				sent := tc.body(body)
				if sent == body {
					t.Fatal("the tampered body is the signed body")
				}
				body = sent
			}
			status, out := r.post(t, header, body)
			if status != tc.want {
				t.Fatalf("status %d (%s), want %d", status, out, tc.want)
			}
			_ = r.a.Close()
			reqs := r.stub.requests()
			if tc.want == http.StatusOK {
				if len(reqs) != 1 || reqs[0].Sub != "add" || reqs[0].Args != "nato" {
					t.Errorf("handler got %+v, want one /watch add nato", reqs)
				}
				return
			}
			if len(reqs) != 0 {
				t.Errorf("a request that failed its signature reached the handler: %+v", reqs)
			}
			if n := r.fake.Calls("response_url"); n != 0 {
				t.Errorf("response_url called %d times", n)
			}
			if strings.Contains(string(out), signingSecret) {
				t.Errorf("the answer shows the signing secret: %s", out)
			}
		})
	}
}

func TestHTTPWithoutSigningSecretHasNoHandler(t *testing.T) {
	fake := slackfake.New(t)
	cfg := notifierConfig(fake)
	cfg.SigningSecret = ""
	a, err := New("team", cfg, newStub(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if h := a.HTTPHandler(); h != nil {
		t.Errorf("HTTPHandler = %v without a signing secret, want nil", h)
	}
}

func TestHTTPRequestsThatAreNotCommands(t *testing.T) {
	r := startHTTP(t, nil)

	t.Run("ssl_check", func(t *testing.T) {
		status, _ := r.post(t, nil, "ssl_check=1&token=verification-token")
		if status != http.StatusOK {
			t.Errorf("status %d, want 200", status)
		}
	})
	t.Run("GET", func(t *testing.T) {
		resp, err := http.Get(r.url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("status %d, want 405", resp.StatusCode)
		}
	})
	t.Run("body over 64 KiB", func(t *testing.T) {
		body := commandForm(r.fake, "/news", strings.Repeat("x", 70<<10), userID)
		status, _ := r.postSigned(t, body)
		if status != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d, want 413", status)
		}
	})
	t.Run("signed but no command", func(t *testing.T) {
		status, _ := r.postSigned(t, "text=hello&user_id=U1")
		if status != http.StatusBadRequest {
			t.Errorf("status %d, want 400", status)
		}
	})
	t.Run("unknown command", func(t *testing.T) {
		status, body := r.postSigned(t, commandForm(r.fake, "/weather", "", userID))
		if status != http.StatusOK || !strings.Contains(decodeReply(t, body).Text, "does not know the command /weather") {
			t.Errorf("status %d, body %s; want the help", status, body)
		}
	})
	if reqs := r.stub.requests(); len(reqs) != 0 {
		t.Errorf("handler called: %+v", reqs)
	}
}

// Close cancels HTTP-mode work in flight, waits for it, and later commands
// are told that wirewatch is stopping.
func TestHTTPCloseCancelsWorkInFlight(t *testing.T) {
	r := startHTTP(t, nil)
	r.stub.setGate(make(chan struct{})) // never opens
	hold := make(chan struct{})
	r.stub.setHold(hold)

	status, body := r.postSigned(t, commandForm(r.fake, "/watch", "test ukraine", userID))
	if status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	wantWorking(t, body)
	<-r.stub.started

	closed := make(chan error, 1)
	go func() { closed <- r.a.Close() }()
	<-r.stub.cancelSeen // the handler saw the cancel and is still running
	// Close must not return while the handler runs; the window only gives a
	// wrong Close the time to show itself.
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while a handler was still running", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(hold)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if inflight, cancelled := r.stub.counts(); inflight != 0 || cancelled != 1 {
		t.Errorf("after Close: %d in flight, %d cancelled; want 0 and 1", inflight, cancelled)
	}
	if n := r.fake.Calls("response_url"); n != 0 {
		t.Errorf("response_url called %d times after Close", n)
	}
	if err := r.a.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	status, body = r.postSigned(t, commandForm(r.fake, "/watch", "list", userID))
	if got := decodeReply(t, body); status != http.StatusOK || !strings.Contains(got.Text, "shutting down") {
		t.Errorf("after Close: status %d, body %s", status, body)
	}
	if n := len(r.stub.requests()); n != 1 {
		t.Errorf("handler called %d times, want 1 (none after Close)", n)
	}
}

func TestHTTPFastCommandOverrunningGoesToResponseURL(t *testing.T) {
	ctx := testContext(t)
	r := startHTTP(t, func(a *Adapter) { a.ackWait = 20 * time.Millisecond })
	gate := make(chan struct{})
	r.stub.setGate(gate)

	status, body := r.postSigned(t, commandForm(r.fake, "/watch", "remove 4", adminID))
	if status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	wantWorking(t, body)
	close(gate)
	responses, err := r.fake.WaitResponses(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	wantEcho(t, decodeReply(t, responses[0]),
		fullRequest(commands.Request{Command: "watch", Sub: "remove", Args: "4", Admin: true}, adminID))
}

// A handler that panics costs the caller an error reply, not the process.
func TestHandlerPanicBecomesErrorReply(t *testing.T) {
	r := startHTTP(t, nil)
	r.stub.setReply(func(commands.Request) commands.Reply { panic("boom") })

	status, body := r.postSigned(t, commandForm(r.fake, "/watch", "list", userID))
	got := decodeReply(t, body)
	if status != http.StatusOK || got.ResponseType != "ephemeral" || !strings.Contains(got.Text, "Something went wrong") {
		t.Errorf("status %d, reply %s; want an ephemeral error", status, body)
	}
	if logs := r.logs.String(); !strings.Contains(logs, "panicked") {
		t.Errorf("the panic is not logged:\n%s", logs)
	}
}
