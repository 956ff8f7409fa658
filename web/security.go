package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/wirewatch/wirewatch/api"
	"github.com/wirewatch/wirewatch/store"
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
// through: the server then only listens on loopback (CheckListen). Sessions
// are kept in the store, by the SHA-256 of their secret, so that a restart
// logs nobody out and every replica knows every session.
type auth struct {
	tokens [][32]byte // SHA-256 of each token, compared in constant time
	st     store.Store
	log    *slog.Logger
	now    func() time.Time
	// throttle limits wrong tokens per client address, at the login form
	// and in bearer headers alike.
	throttle *loginThrottle
}

func newAuth(tokens []string, st store.Store, log *slog.Logger) *auth {
	a := &auth{st: st, log: log, now: time.Now, throttle: newLoginThrottle(time.Now)}
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
	_, err = a.st.SessionExpires(r.Context(), key[:])
	if err != nil && !errors.Is(err, store.ErrNotFound) && r.Context().Err() == nil {
		a.log.Error("reading a session failed", "err", err)
	}
	return err == nil
}

// newSession starts a session and returns its cookie.
func (a *auth) newSession(ctx context.Context, secure bool) (*http.Cookie, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	id := base64.RawURLEncoding.EncodeToString(b[:])
	key := sha256.Sum256([]byte(id))
	if err := a.st.AddSession(ctx, key[:], a.now().Add(sessionTTL), maxSessions); err != nil {
		return nil, err
	}
	return &http.Cookie{Name: SessionCookie, Value: id, Path: "/", HttpOnly: true, Secure: secure,
		SameSite: http.SameSiteStrictMode, MaxAge: int(sessionTTL / time.Second)}, nil
}

// endSession ends the request's session and returns a cookie that clears it.
func (a *auth) endSession(r *http.Request) *http.Cookie {
	if c, err := r.Cookie(SessionCookie); err == nil {
		key := sha256.Sum256([]byte(c.Value))
		if err := a.st.DeleteSession(r.Context(), key[:]); err != nil {
			a.log.Error("ending a session failed", "err", err)
		}
	}
	return &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1}
}

// require lets authenticated requests through. Others get 401 (JSON for the
// API), or, for a page, a redirect to the login form.
func (a *auth) require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.enabled() && bearer(r) != "" {
			addr := clientAddr(r)
			if wait := a.throttle.wait(addr); wait > 0 {
				w.Header().Set("Retry-After", retryAfter(wait))
				api.WriteError(w, http.StatusTooManyRequests, "too many wrong tokens from your address; try again in a minute")
				return
			}
			if !a.validToken(bearer(r)) {
				a.throttle.failed(addr)
			}
		}
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

// requireBearer lets requests with a valid bearer token through (all, when
// no token is configured); others get 401. It is /metrics' guard: a scraper
// sends a header, it has no session.
func (a *auth) requireBearer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.enabled() && !a.validToken(bearer(r)) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="wirewatch"`)
			http.Error(w, "401 a valid bearer token is required (Authorization: Bearer TOKEN)", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// localPath returns p when it is a clean path on this server, else "/": the
// login form's next= must not send anyone elsewhere. Browsers drop tabs and
// newlines from a Location and read a backslash as a slash, so "/\t/evil"
// would become "//evil", another host: any control character, space or
// backslash refuses the path, as does anything url.Parse reads as having a
// scheme or a host.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") {
		return "/"
	}
	for _, r := range p {
		if r <= ' ' || r == 0x7f || r == '\\' || unicode.IsControl(r) || unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) {
			return "/"
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	return p
}
