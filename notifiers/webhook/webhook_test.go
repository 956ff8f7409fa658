package webhook

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/notifiers/notifiertest"
)

// testTimeout bounds every request a test makes; no test waits on it unless
// it says so.
const testTimeout = 10 * time.Second

func newTest(url string) *Notifier {
	return New("hook", config.Secret(url), &http.Client{Timeout: testTimeout})
}

func TestNotifyRequest(t *testing.T) {
	rcv := notifiertest.NewReceiver(t)
	n := newTest(rcv.URL() + "/alerts")

	ref, retry, err := n.Notify(context.Background(), notifiertest.Alert())
	if ref != "" || retry || err != nil {
		t.Fatalf("Notify = (%q, %v, %v), want (\"\", false, nil)", ref, retry, err)
	}
	reqs := rcv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(reqs))
	}
	req := reqs[0]
	if req.Method != http.MethodPost || req.Path != "/alerts" {
		t.Errorf("request = %s %s, want POST /alerts", req.Method, req.Path)
	}
	for k, want := range map[string]string{
		"Content-Type":    "application/json",
		"User-Agent":      "wirewatch",
		"Idempotency-Key": "wirewatch-42",
	} {
		if got := req.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	notifiertest.JSONEq(t, `{
		"rules": ["nvidia-china"],
		"target": "hook",
		"story": {
			"id": "s1",
			"title": "Nvidia readies new China chip as US tightens export rules",
			"url": "https://www.reuters.com/technology/nvidia-china-chip-2026-11-28/",
			"source": "Reuters",
			"published": "2026-11-28T09:00:00Z",
			"summary": "Nvidia is preparing a new AI chip for China that meets the latest US export controls, people familiar with the matter said."
		},
		"terms": ["nvidia", "china"]
	}`, string(req.Body))
}

func TestNotifyTargetDefaultsToName(t *testing.T) {
	rcv := notifiertest.NewReceiver(t)
	a := notifiertest.Alert(func(a *notifiers.Alert) { a.Target = "" })
	if _, _, err := newTest(rcv.URL()).Notify(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if body := string(rcv.Requests()[0].Body); !strings.Contains(body, `"target":"hook"`) {
		t.Errorf("body = %s, want target hook", body)
	}
}

func TestNotifyStatus(t *testing.T) {
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		status     int
		retryAfter string
		body       string
		wantRetry  bool
		wantErr    string // "" for success
		wantAfter  time.Duration
	}{
		{status: 200},
		{status: 201},
		{status: 202},
		{status: 204},
		{status: 304, wantErr: `webhook "hook": status 304`},
		{status: 400, body: "bad payload\n", wantErr: `webhook "hook": status 400: bad payload`},
		{status: 401, body: `{"error":"unauthorized"}`, wantErr: `webhook "hook": status 401: {"error":"unauthorized"}`},
		{status: 403, wantErr: `webhook "hook": status 403`},
		{status: 404, wantErr: `webhook "hook": status 404`},
		{status: 410, wantErr: `webhook "hook": status 410`},
		{status: 413, wantErr: `webhook "hook": status 413`},
		{status: 400, retryAfter: "30", wantErr: `webhook "hook": status 400`},
		{status: 429, wantRetry: true, wantErr: `webhook "hook": status 429`},
		{status: 429, retryAfter: "7", body: "slow down", wantRetry: true,
			wantErr: `webhook "hook": status 429: slow down (retry after 7s)`, wantAfter: 7 * time.Second},
		{status: 429, retryAfter: now.Add(90 * time.Second).Format(http.TimeFormat), wantRetry: true,
			wantErr: `webhook "hook": status 429 (retry after 1m30s)`, wantAfter: 90 * time.Second},
		{status: 429, retryAfter: "soon", wantRetry: true, wantErr: `webhook "hook": status 429`},
		{status: 500, body: "boom", wantRetry: true, wantErr: `webhook "hook": status 500: boom`},
		{status: 500, retryAfter: "30", wantRetry: true, wantErr: `webhook "hook": status 500`},
		{status: 502, wantRetry: true, wantErr: `webhook "hook": status 502`},
		{status: 503, wantRetry: true, wantErr: `webhook "hook": status 503`},
		{status: 503, retryAfter: "120", wantRetry: true,
			wantErr: `webhook "hook": status 503 (retry after 2m0s)`, wantAfter: 2 * time.Minute},
		{status: 503, retryAfter: now.Add(-time.Minute).Format(http.TimeFormat), wantRetry: true,
			wantErr: `webhook "hook": status 503`},
		{status: 504, wantRetry: true, wantErr: `webhook "hook": status 504`},
	}
	for _, tt := range tests {
		name := http.StatusText(tt.status)
		if tt.retryAfter != "" {
			name += " Retry-After " + tt.retryAfter
		}
		t.Run(name, func(t *testing.T) {
			rcv := notifiertest.NewReceiver(t)
			resp := notifiertest.Response{Status: tt.status, Body: tt.body}
			if tt.retryAfter != "" {
				resp.Header = http.Header{"Retry-After": {tt.retryAfter}}
			}
			rcv.Respond(resp)
			n := newTest(rcv.URL() + "/alerts")
			n.http.Now = func() time.Time { return now }

			ref, retry, err := n.Notify(context.Background(), notifiertest.Alert())
			if ref != "" {
				t.Errorf("ref = %q, want none", ref)
			}
			if retry != tt.wantRetry {
				t.Errorf("retry = %v, want %v", retry, tt.wantRetry)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("err = %v, want none", err)
			case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
				t.Errorf("err = %v, want %s", err, tt.wantErr)
			}
			if got := notifiers.RetryAfter(err); got != tt.wantAfter {
				t.Errorf("RetryAfter = %v, want %v", got, tt.wantAfter)
			}
		})
	}
}

