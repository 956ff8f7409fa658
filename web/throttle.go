package web

import (
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Failed logins per client address are limited: maxLoginFailures in
// loginWindow, then every login from that address is refused (429) until the
// window ends, right token or not, so that guessing costs a window per few
// tries.
const (
	maxLoginFailures = 5
	loginWindow      = time.Minute
	// maxThrottled bounds the table; past it, windows that ended are
	// dropped, and if none has, the oldest address is.
	maxThrottled = 10000
)

// loginThrottle counts failed logins per client address. It lives in
// memory: with several replicas an address gets a window per replica,
// which still bounds guessing (tokens have at least 16 characters).
type loginThrottle struct {
	mu    sync.Mutex
	now   func() time.Time
	fails map[string]*loginWindowCount
}

type loginWindowCount struct {
	start time.Time
	n     int
}

func newLoginThrottle(now func() time.Time) *loginThrottle {
	return &loginThrottle{now: now, fails: map[string]*loginWindowCount{}}
}

// clientAddr is the address the limit applies to: the peer's IP (a
// forwarded-for header could be forged by anyone).
func clientAddr(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// wait returns how long addr must wait before trying again; 0 lets it try.
func (l *loginThrottle) wait(addr string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.fails[addr]
	if c == nil {
		return 0
	}
	left := c.start.Add(loginWindow).Sub(l.now())
	if left <= 0 {
		delete(l.fails, addr)
		return 0
	}
	if c.n < maxLoginFailures {
		return 0
	}
	return left
}

// failed records a failed login from addr.
func (l *loginThrottle) failed(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	c := l.fails[addr]
	if c == nil || now.Sub(c.start) >= loginWindow {
		if c == nil && len(l.fails) >= maxThrottled {
			l.prune(now)
		}
		l.fails[addr] = &loginWindowCount{start: now, n: 1}
		return
	}
	c.n++
}

// prune drops ended windows, or the oldest one when none has ended.
func (l *loginThrottle) prune(now time.Time) {
	var oldest string
	for a, c := range l.fails {
		if now.Sub(c.start) >= loginWindow {
			delete(l.fails, a)
			continue
		}
		if oldest == "" || c.start.Before(l.fails[oldest].start) {
			oldest = a
		}
	}
	if len(l.fails) >= maxThrottled {
		delete(l.fails, oldest)
	}
}

// retryAfter formats a wait for the Retry-After header (whole seconds, at
// least 1).
func retryAfter(d time.Duration) string {
	return strconv.Itoa(int((d + time.Second - 1) / time.Second))
}
