package notifiertest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Request is one request a Receiver recorded.
type Request struct {
	Method   string
	Path     string // the URL path, unescaped
	RawQuery string
	Header   http.Header
	Body     []byte
}

// Response is one scripted answer of a Receiver.
type Response struct {
	// Status is the status code; 0 means 200.
	Status int
	// Header is added to the answer's headers.
	Header http.Header
	// Body is the answer's body.
	Body string
	// Hold, when set, delays the answer until it is closed, the request is
	// cancelled or the Receiver is closed: a way to test timeouts and
	// cancellation without sleeping.
	Hold <-chan struct{}
}

// Receiver is an HTTP server on 127.0.0.1 that records every request and
// answers from a script: queued responses first, in order, then a default
// (200 with an empty body unless SetDefault changed it).
type Receiver struct {
	srv  *httptest.Server
	done chan struct{}

	mu      sync.Mutex
	reqs    []Request
	queue   []Response
	def     Response
	changed chan struct{} // closed and replaced whenever a request is recorded
	closed  bool
}

// NewReceiver starts a Receiver that is closed when the test ends.
func NewReceiver(t testing.TB) *Receiver {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("receiver: listen: %v", err)
	}
	r := &Receiver{done: make(chan struct{}), changed: make(chan struct{})}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(r.serve))
	r.srv.Listener.Close()
	r.srv.Listener = l
	r.srv.Start()
	t.Cleanup(r.Close)
	return r
}

// URL returns the receiver's base URL, "http://127.0.0.1:PORT", without a trailing slash.
func (r *Receiver) URL() string { return r.srv.URL }

// Respond queues answers for the next requests, in order.
func (r *Receiver) Respond(rs ...Response) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.queue = append(r.queue, rs...)
}

// Fail queues n answers with the given status and an empty body.
func (r *Receiver) Fail(status, n int) {
	for range n {
		r.Respond(Response{Status: status})
	}
}

// SetDefault sets the answer given once the queue is empty.
func (r *Receiver) SetDefault(resp Response) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.def = resp
}

// Requests returns the requests recorded so far, oldest first.
func (r *Receiver) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.reqs...)
}

// Wait blocks until at least n requests have been recorded, then returns
// them all; it fails when ctx ends first.
func (r *Receiver) Wait(ctx context.Context, n int) ([]Request, error) {
	for {
		r.mu.Lock()
		if len(r.reqs) >= n {
			reqs := append([]Request(nil), r.reqs...)
			r.mu.Unlock()
			return reqs, nil
		}
		got, changed := len(r.reqs), r.changed
		r.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, fmt.Errorf("receiver: got %d of %d requests: %w", got, n, ctx.Err())
		}
	}
}

// Close releases held answers and shuts the server down. It is safe to call twice.
func (r *Receiver) Close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	close(r.done)
	r.mu.Unlock()
	r.srv.Close()
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, "receiver: read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, Request{
		Method:   req.Method,
		Path:     req.URL.Path,
		RawQuery: req.URL.RawQuery,
		Header:   req.Header.Clone(),
		Body:     body,
	})
	close(r.changed)
	r.changed = make(chan struct{})
	resp := r.def
	if len(r.queue) > 0 {
		resp = r.queue[0]
		r.queue = r.queue[1:]
	}
	r.mu.Unlock()

	if resp.Hold != nil {
		select {
		case <-resp.Hold:
		case <-req.Context().Done():
			return
		case <-r.done:
			return
		}
	}
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, resp.Body)
}

// ClosedURL returns "http://127.0.0.1:PORT" for a port that was just closed,
// so that a request to it is refused.
func ClosedURL(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("closed url: listen: %v", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatalf("closed url: close: %v", err)
	}
	return "http://" + addr
}

// Refuse queues an answer with status and body, for Subject.Fail.
func (r *Receiver) Refuse(status int, body string) { r.Respond(Response{Status: status, Body: body}) }

// RateLimit queues a 429 whose Retry-After asks for d, for Subject.RateLimit.
func (r *Receiver) RateLimit(d time.Duration) {
	r.Respond(Response{Status: http.StatusTooManyRequests,
		Header: http.Header{"Retry-After": {strconv.Itoa(int(d.Seconds()))}}})
}

// Hold queues an answer held until release is closed, for Subject.Hold.
func (r *Receiver) Hold(release <-chan struct{}) { r.Respond(Response{Hold: release}) }