func TestNotifyErrorBodyIsShort(t *testing.T) {
	rcv := notifiertest.NewReceiver(t)
	rcv.Respond(notifiertest.Response{Status: 500, Body: strings.Repeat("overloaded\n", 1000)})
	_, _, err := newTest(rcv.URL()).Notify(context.Background(), notifiertest.Alert())
	if err == nil {
		t.Fatal("want an error")
	}
	if len(err.Error()) > 600 || strings.Contains(err.Error(), "\n") {
		t.Errorf("error is %d bytes or spans lines, want one short line: %q", len(err.Error()), err)
	}
}

func TestNewDefaultClient(t *testing.T) {
	n := New("hook", "http://127.0.0.1:9/alerts", nil)
	if n.http.Client == http.DefaultClient || n.http.Client.Timeout != 30*time.Second {
		t.Errorf("default client = %p with timeout %v, want an own client with 30s", n.http.Client, n.http.Client.Timeout)
	}
}

func TestNotifyCancelled(t *testing.T) {
	rcv := notifiertest.NewReceiver(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, retry, err := newTest(rcv.URL()).Notify(ctx, notifiertest.Alert())
	if !retry || !errors.Is(err, context.Canceled) {
		t.Errorf("Notify = (%v, %v), want (true, context.Canceled)", retry, err)
	}
	if n := len(rcv.Requests()); n != 0 {
		t.Errorf("sent %d requests despite the cancelled context", n)
	}
}

// A receiver that never answers is given up on when the context ends, and
// that is worth retrying.
func TestNotifyDeadline(t *testing.T) {
	const secret = "s3cr3t-deadline-t0k3n"
	rcv := notifiertest.NewReceiver(t)
	rcv.Respond(notifiertest.Response{Hold: make(chan struct{})}) // never released
	url := rcv.URL() + "/hooks/" + secret

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, retry, err := newTest(url).Notify(ctx, notifiertest.Alert())
		if !retry {
			err = errors.Join(err, errors.New("retry = false, want true"))
		}
		done <- err
	}()
	waitCtx, waitCancel := context.WithTimeout(context.Background(), testTimeout)
	defer waitCancel()
	if _, err := rcv.Wait(waitCtx, 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	notifiertest.AssertNoSecretLeak(t, err, secret, url)
}

func TestNotifyClientTimeout(t *testing.T) {
	const secret = "s3cr3t-timeout-t0k3n"
	rcv := notifiertest.NewReceiver(t)
	rcv.Respond(notifiertest.Response{Hold: make(chan struct{})})
	url := rcv.URL() + "/hooks/" + secret
	n := New("hook", config.Secret(url), &http.Client{Timeout: 50 * time.Millisecond})

	_, retry, err := n.Notify(context.Background(), notifiertest.Alert())
	if !retry || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Notify = (%v, %v), want (true, context.DeadlineExceeded)", retry, err)
	}
	notifiertest.AssertNoSecretLeak(t, err, secret, url)
}

