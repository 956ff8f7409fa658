package notifiers_test

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/notifiers/notifiertest"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

func TestComposeSaysWhatEachKindIs(t *testing.T) {
	digest := func(kind string, total int) *notifiers.Alert {
		return notifiertest.Alert(func(a *notifiers.Alert) {
			a.Kind, a.Stories, a.Total, a.Story = kind, []story.Story{*a.Story, *a.Story}, total, nil
		})
	}
	tests := []struct {
		a                      *notifiers.Alert
		kind, heading, subject string
		stories, more          int
	}{
		{notifiertest.Alert(), store.KindAlert, "", "Nvidia readies new China chip as US tightens export rules", 1, 0},
		{notifiertest.Alert(func(a *notifiers.Alert) { a.Kind, a.Story.Source = store.KindFollowUp, "AP\nWire" }),
			store.KindFollowUp, "Also reported by AP Wire", "Also reported by AP Wire: Nvidia readies new China chip as US tightens export rules", 1, 0},
		{notifiertest.Alert(func(a *notifiers.Alert) { a.Kind, a.Text = store.KindSurge, "Carried by 3 sources" }),
			store.KindSurge, "Surge: Carried by 3 sources", "Surge: Carried by 3 sources: Nvidia readies new China chip as US tightens export rules", 1, 0},
		{digest(store.KindDigest, 12), store.KindDigest, "Digest — 12 stories", "Digest — 12 stories for nvidia-china", 2, 10},
		{digest(store.KindSummary, 0), store.KindSummary, "Summary — 2 more stories", "Summary — 2 more stories for nvidia-china", 2, 0},
		{notifiertest.Alert(func(a *notifiers.Alert) { a.Kind, a.Story, a.Text = store.KindHealth, nil, "feed\tdown\n" }),
			store.KindHealth, "", "feed down", 0, 0},
		{notifiertest.Alert(func(a *notifiers.Alert) { a.Story.Title, a.Story.URL = " \x00 ", "javascript:alert(1)" }),
			store.KindAlert, "", "(untitled)", 1, 0},
	}
	for _, tt := range tests {
		m := notifiers.Compose(tt.a)
		if m.Kind != tt.kind || m.Heading != tt.heading || m.Subject() != tt.subject || len(m.Stories) != tt.stories || m.More != tt.more {
			t.Errorf("Compose(%s) = kind %q heading %q subject %q, %d stories, %d more; want %q %q %q %d %d",
				tt.a.Kind, m.Kind, m.Heading, m.Subject(), len(m.Stories), m.More, tt.kind, tt.heading, tt.subject, tt.stories, tt.more)
		}
	}
	if m := notifiers.Compose(tests[len(tests)-1].a); m.Stories[0].URL != "" {
		t.Errorf("a javascript: link was kept: %q", m.Stories[0].URL)
	}
}

func TestFitCutsBeforeEscaping(t *testing.T) {
	text := strings.Repeat("Q&A <b> ", 50)
	for max := 0; max < 120; max += 7 {
		got := notifiers.Fit(text, max, html.EscapeString, notifiers.Runes)
		if notifiers.Runes(got) > max {
			t.Fatalf("Fit(…, %d) = %d runes", max, notifiers.Runes(got))
		}
		if got != "" && html.EscapeString(html.UnescapeString(got)) != got {
			t.Fatalf("Fit(…, %d) = %q splits an escape", max, got)
		}
	}
	if got := notifiers.Fit("short", 10, strings.ToUpper, notifiers.Runes); got != "SHORT" {
		t.Errorf("Fit of text that fits = %q", got)
	}
	if got := notifiers.UTF16("a🚀"); got != 3 {
		t.Errorf("UTF16 = %d, want 3", got)
	}
}

func TestEmphasize(t *testing.T) {
	got := notifiers.Emphasize("Nvidia & china <b>", []string{"nvidia", "china"}, html.EscapeString,
		func(s string) string { return "<b>" + html.EscapeString(s) + "</b>" })
	if want := "<b>Nvidia</b> &amp; <b>china</b> &lt;b&gt;"; got != want {
		t.Errorf("Emphasize = %q, want %q", got, want)
	}
}

