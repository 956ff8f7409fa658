package notifiertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

// Subject is a notifier under the conformance suite together with the fake
// of its platform it sends to. Hooks left nil mark a case that the platform's
// protocol does not have; the suite skips it and says so.
type Subject struct {
	// New builds the notifier under test, sending to the fake and logging to
	// logger, which the suite checks for secrets.
	New func(t *testing.T, logger *slog.Logger) notifiers.Notifier
	// Target and Channel are what alerts to the notifier carry.
	Target, Channel string
	// Secrets must never appear in an error or a log line.
	Secrets []string

	// Fail makes the fake refuse the next send with code — an HTTP status,
	// or for e-mail an SMTP reply code — in the platform's own form, with
	// detail as its explanation (the suite puts the secrets in it, as a
	// receiver echoing its URL would).
	Fail func(code int, detail string)
	// Statuses is the code → retry table Fail is checked with; nil means
	// HTTPStatuses.
	Statuses []Status
	// RateLimit makes the fake answer the next send "too many requests,
	// try again after d" the way the platform does.
	RateLimit func(d time.Duration)
	// Hold makes the fake keep its answer to the next send until release is
	// closed or the send is given up.
	Hold func(release <-chan struct{})

	// Sent returns, for every message the fake received so far, the texts a
	// person sees, each with how the platform reads it and its limit.
	Sent func(t *testing.T) [][]Field
	// Reply, when the platform threads follow-ups, reports whether the last
	// message received was posted as a reply to the message ref names.
	Reply func(t *testing.T, ref string) bool
}

// Status is one row of a status → retry table.
type Status struct {
	Code  int
	Retry bool
}

// HTTPStatuses are the answers every HTTP notifier must classify alike:
// 429 and 5xx are worth retrying, other refusals are not.
var HTTPStatuses = []Status{
	{400, false}, {401, false}, {403, false}, {404, false}, {413, false},
	{429, true}, {500, true}, {502, true}, {503, true}, {504, true},
}

// SMTPStatuses are SMTP replies: 4xx are transient, 5xx permanent.
var SMTPStatuses = []Status{
	{421, true}, {450, true}, {451, true}, {452, true},
	{550, false}, {552, false}, {553, false}, {554, false},
}

// Syntax is how a platform reads a text.
type Syntax int

// The syntaxes the suite can check.
const (
	// Plain text is shown as written.
	Plain Syntax = iota
	// HTML, or Telegram's subset of it.
	HTML
	// Markdown is CommonMark with backslash escapes (Mattermost, Discord).
	Markdown
	// Mrkdwn is Slack's markup: &, < and > are entities, links and
	// mentions are in angle brackets.
	Mrkdwn
)

// Field is one text of a received message.
type Field struct {
	// Name says which text it is, for messages.
	Name string
	// Text is the text as sent, markup and escapes included.
	Text string
	// Syntax is how the platform reads it.
	Syntax Syntax
	// Max is the platform's limit for the text, measured with Measure
	// (notifiers.Runes when nil); 0 means none.
	Max     int
	Measure func(string) int
	// Mentions says that the platform turns "@name" in this text into a
	// ping, so untrusted text must not hold one.
	Mentions bool
}

// Hostile is untrusted text that tries every trick: markup, links, mentions
// and escapes of the platforms wirewatch posts to.
const Hostile = `<script>alert(1)</script> <b>bold</b> **bold** _it_ ~~x~~ [click](https://evil.example/) ` +
	"`code` <!channel> <@U0123> <at>Everyone</at> @everyone @here @channel @all @wirewatch_admin &amp; &lt;x&gt; \\* # h"

