// Package sources is the first room on wirewatch's road: it fetches a news
// source (conditional GET, time and size limits, a per-host limit, and the
// private-address guard for sources added at run time) and parses it with
// gofeed into []story.Story, normalised by the story helpers. The caller
// hands the stories to the store; this package knows nothing of the store,
// the rules or the chat platforms.
package sources

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wirewatch/wirewatch/story"
)

// Defaults for the zero values of Options.
const (
	// DefaultTimeout bounds one fetch.
	DefaultTimeout = 30 * time.Second
	// DefaultMaxBody is the largest body accepted: 10 MiB.
	DefaultMaxBody = 10 << 20
	// DefaultPerHost is how many fetches may run at once against one host.
	DefaultPerHost = 2
)

const (
	maxRedirects     = 5
	connectTimeout   = 10 * time.Second
	handshakeTimeout = 10 * time.Second
	maxRetryAfter    = 24 * time.Hour
	// accept lists the feed formats we parse, in order of preference.
	accept = "application/rss+xml, application/atom+xml, application/feed+json, " +
		"application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)

// UserAgent returns the User-Agent header wirewatch sends, for a version.
func UserAgent(version string) string {
	return "wirewatch/" + version + " (+https://github.com/wirewatch/wirewatch)"
}

// Options configure a Fetcher. Zero values take the defaults.
type Options struct {
	// Timeout bounds one fetch, from connecting to the last byte of the body
	// (DefaultTimeout). The wait for a per-host slot is not counted.
	Timeout time.Duration
	// MaxBody is the largest body accepted, in bytes (DefaultMaxBody). A larger
	// body is an error, never a truncation. It applies after gzip decoding.
	MaxBody int64
	// PerHost is how many fetches may run at once against one host name
	// (DefaultPerHost).
	PerHost int
	// UserAgent is sent with every request (UserAgent("dev")).
	UserAgent string
	// Now tells the time; it dates fetches and stories (time.Now).
	Now func() time.Time
}

// Fetcher fetches and parses sources. It holds the HTTP clients and is safe
// for concurrent use; build one per process and Close it at shutdown.
type Fetcher struct {
	opts    Options
	client  *http.Client // trusted sources from the config file
	guarded *http.Client // sources added at run time: private addresses refused

	mu    sync.Mutex
	hosts map[string]*hostSlots
}

// hostSlots limits concurrent fetches to one host; users counts the fetches
// holding or waiting for a slot, so that an idle host's entry can be dropped.
type hostSlots struct {
	slots chan struct{}
	users int
}

// NewFetcher returns a Fetcher with the options' limits.
func NewFetcher(o Options) *Fetcher {
	return newFetcher(o, refuseAddr)
}

// newFetcher lets tests choose which addresses the guarded client refuses.
func newFetcher(o Options, check func(netip.Addr) error) *Fetcher {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.PerHost <= 0 {
		o.PerHost = DefaultPerHost
	}
	if o.UserAgent == "" {
		o.UserAgent = UserAgent("dev")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Fetcher{
		opts:    o,
		client:  newClient(o, nil),
		guarded: newClient(o, check),
		hosts:   make(map[string]*hostSlots),
	}
}

// newClient builds an HTTP client with our limits. With a check, every
// connection's resolved address must pass it, and no proxy is used (the check
// would see the proxy's address, not the source's).
func newClient(o Options, check func(netip.Addr) error) *http.Client {
	dialer := &net.Dialer{Timeout: min(connectTimeout, o.Timeout), KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   o.PerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   min(handshakeTimeout, o.Timeout),
		ExpectContinueTimeout: time.Second,
	}
	if check != nil {
		dialer.Control = dialControl(check)
		tr.Proxy = nil
	}
	return &http.Client{
		Transport: tr,
		Timeout:   o.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > maxRedirects {
				return fmt.Errorf("stopped after %d redirects", maxRedirects)
			}
			if s := req.URL.Scheme; s != "http" && s != "https" {
				return fmt.Errorf("redirect to unsupported scheme %q", s)
			}
			return nil
		},
	}
}

// Close closes idle connections. The Fetcher stays usable.
func (f *Fetcher) Close() {
	f.client.CloseIdleConnections()
	f.guarded.CloseIdleConnections()
}

// Request names one source to fetch and what we know of it.
type Request struct {
	// SourceID is the store's id of the source, copied into the stories.
	SourceID int64
	// Name is the source's display name, used in stories and errors.
	Name string
	// URL is the source's http(s) or, for trusted sources, file URL.
	URL string
	// ETag and LastModified come from the last successful fetch; they make the
	// request conditional.
	ETag, LastModified string
	// Guarded is set for sources added at run time: their addresses must be
	// public, checked at every connection, and file URLs are refused.
	Guarded bool
}

// Result is what a successful fetch brought.
type Result struct {
	// Status is the HTTP status (200 or 304 for file URLs too).
	Status int
	// NotModified is true when the source has not changed since ETag or
	// LastModified; then nothing was parsed and Stories is empty.
	NotModified bool
	// ETag and LastModified are the validators to send next time.
	ETag, LastModified string
	// Title is the feed's own title, as plain text.
	Title string
	// Stories are the feed's items, normalised, in feed order: the newest
	// MaxItems when it held more.
	Stories []story.Story
	// Items is how many items the feed held; more than len(Stories) when
	// it held more than MaxItems.
	Items int
	// Bytes is the size of the body read (after gzip decoding).
	Bytes int64
}

// Error is a failed fetch or parse. Its message names the source, never the
// URL (which may carry credentials): `fetch "Feed A": status 503`.
type Error struct {
	// Op is "fetch" or "parse".
	Op string
	// Source is the source's name.
	Source string
	// Status is the HTTP status when the server answered, else 0.
	Status int
	// RetryAfter is the server's Retry-After on a 429 or 503, else 0.
	RetryAfter time.Duration
	// Err is the cause.
	Err error
}

// Error says which operation failed for which source, and why.
func (e *Error) Error() string { return fmt.Sprintf("%s %q: %v", e.Op, e.Source, e.Err) }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// ErrTooLarge is matched (errors.Is) by the error for a body over MaxBody.
var ErrTooLarge = errors.New("body too large")

// tooLarge is the error for a body over the limit: "body exceeds 10 MiB".
type tooLarge struct{ limit int64 }

func (e *tooLarge) Error() string        { return "body exceeds " + formatSize(e.limit) }
func (e *tooLarge) Is(target error) bool { return target == ErrTooLarge }

func formatSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Fetch fetches one source and parses it. Errors are *Error.
func (f *Fetcher) Fetch(ctx context.Context, r Request) (Result, error) {
	fail := func(status int, err error) (Result, error) {
		return Result{Status: status}, &Error{Op: "fetch", Source: r.Name, Status: status, Err: err}
	}
	u, err := url.Parse(strings.TrimSpace(r.URL))
	if err != nil {
		return fail(0, errors.New("invalid URL"))
	}
	if err := ctx.Err(); err != nil {
		return fail(0, err)
	}
	var (
		res  Result
		body []byte
		base *url.URL
		ct   string
	)
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		if u.Host == "" {
			return fail(0, errors.New("invalid URL: no host"))
		}
		release, err := f.acquire(ctx, strings.ToLower(u.Hostname()))
		if err != nil {
			return fail(0, err)
		}
		res, body, base, ct, err = f.get(ctx, r, u)
		release()
		if err != nil {
			return res, err
		}
	case "file":
		if r.Guarded {
			return fail(0, refuse("file URLs are not allowed"))
		}
		res, body, err = f.readFile(r, u)
		if err != nil {
			return res, err
		}
		base = u
	default:
		return fail(0, fmt.Errorf("unsupported scheme %q", u.Scheme))
	}
	if res.NotModified {
		return res, nil
	}
	title, stories, items, err := parse(body, ct, base, r, f.opts.Now())
	if err != nil {
		return res, &Error{Op: "parse", Source: r.Name, Status: res.Status, Err: err}
	}
	res.Title, res.Stories, res.Items = title, stories, items
	return res, nil
}