func TestNewHookHTTP(t *testing.T) {
	for raw, want := range map[string]string{"": "url is empty", " ": "url is empty", "ftp://h.example/k": "not an http(s) URL",
		"https:///k3y-in-the-path": "not an http(s) URL"} {
		if _, _, err := notifiers.NewHookHTTP(notifiers.Env{}, raw); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("NewHookHTTP(%q): %v, want %q", raw, err, want)
		}
	}
	closed := notifiertest.ClosedURL(t) + "/hooks/k3y-0123456789?sig=s1gnature0123"
	raw, h, err := notifiers.NewHookHTTP(notifiers.Env{}, " "+closed+"\n")
	if err != nil || raw != closed {
		t.Fatalf("NewHookHTTP = %q, %v", raw, err)
	}
	_, retry, err := h.Send(t.Context(), notifiers.JSON(raw, []byte("{}")))
	if err == nil || !retry {
		t.Fatalf("send to a closed port: retry %v, err %v", retry, err)
	}
	notifiertest.AssertNoSecretLeak(t, err, "k3y-0123456789", "s1gnature0123")
}

func TestPack(t *testing.T) {
	items := []string{"one", "two", "three", "four"}
	more := func(n int) string { return fmt.Sprintf("+%d", n) }
	for _, tt := range []struct {
		max, extra int
		want       string
	}{
		{100, 0, "H|one|two|three|four"},
		{100, 3, "H|one|two|three|four|+3"},
		{13, 0, "H|one|two|+2"},
		{1, 0, "H|+4"},
	} {
		if got := notifiers.Pack(tt.max, notifiers.Bytes, "|", "H", items, tt.extra, more); got != tt.want {
			t.Errorf("Pack(max %d, extra %d) = %q, want %q", tt.max, tt.extra, got, tt.want)
		}
	}
}

func TestDefuse(t *testing.T) {
	for in, want := range map[string]string{
		"@channel and @all":  "@\u2060channel and @\u2060all",
		"mail a@b.example":   "mail a@\u2060b.example",
		"@ alone, @@, x@":    "@ alone, @@, x@",
		"@_under @9 @Ünïcød": "@\u2060_under @\u20609 @\u2060Ünïcød",
	} {
		if got := notifiers.Defuse(in); got != want {
			t.Errorf("Defuse(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRedactor(t *testing.T) {
	const raw = "https://user:pa55word@hooks.example/services/T0/B0/k3ySecretValue?sig=s1gnatureValue&v=1"
	r := notifiers.NewRedactor(notifiers.URLSecrets(raw)...)
	for _, secret := range []string{raw, "pa55word", "k3ySecretValue", "s1gnatureValue", "/services/T0/B0/k3ySecretValue", url.QueryEscape(raw)} {
		if got := r.String("echo: " + secret); strings.Contains(got, secret) {
			t.Errorf("String leaves %q in %q", secret, got)
		}
	}
	if got := r.String("dial tcp hooks.example:443: refused"); got != "dial tcp hooks.example:443: refused" {
		t.Errorf("the host was redacted: %q", got)
	}

	ue := &url.Error{Op: "Post", URL: raw, Err: context.DeadlineExceeded}
	err := r.Error(ue)
	notifiertest.AssertNoSecretLeak(t, err, "k3ySecretValue", "pa55word")
	if !errors.Is(err, context.DeadlineExceeded) || !strings.HasPrefix(err.Error(), "post: ") {
		t.Errorf("Error(url.Error) = %v; want a clean post: error that is still DeadlineExceeded", err)
	}
	leaky := &notifiers.RetryAfterError{After: 3 * time.Second, Err: errors.New("bad key k3ySecretValue")}
	err = r.Error(fmt.Errorf("send: %w", leaky))
	notifiertest.AssertNoSecretLeak(t, err, "k3ySecretValue")
	if notifiers.RetryAfter(err) != 3*time.Second {
		t.Errorf("the wait was lost: %v", err)
	}
	clean := fmt.Errorf("send: %w", context.Canceled)
	if r.Error(clean) != clean {
		t.Error("a clean error was replaced")
	}
	var zero *notifiers.Redactor
	if zero.String("x") != "x" || zero.Longest() != 0 {
		t.Error("a nil Redactor changes text")
	}
}

func TestLink(t *testing.T) {
	long := "https://example.com/" + strings.Repeat("a", notifiers.MaxURL)
	for in, want := range map[string]string{
		" https://example.com/a?b=1 ": "https://example.com/a?b=1",
		"http://x.example":            "http://x.example",
		"javascript:alert(1)":         "",
		"https:///nohost":             "",
		"https://example.com/a b":     "",
		"https://例え.jp/":              "",
		long:                          "",
	} {
		if got := notifiers.Link(in); got != want {
			t.Errorf("Link(%q) = %q, want %q", clip(in), got, want)
		}
	}
}

func clip(s string) string {
	if utf8.RuneCountInString(s) > 40 {
		return string([]rune(s)[:40]) + "…"
	}
	return s
}
