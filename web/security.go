package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/wirewatch/wirewatch/api"
)

// ContentSecurityPolicy is sent with every dashboard and API answer: scripts,
// styles and everything else only from this origin (htmx is served from
// /static/), no inline script or style, no framing.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// SessionCookie is the name of the dashboard's session cookie.
const SessionCookie = "wirewatch_session"

// sessionTTL is how long a login lasts.
const sessionTTL = 12 * time.Hour

// maxSessions bounds the session table; the oldest go first.
const maxSessions = 1000

// securityHeaders sets the headers every dashboard and API answer carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// hostCheck answers 421 to a request whose Host header is not one the server
// is known by: a page of another site that a DNS rebinding points at
// 127.0.0.1 sends its own host name, and is refused.
type hostCheck struct {
	any   bool
	hosts map[string]bool
}

func newHostCheck(listen string, extra []string) *hostCheck {
	hc := &hostCheck{hosts: map[string]bool{"localhost": true, "127.0.0.1": true, "::1": true}}
	if host, _, err := net.SplitHostPort(listen); err == nil && host != "" {
		if ip := net.ParseIP(host); ip == nil || !ip.IsUnspecified() {
			hc.hosts[strings.ToLower(host)] = true
		}
	}
	for _, h := range extra {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "*" {
			hc.any = true
			continue
		}
		if host, _, err := net.SplitHostPort(h); err == nil {
			h = host
		}
		hc.hosts[strings.Trim(h, "[]")] = true
	}
	return hc
}

// allowed reports whether a Host header names this server.
func (hc *hostCheck) allowed(hostHeader string) bool {
	if hc.any {
		return true
	}
	host := hostHeader
	if h, _, err := net.SplitHostPort(hostHeader); err == nil {
		host = h
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	return hc.hosts[host]
}

func (hc *hostCheck) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !hc.allowed(r.Host) {
			if isAPI(r) {
				api.WriteError(w, http.StatusMisdirectedRequest, "unknown Host header: add the name to the allowed hosts")
				return
			}
			http.Error(w, "421 unknown Host header: this server does not answer to that name", http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// crossOrigin refuses state-changing requests that a browser marks as coming
// from another origin (Sec-Fetch-Site, else Origin against Host).
func crossOrigin(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isAPI(r) {
			api.WriteError(w, http.StatusForbidden, "cross-origin request refused")
			return
		}
		http.Error(w, "403 cross-origin request refused", http.StatusForbidden)
	}))
	return cop.Handler(next)
}

// auth checks tokens and sessions. With no tokens it lets everything
// through: the server then only listens on loopback (CheckListen).
type auth struct {
	tokens [][32]byte // SHA-256 of each token, compared in constant time

	mu       sync.Mutex
	sessions map[[32]byte]time.Time // SHA-256 of the session id → expiry
	now      func() time.Time
}

func newAuth(tokens []string) *auth {
	a := &auth{sessions: map[[32]byte]time.Time{}, now: time.Now}
	for _, t := range tokens {
		if t != "" {
			a.tokens = append(a.tokens, sha256.Sum256([]byte(t)))
		}
	}
	return a
}

// enabled reports whether requests need a token.
func (a *auth) enabled() bool { return len(a.tokens) > 0 }

// validToken compares a token with every configured one in constant time
// (of the hashes, so the length of the tokens leaks nothing either).
func (a *auth) validToken(tok string) bool {
	if tok == "" {
		return false
	}
	h := sha256.Sum256([]byte(tok))
	ok := 0
	for _, t := range a.tokens {
		ok |= subtle.ConstantTimeCompare(h[:], t[:])
	}
	return ok == 1
}

// bearer returns the token of an "Authorization: Bearer …" header.
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// authenticated reports whether a request carries a valid token or session.
func (a *auth) authenticated(r *http.Request) bool {
	if !a.enabled() {
		return true
	}
	if a.validToken(bearer(r)) {
		return true
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return false
	}
	key := sha256.Sum256([]byte(c.Value))
	a.mu.Lock()
	defer a.mu.Unlock()
	exp, ok := a.sessions[key]
	if !ok {
		return false
	}
	if a.now().After(exp) {
		delete(a.sessions, key)
		return false
	}
	return true
}

// newSession starts a session and returns its cookie.
func (a *auth) newSession(secure bool) (*http.Cookie, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	id := base64.RawURLEncoding.EncodeToString(b[:])
	now := a.now()
	a.mu.Lock()
	for k, exp := range a.sessions {
		if now.After(exp) {
			delete(a.sessions, k)
		}
	}
	for len(a.sessions) >= maxSessions {
		var oldest [32]byte
		var at time.Time
		for k, exp := range a.sessions {
			if at.IsZero() || exp.Before(at) {
				oldest, at = k, exp
			}
		}
		delete(a.sessions, oldest)
	}
	a.sessions[sha256.Sum256([]byte(id))] = now.Add(sessionTTL)
	a.mu.Unlock()
	return &http.Cookie{Name: SessionCookie, Value: id, Path: "/", HttpOnly: true, Secure: secure,
		SameSite: http.SameSiteStrictMode, MaxAge: int(sessionTTL / time.Second)}, nil
}

// endSession forgets the request's session and returns a cookie that clears it.
func (a *auth) endSession(r *http.Request) *http.Cookie {
	if c, err := r.Cookie(SessionCookie); err == nil {
		a.mu.Lock()
		delete(a.sessions, sha256.Sum256([]byte(c.Value)))
		a.mu.Unlock()
	}
	return &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1}
}

// require lets authenticated requests through. Others get 401 (JSON for the
// API), or, for a page, a redirect to the login form.
func (a *auth) require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.authenticated(r) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="wirewatch"`)
		if isAPI(r) {
			api.WriteError(w, http.StatusUnauthorized, "a valid bearer token is required (Authorization: Bearer TOKEN)")
			return
		}
		if r.Method == http.MethodGet && r.Header.Get("HX-Request") == "" {
			http.Redirect(w, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		http.Error(w, "401 log in first", http.StatusUnauthorized)
	})
}

// localPath returns p when it is a path on this server, else "/": the login
// form's next= must not send anyone elsewhere.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") ||
		strings.ContainsAny(p, "\r\n\\") {
		return "/"
	}
	return p
}