// Run runs the conformance suite against s.
func Run(t *testing.T, s Subject) {
	t.Helper()
	logs := &Buffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	n := s.New(t, logger)
	alert := func(opts ...func(*notifiers.Alert)) *notifiers.Alert {
		return Alert(append([]func(*notifiers.Alert){func(a *notifiers.Alert) {
			a.Target, a.Channel = s.Target, s.Channel
		}}, opts...)...)
	}
	ctx := func(t *testing.T) context.Context {
		c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		t.Cleanup(cancel)
		return c
	}
	sent := func(t *testing.T) int {
		if s.Sent == nil {
			return 0
		}
		return len(s.Sent(t))
	}
	checkErr := func(t *testing.T, err error) {
		t.Helper()
		if len(s.Secrets) > 0 {
			AssertNoSecretLeak(t, err, s.Secrets...)
		}
	}

	t.Run("delivers", func(t *testing.T) {
		before := sent(t)
		ref, retry, err := n.Notify(ctx(t), alert())
		if err != nil || retry {
			t.Fatalf("Notify = %q, %v, %v; want success", ref, retry, err)
		}
		if s.Sent != nil && sent(t) != before+1 {
			t.Errorf("the fake got %d messages, want 1", sent(t)-before)
		}
	})

	t.Run("status decides retry", func(t *testing.T) {
		if s.Fail == nil {
			t.Skip("not applicable: the notifier gets no status from a receiver")
		}
		table := s.Statuses
		if table == nil {
			table = HTTPStatuses
		}
		for _, st := range table {
			s.Fail(st.Code, "refused for "+strings.Join(s.Secrets, " "))
			ref, retry, err := n.Notify(ctx(t), alert())
			if err == nil || ref != "" {
				t.Errorf("status %d: Notify = %q, %v; want an error", st.Code, ref, err)
				continue
			}
			if retry != st.Retry {
				t.Errorf("status %d: retry %v, want %v (%v)", st.Code, retry, st.Retry, err)
			}
			checkErr(t, err)
		}
	})

	t.Run("rate limit honours the wait", func(t *testing.T) {
		if s.RateLimit == nil {
			t.Skip("not applicable: the protocol has no rate limit answer with a wait")
		}
		s.RateLimit(7 * time.Second)
		_, retry, err := n.Notify(ctx(t), alert())
		if err == nil || !retry || notifiers.RetryAfter(err) != 7*time.Second {
			t.Fatalf("rate limited: retry %v, wait %v, err %v; want a retry after 7s", retry, notifiers.RetryAfter(err), err)
		}
		checkErr(t, err)
	})

	t.Run("cancelled context sends nothing", func(t *testing.T) {
		before := sent(t)
		c, cancel := context.WithCancel(context.Background())
		cancel()
		_, retry, err := n.Notify(c, alert())
		if !errors.Is(err, context.Canceled) || !retry {
			t.Fatalf("Notify with a cancelled context: retry %v, err %v; want context.Canceled, retry", retry, err)
		}
		if got := sent(t); got != before {
			t.Errorf("%d messages sent with a cancelled context", got-before)
		}
	})

	t.Run("cancelling a send in flight", func(t *testing.T) {
		if s.Hold == nil {
			t.Skip("not applicable: the fake cannot hold an answer")
		}
		release := make(chan struct{})
		defer close(release)
		s.Hold(release)
		c, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		done := make(chan error, 1)
		go func() {
			_, retry, err := n.Notify(c, alert())
			if err != nil && !retry {
				err = fmt.Errorf("retry false: %w", err)
			}
			done <- err
		}()
		select {
		case err := <-done:
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("held send: %v, want context.DeadlineExceeded and retry", err)
			}
			checkErr(t, err)
		case <-time.After(10 * time.Second):
			t.Fatal("Notify did not return when its context ended")
		}
	})

	t.Run("hostile text is inert", func(t *testing.T) {
		if s.Sent == nil {
			t.Skip("not applicable: the fake records no text")
		}
		hostile := func(st *story.Story) {
			st.Title, st.Summary, st.Source = Hostile, Hostile, Hostile
			st.URL = "https://news.example/a?b=1&c=<2>"
		}
		alerts := []*notifiers.Alert{
			alert(func(a *notifiers.Alert) { hostile(a.Story); a.Rules = []string{Hostile} }),
			alert(func(a *notifiers.Alert) {
				hostile(a.Story)
				a.Kind = store.KindDigest
				a.Stories = []story.Story{*a.Story, *a.Story}
				a.Story = nil
			}),
			alert(func(a *notifiers.Alert) { a.Kind, a.Story, a.Text = store.KindHealth, nil, Hostile }),
		}
		for _, a := range alerts {
			if _, _, err := n.Notify(ctx(t), a); err != nil {
				t.Fatalf("Notify %s: %v", a.Kind, err)
			}
			msgs := s.Sent(t)
			for _, f := range msgs[len(msgs)-1] {
				if err := inert(f); err != nil {
					t.Errorf("%s: %s: %v\n%s", a.Kind, f.Name, err, f.Text)
				}
			}
		}
	})

	t.Run("limits kept without splitting an escape", func(t *testing.T) {
		if s.Sent == nil {
			t.Skip("not applicable: the fake records no text")
		}
		long := strings.Repeat("&<>*_[]@\\ Ünïcødé 🚀 ", 2000)
		big := func(st *story.Story) { st.Title, st.Summary, st.Source = long, long, long }
		stories := make([]story.Story, 20)
		for i := range stories {
			stories[i] = *Story(big)
		}
		alerts := []*notifiers.Alert{
			alert(func(a *notifiers.Alert) { big(a.Story); a.Rules = []string{long} }),
			alert(func(a *notifiers.Alert) { a.Kind, a.Story, a.Stories = store.KindDigest, nil, stories }),
			alert(func(a *notifiers.Alert) { a.Kind, a.Story, a.Text = store.KindHealth, nil, long }),
		}
		for _, a := range alerts {
			if _, _, err := n.Notify(ctx(t), a); err != nil {
				t.Fatalf("Notify %s: %v", a.Kind, err)
			}
			msgs := s.Sent(t)
			for _, f := range msgs[len(msgs)-1] {
				measure := f.Measure
				if measure == nil {
					measure = notifiers.Runes
				}
				if f.Max > 0 && measure(f.Text) > f.Max {
					t.Errorf("%s: %s is %d long, over its limit of %d", a.Kind, f.Name, measure(f.Text), f.Max)
				}
				if err := whole(f); err != nil {
					t.Errorf("%s: %s: %v", a.Kind, f.Name, err)
				}
			}
		}
	})

	t.Run("follow-up replies under its alert", func(t *testing.T) {
		if s.Reply == nil {
			t.Skip("not applicable: the platform has no replies to post under")
		}
		ref, _, err := n.Notify(ctx(t), alert())
		if err != nil || ref == "" {
			t.Fatalf("Notify = %q, %v; want a message reference", ref, err)
		}
		if _, _, err := n.Notify(ctx(t), alert(func(a *notifiers.Alert) {
			a.Kind, a.ParentRef = store.KindFollowUp, ref
		})); err != nil {
			t.Fatal(err)
		}
		if !s.Reply(t, ref) {
			t.Errorf("the follow-up was not posted as a reply to %q", ref)
		}
	})

	t.Run("no secret in the log", func(t *testing.T) {
		for _, secret := range s.Secrets {
			for _, form := range []string{secret, url.PathEscape(secret), url.QueryEscape(secret)} {
				if strings.Contains(logs.String(), form) {
					t.Errorf("the log holds the secret %q:\n%s", secret, logs.String())
				}
			}
		}
	})
}