// get does the HTTP part of a fetch: it returns the body of a 2xx answer, or
// a NotModified result, with the URL the body came from after redirects.
func (f *Fetcher) get(ctx context.Context, r Request, u *url.URL) (Result, []byte, *url.URL, string, error) {
	fail := func(status int, retryAfter time.Duration, err error) (Result, []byte, *url.URL, string, error) {
		return Result{Status: status}, nil, nil, "", &Error{
			Op: "fetch", Source: r.Name, Status: status, RetryAfter: retryAfter, Err: err,
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fail(0, 0, errors.New("invalid URL"))
	}
	req.Header.Set("User-Agent", f.opts.UserAgent)
	req.Header.Set("Accept", accept)
	if r.ETag != "" {
		req.Header.Set("If-None-Match", r.ETag)
	}
	if r.LastModified != "" {
		req.Header.Set("If-Modified-Since", r.LastModified)
	}
	client := f.client
	if r.Guarded {
		client = f.guarded
	}
	resp, err := client.Do(req)
	if err != nil {
		return fail(0, 0, clientError(err))
	}
	defer resp.Body.Close()

	status := resp.StatusCode
	switch {
	case status == http.StatusNotModified:
		drain(resp.Body)
		res := Result{Status: status, NotModified: true, ETag: r.ETag, LastModified: r.LastModified}
		if v := resp.Header.Get("ETag"); v != "" {
			res.ETag = v
		}
		if v := resp.Header.Get("Last-Modified"); v != "" {
			res.LastModified = v
		}
		return res, nil, nil, "", nil
	case status < 200 || status > 299:
		drain(resp.Body)
		var retryAfter time.Duration
		if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
			retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), f.opts.Now())
		}
		return fail(status, retryAfter, fmt.Errorf("status %d", status))
	}
	if resp.ContentLength > f.opts.MaxBody {
		return fail(status, 0, &tooLarge{f.opts.MaxBody})
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.opts.MaxBody+1))
	if err != nil {
		return fail(status, 0, fmt.Errorf("read body: %w", clientError(err)))
	}
	if int64(len(body)) > f.opts.MaxBody {
		return fail(status, 0, &tooLarge{f.opts.MaxBody})
	}
	res := Result{
		Status:       status,
		ETag:         resp.Header.Get("ETag"),
		LastModified: resp.Header.Get("Last-Modified"),
		Bytes:        int64(len(body)),
	}
	return res, body, resp.Request.URL, resp.Header.Get("Content-Type"), nil
}

