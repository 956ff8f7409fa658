package notifiertest

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Fake is what the fakes of HTTP platforms share: a server on 127.0.0.1
// that counts requests and answers each from its script first — after a
// hold, if one is scripted, with a scripted answer, if one is — and passes
// the rest to the platform's handler. A platform's fake embeds it and only
// speaks its protocol. It is closed when the test ends; its methods are safe
// for concurrent use.
type Fake struct {
	srv  *httptest.Server
	done chan struct{}

	mu     sync.Mutex
	closed bool
	calls  int
	script []scripted
}

// scripted is what happens to one request.
type scripted struct {
	hold   <-chan struct{}
	answer http.HandlerFunc // nil: the platform answers
}

// NewFake starts a server whose unscripted requests platform answers.
func NewFake(t testing.TB, platform http.Handler) *Fake {
	t.Helper()
	f := &Fake{done: make(chan struct{})}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s, ok := f.next(); ok {
			if s.hold != nil {
				select {
				case <-s.hold:
				case <-r.Context().Done():
					return
				case <-f.done:
					return
				}
			}
			if s.answer != nil {
				s.answer(w, r)
				return
			}
		}
		platform.ServeHTTP(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

// URL is the server's base URL, "http://127.0.0.1:PORT".
func (f *Fake) URL() string { return f.srv.URL }

// Answer makes the next request answered by answer instead of the platform.
func (f *Fake) Answer(answer http.HandlerFunc) { f.push(scripted{answer: answer}) }

// Hold keeps the next request until release is closed (then the platform
// answers it), the request is given up or the fake is closed.
func (f *Fake) Hold(release <-chan struct{}) { f.push(scripted{hold: release}) }

// Calls returns how many requests the fake got, scripted ones included.
func (f *Fake) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// Close releases held requests and shuts the server down. It is safe to
// call twice.
func (f *Fake) Close() {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return
	}
	f.closed = true
	close(f.done)
	f.mu.Unlock()
	f.srv.Close()
}

func (f *Fake) push(s scripted) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script = append(f.script, s)
}

func (f *Fake) next() (scripted, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if len(f.script) == 0 {
		return scripted{}, false
	}
	s := f.script[0]
	f.script = f.script[1:]
	return s, true
}
