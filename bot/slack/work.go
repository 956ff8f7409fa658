package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/wirewatch/wirewatch/bot/commands"

	"github.com/wirewatch/wirewatch/notifiers"
)

// workers runs the goroutines that answer commands and waits for them at
// shutdown: nothing is fire-and-forget.
type workers struct {
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

func newWorkers(parent context.Context) *workers {
	ctx, cancel := context.WithCancel(parent)
	return &workers{ctx: ctx, cancel: cancel}
}

// Go runs f in a tracked goroutine with the workers' context. It returns
// false, without running f, once close has begun.
func (w *workers) Go(f func(ctx context.Context)) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return false
	}
	w.wg.Go(func() { f(w.ctx) })
	return true
}

// close cancels the work in flight and waits for it. It is safe to call twice.
func (w *workers) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.cancel()
	w.wg.Wait()
}

// job is one command whose Handler runs in the background while the caller
// waits a little for the reply.
type job struct {
	mu    sync.Mutex
	reply *commands.Reply
	late  bool          // the caller stopped waiting: the job posts the reply itself
	ready chan struct{} // closed when reply is set in time
	acked chan struct{} // closed once the caller's interim answer is out
}

// answer runs req and waits up to wait (and while ctx lasts) for its reply.
// It reports inTime when the reply came in time; otherwise the caller sends an
// interim answer ("working on it") and the reply goes to responseURL when it
// is ready. Either way the caller calls sent once its answer is out, so that
// the reply never overtakes the answer.
func (a *Adapter) answer(ctx context.Context, work *workers, req commands.Request, responseURL string, wait time.Duration) (reply commands.Reply, inTime bool, sent func()) {
	j := &job{ready: make(chan struct{}), acked: make(chan struct{}), late: wait <= 0}
	var once sync.Once
	sent = func() { once.Do(func() { close(j.acked) }) }
	started := work.Go(func(wctx context.Context) {
		r := a.handle(wctx, req)
		j.mu.Lock()
		if !j.late {
			j.reply = &r
			j.mu.Unlock()
			close(j.ready)
			return
		}
		j.mu.Unlock()
		select {
		case <-j.acked:
		case <-wctx.Done():
		}
		if wctx.Err() != nil {
			a.logger.Warn("slack reply dropped: shutting down", "command", req.Command)
			return
		}
		a.post(wctx, responseURL, render(r))
	})
	if !started {
		return shuttingDown, true, sent
	}
	if wait > 0 {
		timer := time.NewTimer(wait)
		defer timer.Stop()
		select {
		case <-j.ready:
		case <-timer.C:
		case <-ctx.Done():
		}
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.reply != nil {
		return *j.reply, true, sent
	}
	j.late = true
	return commands.Reply{}, false, sent
}

// handle runs the Handler with a time limit. A panic in it becomes an error
// reply instead of taking the process down.
func (a *Adapter) handle(ctx context.Context, req commands.Request) (reply commands.Reply) {
	ctx, cancel := context.WithTimeout(ctx, handleTimeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			a.logger.Error("slack command handler panicked", "command", req.Command, "sub", req.Sub, "panic", fmt.Sprint(p))
			reply = commands.Reply{Ephemeral: true, Error: true, Text: "Something went wrong; the error has been logged."}
		}
	}()
	return a.handler.Handle(ctx, req)
}

// post sends msg to a command's response_url, retrying once on a network
// error or a 5xx. It logs the outcome without the URL, which is a credential
// of its own.
func (a *Adapter) post(ctx context.Context, responseURL string, msg message) {
	if !a.trustedResponseURL(responseURL) {
		a.logger.Warn("slack reply dropped: response_url is not a Slack URL")
		return
	}
	body, err := json.Marshal(msg)
	if err != nil {
		a.logger.Error("slack reply dropped: encode", "error", err)
		return
	}
	for attempt := 1; ; attempt++ {
		status, err := a.postOnce(ctx, responseURL, body)
		if err == nil && status/100 == 2 {
			a.logger.Debug("slack reply posted to response_url")
			return
		}
		if attempt == 1 && ctx.Err() == nil && (err != nil || status >= 500) && notifiers.Wait(ctx, a.retryDelay) == nil {
			continue
		}
		if err != nil {
			a.logger.Warn("slack reply to response_url failed", "attempts", attempt, "error", a.scrub(err.Error()))
		} else {
			a.logger.Warn("slack reply to response_url failed", "attempts", attempt, "status", status)
		}
		return
	}
}

func (a *Adapter) postOnce(ctx context.Context, responseURL string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, responseURL, bytes.NewReader(body))
	if err != nil {
		return 0, errors.New("bad response_url")
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := a.client.Do(req)
	if err != nil {
		return 0, stripURL(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

// trustedResponseURL accepts an https URL on a Slack domain, or a URL on the
// same origin as api_url (a proxy or a test double standing in for Slack).
// A response_url comes from a signed request or the Socket Mode connection;
// this keeps a forged one from turning the bot into a client for other hosts.
func (a *Adapter) trustedResponseURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return false
	}
	if u.Scheme+"://"+u.Host == a.apiOrigin {
		return true
	}
	host := strings.ToLower(u.Hostname())
	if u.Scheme != "https" {
		return false
	}
	for _, domain := range []string{"slack.com", "slack-gov.com"} {
		if host == domain || strings.HasSuffix(host, "."+domain) {
			return true
		}
	}
	return false
}