// mention is "@" and a name, as platforms read a ping.
var mention = regexp.MustCompile(`@[\pL\pN_]`)

// inert checks that the hostile text in f can do nothing but be read.
func inert(f Field) error {
	if !utf8.ValidString(f.Text) {
		return errors.New("invalid UTF-8")
	}
	visible := f.Text
	switch f.Syntax {
	case HTML:
		text, err := htmlText(f.Text)
		if err != nil {
			return err
		}
		if !strings.Contains(text, "<script>alert(1)</script>") && strings.Contains(f.Text, "alert(1)") {
			return errors.New("the script tag is not shown as text")
		}
		visible = text
	case Markdown:
		for _, raw := range []string{"**bold**", "_it_", "[click](", "`code`", "~~x~~", "<!channel>", "<script>"} {
			if strings.Contains(f.Text, raw) {
				return fmt.Errorf("unescaped %q", raw)
			}
		}
	case Mrkdwn:
		for i := strings.IndexByte(f.Text, '<'); i >= 0; i = nextByte(f.Text, '<', i) {
			if rest := f.Text[i:]; !strings.HasPrefix(rest, "<http://") && !strings.HasPrefix(rest, "<https://") && !strings.HasPrefix(rest, "<!date^") {
				return fmt.Errorf("an active <…> at %q", clip(rest))
			}
		}
	}
	if f.Mentions && mention.MatchString(visible) {
		return fmt.Errorf("a mention %q can ping", mention.FindString(visible))
	}
	return nil
}

