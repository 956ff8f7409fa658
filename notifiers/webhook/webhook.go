// Package webhook is the notifier that POSTs each alert's JSON payload to a
// URL of the user's choosing. The URL often carries a token, so it never
// appears in an error.
package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notifiers"
)

var _ notifiers.Notifier = (*Notifier)(nil)

// DefaultTimeout bounds a whole request when New is given no client.
const DefaultTimeout = 30 * time.Second

const (
	// errorBodyMax is how much of an error answer's body goes into the error.
	errorBodyMax = 512
	// drainMax is how much of a body is read to let the connection be reused.
	drainMax = 64 << 10
)

// Notifier POSTs alerts to one webhook URL. It is safe for concurrent use.
type Notifier struct {
	name    string
	url     config.Secret
	client  *http.Client
	secrets []string // pieces of the URL that errors must not show, longest first
	now     func() time.Time
}

// New returns a Notifier named name that POSTs to url with client, or, when
// client is nil, with a client of its own that gives up after DefaultTimeout.
func New(name string, url config.Secret, client *http.Client) *Notifier {
	if client == nil {
		client = &http.Client{Timeout: DefaultTimeout}
	}
	return &Notifier{
		name:    name,
		url:     url,
		client:  client,
		secrets: urlSecrets(url.Reveal()),
		now:     time.Now,
	}
}

// Notify POSTs a's payload as JSON with the header "Idempotency-Key:
// wirewatch-<alert id>", so a receiver can drop the repeat of a send whose
// answer was lost. A 2xx answer is success. 429, 5xx and network failures are
// worth retrying, and 429 and 503 carry their Retry-After as a
// *notifiers.RetryAfterError; any other answer is not. It returns no message
// reference.
func (n *Notifier) Notify(ctx context.Context, a *notifiers.Alert) (string, bool, error) {
	if err := ctx.Err(); err != nil {
		return "", true, n.errorf("post: %w", err)
	}
	p := notifiers.NewPayload(a)
	if p.Target == "" {
		p.Target = n.name
	}
	body, err := p.JSONLine()
	if err != nil {
		return "", false, n.errorf("encode: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.url.Reveal(), bytes.NewReader(body))
	if err != nil {
		return "", false, n.errorf("request: %w", n.sanitize(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "wirewatch")
	req.Header.Set("Idempotency-Key", "wirewatch-"+strconv.FormatInt(a.ID, 10))

	resp, err := n.client.Do(req)
	if err != nil {
		return "", true, n.errorf("post: %w", n.sanitize(err))
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainMax))
		_ = resp.Body.Close()
	}()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return "", false, nil
	}

	// Read a little past errorBodyMax so that a URL the receiver echoes at the
	// cut is still whole when it is redacted.
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, int64(errorBodyMax+n.longestSecret())))
	msg := "status " + strconv.Itoa(resp.StatusCode)
	if s := n.clean(string(snippet)); s != "" {
		msg += ": " + s
	}
	err = n.errorf("%s", msg)
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		if d := notifiers.ParseRetryAfter(resp.Header.Get("Retry-After"), n.now()); d > 0 {
			err = &notifiers.RetryAfterError{After: d, Err: err}
		}
	}
	return "", notifiers.RetryStatus(resp.StatusCode), err
}

func (n *Notifier) errorf(format string, args ...any) error {
	return fmt.Errorf("webhook %q: "+format, append([]any{n.name}, args...)...)
}

// sanitize returns err without the URL: a *url.Error is replaced by what it
// wraps, and any text that still holds a piece of the URL is redacted. The
// result unwraps to the inner error only when that error's own text is clean,
// so that errors.Is(err, context.DeadlineExceeded) and the like keep working.
func (n *Notifier) sanitize(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		err = ue.Err
	}
	text := err.Error()
	clean := n.redact(text)
	if clean == text {
		return err
	}
	return redactedError{msg: clean}
}

// clean makes an answer's body fit for an error: one line of valid UTF-8, no
// URL, at most errorBodyMax bytes.
func (n *Notifier) clean(s string) string {
	s = n.redact(strings.Join(strings.Fields(strings.ToValidUTF8(s, "")), " "))
	if len(s) <= errorBodyMax {
		return s
	}
	cut := errorBodyMax
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func (n *Notifier) longestSecret() int {
	if len(n.secrets) == 0 {
		return 0
	}
	return len(n.secrets[0])
}

func (n *Notifier) redact(s string) string {
	for _, secret := range n.secrets {
		s = strings.ReplaceAll(s, secret, "[redacted]")
	}
	return s
}

// redactedError is an error whose text had a secret removed; it wraps nothing,
// so the secret cannot be reached through errors.Unwrap either.
type redactedError struct{ msg string }

func (e redactedError) Error() string { return e.msg }

// urlSecrets lists the pieces of raw that must not appear in errors: the whole
// URL, its user info, path, query and fragment, each also as a query parameter
// would escape it and as JSON with escaped slashes would. The host is left out:
// "dial tcp example.com:443" helps and gives nothing away.
func urlSecrets(raw string) []string {
	pieces := []string{raw}
	if u, err := url.Parse(raw); err == nil {
		pieces = append(pieces, u.String(), u.Redacted(), u.Path, u.EscapedPath(), u.RawQuery, u.Fragment)
		if u.User != nil {
			pieces = append(pieces, u.User.String(), u.User.Username())
			if p, ok := u.User.Password(); ok {
				pieces = append(pieces, p)
			}
		}
	}
	var list []string
	for _, p := range pieces {
		for _, v := range []string{p, url.QueryEscape(p), strings.ReplaceAll(p, "/", `\/`)} {
			if v != "" && v != "/" && !slices.Contains(list, v) {
				list = append(list, v)
			}
		}
	}
	// Longest first, so a whole URL is replaced before its parts.
	slices.SortStableFunc(list, func(a, b string) int { return len(b) - len(a) })
	return list
}