// clientError strips the *url.Error around a client error, whose text holds
// the URL (and so perhaps credentials in its query), and brings a refusal of
// the private-address guard to the front.
func clientError(err error) error {
	var rf *refusal
	if errors.As(err, &rf) {
		return rf
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// drain reads a little of an unwanted body so that the connection can be
// reused; a large one is left for Close to cut.
func drain(body io.Reader) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
}

// readFile reads a file URL of a trusted source, with the same size limit.
// The file's modification time and size stand in for the validators.
func (f *Fetcher) readFile(r Request, u *url.URL) (Result, []byte, error) {
	fail := func(err error) (Result, []byte, error) {
		return Result{}, nil, &Error{Op: "fetch", Source: r.Name, Err: err}
	}
	if u.Host != "" && u.Host != "localhost" {
		return fail(errors.New("file URL with a remote host"))
	}
	if u.Path == "" {
		return fail(errors.New("file URL without a path"))
	}
	fh, err := os.Open(u.Path)
	if err != nil {
		return fail(err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return fail(err)
	}
	if !st.Mode().IsRegular() {
		return fail(errors.New("not a regular file"))
	}
	// Last-Modified has whole seconds: a file written twice in one second
	// would look unchanged. The ETag, from the modification time to the
	// nanosecond and the size, tells them apart.
	lastModified := st.ModTime().UTC().Format(http.TimeFormat)
	etag := fmt.Sprintf(`"%x-%x"`, st.ModTime().UnixNano(), st.Size())
	if r.ETag == etag {
		return Result{Status: http.StatusNotModified, NotModified: true, ETag: etag, LastModified: lastModified}, nil, nil
	}
	if st.Size() > f.opts.MaxBody {
		return fail(&tooLarge{f.opts.MaxBody})
	}
	body, err := io.ReadAll(io.LimitReader(fh, f.opts.MaxBody+1))
	if err != nil {
		return fail(err)
	}
	if int64(len(body)) > f.opts.MaxBody {
		return fail(&tooLarge{f.opts.MaxBody})
	}
	return Result{Status: http.StatusOK, ETag: etag, LastModified: lastModified, Bytes: int64(len(body))}, body, nil
}

// acquire waits, as long as ctx allows, for a fetch slot on host. The
// returned release must be called once the fetch is done.
func (f *Fetcher) acquire(ctx context.Context, host string) (release func(), err error) {
	f.mu.Lock()
	h := f.hosts[host]
	if h == nil {
		h = &hostSlots{slots: make(chan struct{}, f.opts.PerHost)}
		f.hosts[host] = h
	}
	h.users++
	f.mu.Unlock()

	leave := func() {
		f.mu.Lock()
		h.users--
		if h.users == 0 {
			delete(f.hosts, host)
		}
		f.mu.Unlock()
	}
	select {
	case h.slots <- struct{}{}:
		return func() {
			<-h.slots
			leave()
		}, nil
	case <-ctx.Done():
		leave()
		return nil, ctx.Err()
	}
}

// parseRetryAfter reads a Retry-After header, in seconds or as an HTTP date;
// 0 when absent, invalid or past. It is capped at 24 hours.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n >= int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

// Backoff bounds.
const (
	backoffBase = time.Minute
	backoffCap  = 6 * time.Hour
)

// Backoff returns how long to wait after the n-th consecutive failure of a
// source: 1m, 2m, 4m, … with ±20% jitter, capped at 6h. A Retry-After longer
// than that wins, capped at 24h. rnd returns a number in [0, 1); nil means
// math/rand/v2.Float64.
func Backoff(failures int, retryAfter time.Duration, rnd func() float64) time.Duration {
	if rnd == nil {
		rnd = rand.Float64
	}
	var d time.Duration
	if failures > 0 {
		base := backoffCap
		if shift := failures - 1; shift < 20 {
			base = min(backoffBase<<shift, backoffCap)
		}
		jitter := 0.8 + 0.4*min(max(rnd(), 0), 1)
		d = min(time.Duration(float64(base)*jitter), backoffCap)
	}
	if retryAfter > d {
		d = min(retryAfter, maxRetryAfter)
	}
	return d
}