// allowedTags are the elements an alert's HTML may use.
var allowedTags = map[string]bool{
	"html": true, "head": true, "body": true, "meta": true, "title": true,
	"a": true, "b": true, "strong": true, "i": true, "em": true, "p": true, "br": true, "div": true, "span": true,
	"ul": true, "ol": true, "li": true, "table": true, "tbody": true, "tr": true, "td": true, "th": true,
	"h1": true, "h2": true, "h3": true, "small": true, "blockquote": true, "code": true, "pre": true, "hr": true,
}

// htmlText checks that s uses only allowedTags, with links to http(s) only
// and no event handlers, and returns its text.
func htmlText(s string) (string, error) {
	z := html.NewTokenizer(strings.NewReader(s))
	var text strings.Builder
	for {
		switch z.Next() {
		case html.ErrorToken:
			return text.String(), nil
		case html.TextToken:
			text.Write(z.Text())
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			if !allowedTags[tok.Data] {
				return "", fmt.Errorf("element <%s> in the message", tok.Data)
			}
			for _, a := range tok.Attr {
				if strings.HasPrefix(a.Key, "on") || (a.Key == "href" && !strings.HasPrefix(a.Val, "https://") && !strings.HasPrefix(a.Val, "http://")) {
					return "", fmt.Errorf("attribute %s=%q on <%s>", a.Key, a.Val, tok.Data)
				}
			}
		}
	}
}

// entity is a character reference at the start of a text.
var entity = regexp.MustCompile(`^&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});`)

// whole checks that no escape in f was split by a cut.
func whole(f Field) error {
	if !utf8.ValidString(f.Text) {
		return errors.New("invalid UTF-8")
	}
	switch f.Syntax {
	case HTML:
		for i := strings.IndexByte(f.Text, '&'); i >= 0; i = nextByte(f.Text, '&', i) {
			if !entity.MatchString(f.Text[i:]) {
				return fmt.Errorf("a split or bare entity at %q", clip(f.Text[i:]))
			}
		}
		if open, end := strings.LastIndexByte(f.Text, '<'), strings.LastIndexByte(f.Text, '>'); open > end {
			return fmt.Errorf("a tag cut off at %q", clip(f.Text[open:]))
		}
	case Mrkdwn:
		for i := strings.IndexByte(f.Text, '&'); i >= 0; i = nextByte(f.Text, '&', i) {
			if rest := f.Text[i:]; !strings.HasPrefix(rest, "&amp;") && !strings.HasPrefix(rest, "&lt;") && !strings.HasPrefix(rest, "&gt;") {
				return fmt.Errorf("a split or bare entity at %q", clip(rest))
			}
		}
	case Markdown:
		for i := strings.IndexByte(f.Text, '\\'); i >= 0; i = nextByte(f.Text, '\\', i+1) {
			if i+1 >= len(f.Text) || !strings.ContainsRune("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", rune(f.Text[i+1])) {
				return fmt.Errorf("a backslash escaping nothing at %q", clip(f.Text[i:]))
			}
		}
	}
	return nil
}

func nextByte(s string, c byte, from int) int {
	if from+1 >= len(s) {
		return -1
	}
	j := strings.IndexByte(s[from+1:], c)
	if j < 0 {
		return -1
	}
	return from + 1 + j
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40]
	}
	return s
}

// Buffer is a writer safe for concurrent use: a log's or stdout's
// destination in tests.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns what was written.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
