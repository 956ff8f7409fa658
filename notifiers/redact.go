package notifiers

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
)

// Redacted stands where a secret was.
const Redacted = "[redacted]"

// Redactor takes a notifier's secrets — tokens, passwords, webhook URLs —
// out of text and errors before they are returned or logged. It is the one
// place notifiers do so. The zero Redactor redacts nothing.
type Redactor struct {
	secrets []string // every form of every secret, longest first
}

// NewRedactor returns a Redactor for secrets. Each is also hidden as a URL
// path or query would escape it and as JSON with escaped slashes would show
// it; empty secrets and "/" are ignored.
func NewRedactor(secrets ...string) *Redactor {
	var list []string
	for _, s := range secrets {
		for _, v := range []string{s, url.PathEscape(s), url.QueryEscape(s), strings.ReplaceAll(s, "/", `\/`)} {
			if v != "" && v != "/" && !slices.Contains(list, v) {
				list = append(list, v)
			}
		}
	}
	// Longest first, so that a whole URL is replaced before its parts.
	slices.SortStableFunc(list, func(a, b string) int { return len(b) - len(a) })
	return &Redactor{secrets: list}
}

// URLSecrets returns the pieces of a secret URL that must not be shown: the
// whole URL, its user info, path, query and fragment, and on their own its
// last path segment and its query values (where webhook keys and signatures
// sit) when they are long enough to be keys. The host is left out: "dial tcp
// example.com:443" helps and gives nothing away.
func URLSecrets(raw string) []string {
	const keyLen = 8
	pieces := []string{raw}
	u, err := url.Parse(raw)
	if err != nil {
		return pieces
	}
	pieces = append(pieces, u.String(), u.Redacted(), u.Path, u.EscapedPath(), u.RawQuery, u.Fragment)
	if u.User != nil {
		pieces = append(pieces, u.User.String(), u.User.Username())
		if p, ok := u.User.Password(); ok {
			pieces = append(pieces, p)
		}
	}
	if i := strings.LastIndexByte(u.Path, '/'); i >= 0 && len(u.Path)-i-1 >= keyLen {
		pieces = append(pieces, u.Path[i+1:])
	}
	for _, vs := range u.Query() {
		for _, v := range vs {
			if len(v) >= keyLen {
				pieces = append(pieces, v)
			}
		}
	}
	return pieces
}

// Longest is the length of the longest form of a secret, so that text cut
// for an error can be read that much further and a secret at the cut is
// still whole when it is redacted.
func (r *Redactor) Longest() int {
	if r == nil || len(r.secrets) == 0 {
		return 0
	}
	return len(r.secrets[0])
}

// String returns s with every secret replaced by Redacted.
func (r *Redactor) String(s string) string {
	if r == nil {
		return s
	}
	for _, secret := range r.secrets {
		s = strings.ReplaceAll(s, secret, Redacted)
	}
	return s
}

// Error returns err without secrets. A *url.Error, which holds the request
// URL, is replaced by its operation and cause. When the text is clean the
// error is returned as it is, so errors.Is and errors.As see its whole
// chain. Otherwise the result has the redacted text and wraps only what
// callers decide on and that holds no text of the original: the wait of a
// *RetryAfterError, and context.Canceled or context.DeadlineExceeded.
func (r *Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	if ue, ok := errors.AsType[*url.Error](err); ok && ue.Err != nil && err == error(ue) {
		err = &opError{op: strings.ToLower(ue.Op), err: ue.Err}
	}
	text := err.Error()
	clean := r.String(stripURLs(text, err))
	if clean == text && !holdsURLError(err) {
		return err
	}
	re := &redactedError{msg: clean}
	if ra, ok := errors.AsType[*RetryAfterError](err); ok {
		re.keep = append(re.keep, &RetryAfterError{After: ra.After, Err: errors.New(clean)})
	}
	for _, sentinel := range []error{context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, sentinel) {
			re.keep = append(re.keep, sentinel)
		}
	}
	return re
}

// holdsURLError reports a *url.Error deeper in err's chain, whose fields
// hold the request URL even where the text does not.
func holdsURLError(err error) bool {
	_, ok := errors.AsType[*url.Error](err)
	return ok
}

// stripURLs replaces the URL of every *url.Error in err's chain in text.
func stripURLs(text string, err error) string {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if ue, ok := e.(*url.Error); ok && ue.URL != "" {
			text = strings.ReplaceAll(text, `"`+ue.URL+`"`, Redacted)
			text = strings.ReplaceAll(text, ue.URL, Redacted)
		}
	}
	return text
}

// opError is a *url.Error without its URL: "post: connection refused".
type opError struct {
	op  string
	err error
}

func (e *opError) Error() string { return e.op + ": " + e.err.Error() }
func (e *opError) Unwrap() error { return e.err }

// redactedError is an error whose text had secrets removed. It wraps only
// values that hold none.
type redactedError struct {
	msg  string
	keep []error
}

func (e *redactedError) Error() string   { return e.msg }
func (e *redactedError) Unwrap() []error { return e.keep }
