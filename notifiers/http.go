package notifiers

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	// answerMax is how much of an answer's body is read.
	answerMax = 1 << 20
	// DetailMax is how much of an error answer goes into the error, in bytes.
	DetailMax = 512
)

// HTTP is the one exchange every notifier that speaks HTTP shares: send a
// request, read the answer, decide whether trying again can help, and word
// the failure without a secret. A notifier builds the request and reads a
// successful answer; nothing else.
type HTTP struct {
	// Client sends the requests.
	Client *http.Client
	// Redactor takes the notifier's secrets out of every error.
	Redactor *Redactor
	// Now is the clock Retry-After dates are read against.
	Now func() time.Time
}

// NewHTTP returns the exchange of a notifier built with env, hiding secrets.
func NewHTTP(env Env, secrets ...string) *HTTP {
	return &HTTP{Client: env.Client(), Redactor: NewRedactor(secrets...), Now: env.Clock()}
}

// NewHookHTTP is NewHTTP for a notifier whose secret is its URL (a webhook's
// key sits in its path or query): raw, trimmed, must be an http(s) URL with a
// host, and every piece of it is hidden from errors. It returns the trimmed
// URL; its errors do not show it.
func NewHookHTTP(env Env, raw string) (string, *HTTP, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", nil, errors.New("url is empty")
	}
	if u, err := url.Parse(raw); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", nil, errors.New("url is not an http(s) URL")
	}
	return raw, NewHTTP(env, URLSecrets(raw)...), nil
}

// Request is one HTTP request of a notifier.
type Request struct {
	// Method is the HTTP method; empty means POST.
	Method string
	// URL is where it goes; it may hold a secret.
	URL string
	// Header is added to the request; User-Agent is set to wirewatch.
	Header http.Header
	// Body is the request's body, sent with ContentType.
	Body        []byte
	ContentType string
	// Explain, when set, reads a failed answer the platform's way: the
	// reason it gives (shown in the error instead of the raw body) and the
	// wait it asks for, if any (in place of Retry-After).
	Explain func(Answer) (reason string, wait time.Duration)
}

// Answer is a receiver's answer.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON returns a POST of body, which is JSON, to url.
func JSON(url string, body []byte) Request {
	return Request{URL: url, Body: body, ContentType: "application/json"}
}

// Send makes the request and reads the answer. A 2xx answer is success. A
// network failure, 429 and 5xx are worth retrying, every other status is
// not; 429 and 503 carry their Retry-After as a *RetryAfterError. A failed
// answer is returned too; Request.Explain reads a platform's own reasons
// from it. Errors hold no secret and no URL.
func (h *HTTP) Send(ctx context.Context, r Request) (Answer, bool, error) {
	if err := ctx.Err(); err != nil {
		return Answer{}, true, fmt.Errorf("post: %w", err)
	}
	method := r.Method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequestWithContext(ctx, method, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return Answer{}, false, h.Redactor.Error(fmt.Errorf("request: %w", err))
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	if r.ContentType != "" {
		req.Header.Set("Content-Type", r.ContentType)
	}
	req.Header.Set("User-Agent", "wirewatch")
	resp, err := h.Client.Do(req)
	if err != nil {
		return Answer{}, true, h.Redactor.Error(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, answerMax))
	a := Answer{Status: resp.StatusCode, Header: resp.Header, Body: body}
	if a.Status >= 200 && a.Status < 300 {
		// A 2xx whose body broke off still delivered the message.
		return a, false, nil
	}
	if err != nil {
		return a, true, h.Redactor.Error(fmt.Errorf("status %d: read answer: %w", a.Status, err))
	}
	reason, wait := string(body), time.Duration(0)
	if r.Explain != nil {
		if why, w := r.Explain(a); why != "" || w > 0 {
			reason, wait = cmp.Or(why, reason), w
		}
	}
	return a, RetryStatus(a.Status), h.statusError(a, h.Detail(reason), wait)
}

// statusError words a failed answer: "status 404: detail", with the wait
// the platform asked for, or that of a 429's or 503's Retry-After.
func (h *HTTP) statusError(a Answer, detail string, wait time.Duration) error {
	msg := "status " + strconv.Itoa(a.Status)
	if detail != "" {
		msg += ": " + detail
	}
	var err error = plainError(h.Redactor.String(msg))
	if wait <= 0 && (a.Status == http.StatusTooManyRequests || a.Status == http.StatusServiceUnavailable) {
		wait = ParseRetryAfter(a.Header.Get("Retry-After"), h.Now())
	}
	if wait > 0 {
		err = &RetryAfterError{After: wait, Err: err}
	}
	return err
}

// Detail makes text from an answer fit for an error: one line of valid
// UTF-8 without secrets, at most DetailMax bytes.
func (h *HTTP) Detail(s string) string {
	if len(s) > DetailMax+h.Redactor.Longest()+64 {
		s = s[:DetailMax+h.Redactor.Longest()+64]
	}
	s = h.Redactor.String(strings.Join(strings.Fields(strings.ToValidUTF8(s, "")), " "))
	if len(s) <= DetailMax {
		return s
	}
	cut := DetailMax
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// plainError is an error of fixed text.
type plainError string

func (e plainError) Error() string { return string(e) }