func TestNotifyLeaksNoSecret(t *testing.T) {
	const (
		pathToken  = "s3cr3t-path-t0k3n"
		queryToken = "s3cr3t-query-t0k3n"
		user       = "hookuser"
		password   = "s3cr3t-passw0rd"
	)
	rcv := notifiertest.NewReceiver(t)
	host := strings.TrimPrefix(rcv.URL(), "http://")
	closed := strings.TrimPrefix(notifiertest.ClosedURL(t), "http://")

	tests := []struct {
		name      string
		url       string
		answer    func(url string) notifiertest.Response // nil: no request reaches a server
		wantRetry bool
		wantErr   string // a piece the error must hold
		secrets   []string
	}{
		{
			name: "token in path, receiver echoes the URL",
			url:  "http://" + host + "/services/T000/B000/" + pathToken,
			answer: func(u string) notifiertest.Response {
				return notifiertest.Response{Status: 404, Body: "no such hook " + u}
			},
			wantErr: `webhook "hook": status 404: no such hook [redacted]`,
			secrets: []string{pathToken, "/services/T000/B000/"},
		},
		{
			name: "token in query, echoed as JSON with escaped slashes",
			url:  "http://" + host + "/alerts?token=" + queryToken,
			answer: func(u string) notifiertest.Response {
				return notifiertest.Response{Status: 500, Body: `{"error":"failed","url":"` + strings.ReplaceAll(u, "/", `\/`) + `"}`}
			},
			wantRetry: true,
			wantErr:   `webhook "hook": status 500: {"error":"failed","url":"[redacted]"}`,
			secrets:   []string{queryToken},
		},
		{
			// The body is cut to 512 bytes inside the token: no part of it may show.
			name: "URL echoed across the cut of a long body",
			url:  "http://" + host + "/hooks/" + pathToken,
			answer: func(u string) notifiertest.Response {
				pad := strings.Repeat("x", notifiers.DetailMax-7-strings.Index(u, pathToken))
				return notifiertest.Response{Status: 502, Body: pad + u + strings.Repeat("y", 500)}
			},
			wantRetry: true,
			wantErr:   `webhook "hook": status 502: xxx`,
			secrets:   []string{pathToken, pathToken[:7]},
		},
		{
			name: "password in user info, receiver echoes it",
			url:  "http://" + user + ":" + password + "@" + host + "/alerts",
			answer: func(u string) notifiertest.Response {
				return notifiertest.Response{Status: 401, Body: "bad credentials " + password}
			},
			wantErr: `webhook "hook": status 401: bad credentials [redacted]`,
			secrets: []string{password, user + ":" + password},
		},
		{
			name:      "connection refused, token in path and query",
			url:       "http://" + closed + "/hooks/" + pathToken + "?token=" + queryToken,
			wantRetry: true,
			wantErr:   `webhook "hook": post: dial tcp ` + closed + `: connect: connection refused`,
			secrets:   []string{pathToken, queryToken},
		},
		{
			name:      "connection refused, password in user info",
			url:       "http://" + user + ":" + password + "@" + closed + "/alerts",
			wantRetry: true,
			wantErr:   "connection refused",
			secrets:   []string{password},
		},
		{
			name:    "malformed URL",
			url:     "http://" + user + ":" + password + "@" + closed + ":bad/" + pathToken,
			wantErr: `webhook "hook": request: `,
			secrets: []string{password, pathToken},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.answer != nil {
				rcv.Respond(tt.answer(tt.url))
			}
			before := len(rcv.Requests())
			_, retry, err := newTest(tt.url).Notify(context.Background(), notifiertest.Alert())
			notifiertest.AssertNoSecretLeak(t, err, append(tt.secrets, tt.url)...)
			if retry != tt.wantRetry {
				t.Errorf("retry = %v, want %v", retry, tt.wantRetry)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %q, want it to hold %q", err, tt.wantErr)
			}
			if got := len(rcv.Requests()) - before; (tt.answer != nil) != (got == 1) {
				t.Errorf("receiver got %d requests", got)
			}
		})
	}
}
