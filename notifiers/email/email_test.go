package email_test

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/notifiers/email"
	"github.com/wirewatch/wirewatch/notifiers/email/smtpfake"
	"github.com/wirewatch/wirewatch/notifiers/notifiertest"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

const (
	user     = "alerts@example.com"
	password = "s3cret-smtp-passw0rd"
)

// newMailer builds a notifier for the fake server, trusting its certificate.
func newMailer(t *testing.T, s *smtpfake.Server, mode string, logger *slog.Logger, change ...func(*email.Config)) *email.Notifier {
	t.Helper()
	c := &email.Config{Host: s.Host(), Port: s.Port(), TLS: mode, Username: user, Password: password,
		From: "wirewatch <alerts@example.com>", To: []string{"policy@example.com", "comms@example.com"}}
	for _, f := range change {
		f(c)
	}
	n, err := email.New("policy-mail", c, notifiers.Env{Logger: logger}, email.WithTLSConfig(&tls.Config{RootCAs: s.CertPool()}))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestConformance(t *testing.T) {
	s := smtpfake.New(t, smtpfake.Options{Security: smtpfake.StartTLS, Username: user, Password: password})
	notifiertest.Run(t, notifiertest.Subject{
		New: func(t *testing.T, logger *slog.Logger) notifiers.Notifier {
			return newMailer(t, s, email.StartTLS, logger)
		},
		Target:   "policy-mail",
		Secrets:  []string{password},
		Fail:     s.Fail,
		Statuses: notifiertest.SMTPStatuses,
		Hold:     s.Hold,
		Sent: func(*testing.T) [][]notifiertest.Field {
			var out [][]notifiertest.Field
			for _, m := range s.Mails() {
				out = append(out, []notifiertest.Field{
					{Name: "subject", Text: m.Subject, Max: 250},
					{Name: "text", Text: m.Text},
					{Name: "html", Text: m.HTML, Syntax: notifiertest.HTML},
				})
			}
			return out
		},
		Reply: func(t *testing.T, ref string) bool {
			ms := s.Mails()
			last := ms[len(ms)-1].Header
			return last.Get("In-Reply-To") == ref && last.Get("References") == ref
		},
	})
}

func TestStartTLSAndImplicitTLS(t *testing.T) {
	for _, tt := range []struct {
		mode     string
		security smtpfake.Security
		auth     string
	}{
		{email.StartTLS, smtpfake.StartTLS, "plain"},
		{email.ImplicitTLS, smtpfake.ImplicitTLS, "login"},
	} {
		t.Run(tt.mode, func(t *testing.T) {
			s := smtpfake.New(t, smtpfake.Options{Security: tt.security, Username: user, Password: password})
			n := newMailer(t, s, tt.mode, nil, func(c *email.Config) { c.Auth = tt.auth })
			ref, retry, err := n.Notify(t.Context(), notifiertest.Alert(func(a *notifiers.Alert) { a.Target = "policy-mail" }))
			if err != nil || retry {
				t.Fatalf("Notify: %v, retry %v", err, retry)
			}
			m := s.Mails()[0]
			if !m.TLS || m.User != user || m.From != user || strings.Join(m.To, ",") != "policy@example.com,comms@example.com" {
				t.Errorf("mail over TLS %v as %q from %q to %v; want TLS, logged in, both recipients", m.TLS, m.User, m.From, m.To)
			}
			if m.Header.Get("Message-ID") != ref || !strings.HasPrefix(ref, "<wirewatch.42.") || !strings.HasSuffix(ref, "@example.com>") {
				t.Errorf("Message-ID %q, ref %q", m.Header.Get("Message-ID"), ref)
			}
			if m.Subject != "[wirewatch] Nvidia readies new China chip as US tightens export rules" {
				t.Errorf("subject %q", m.Subject)
			}
			if !strings.Contains(m.Header.Get("Content-Type"), "multipart/alternative") || m.Header.Get("Auto-Submitted") != "auto-generated" {
				t.Errorf("headers %v", m.Header)
			}
			wantText := "Nvidia readies new China chip as US tightens export rules\n" +
				"https://www.reuters.com/technology/nvidia-china-chip-2026-11-28/\n" +
				"Nvidia is preparing a new AI chip for China that meets the latest US export controls, people familiar with the matter said.\n" +
				"Reuters · 28 Nov 2026 09:00 UTC\n\nRule: nvidia-china\n\n--\nSent by wirewatch.\n"
			if strings.ReplaceAll(m.Text, "\r\n", "\n") != wantText {
				t.Errorf("text part:\n%q\nwant:\n%q", m.Text, wantText)
			}
			for _, want := range []string{
				`<a href="https://www.reuters.com/technology/nvidia-china-chip-2026-11-28/"`,
				`<strong>Nvidia</strong> readies new <strong>China</strong> chip`,
				`Reuters · 28 Nov 2026 09:00 UTC`, `Rule: nvidia-china`,
			} {
				if !strings.Contains(m.HTML, want) {
					t.Errorf("HTML part lacks %q:\n%s", want, m.HTML)
				}
			}
		})
	}
}

func TestFollowUpThreads(t *testing.T) {
	s := smtpfake.New(t, smtpfake.Options{Security: smtpfake.StartTLS, Username: user, Password: password})
	n := newMailer(t, s, email.StartTLS, nil)
	ref, _, err := n.Notify(t.Context(), notifiertest.Alert())
	if err != nil {
		t.Fatal(err)
	}
	followUp := notifiertest.Alert(func(a *notifiers.Alert) {
		a.ID, a.Kind, a.ParentRef, a.Story.Source = 43, store.KindFollowUp, ref, "AP"
	})
	ref2, _, err := n.Notify(t.Context(), followUp)
	if err != nil {
		t.Fatal(err)
	}
	m := s.Mails()[1]
	if m.Header.Get("In-Reply-To") != ref || m.Header.Get("References") != ref || ref2 == ref {
		t.Errorf("follow-up headers In-Reply-To %q References %q, id %q; want both %q and a new id",
			m.Header.Get("In-Reply-To"), m.Header.Get("References"), ref2, ref)
	}
	if m.Subject != "Re: [wirewatch] Nvidia readies new China chip as US tightens export rules" ||
		!strings.HasPrefix(m.Text, "Also reported by AP\r\n") {
		t.Errorf("follow-up subject %q, text %q", m.Subject, m.Text)
	}
	// Sent again (an answer lost), an alert keeps its Message-ID.
	again, _, err := n.Notify(t.Context(), followUp)
	if err != nil || again != ref2 {
		t.Errorf("second attempt id %q, %v; want %q", again, err, ref2)
	}
}

func TestHTMLDigest(t *testing.T) {
	s := smtpfake.New(t, smtpfake.Options{Security: smtpfake.StartTLS, Username: user, Password: password})
	digest := notifiertest.Alert(func(a *notifiers.Alert) {
		a.Kind, a.Story, a.Total = store.KindDigest, nil, 3
		for i, title := range []string{"Nvidia <b>first</b>", "Second & china"} {
			a.Stories = append(a.Stories, *notifiertest.Story(func(s *story.Story) {
				s.ID, s.Title, s.URL = "s"+strconv.Itoa(i), title, "https://news.example/"+strconv.Itoa(i)+"?a=1&b=2"
			}))
		}
	})
	if _, _, err := newMailer(t, s, email.StartTLS, nil).Notify(t.Context(), digest); err != nil {
		t.Fatal(err)
	}
	m := s.Mails()[0]
	if m.Subject != "[wirewatch] Digest — 3 stories for nvidia-china" {
		t.Errorf("subject %q", m.Subject)
	}
	for _, want := range []string{
		`<strong>Digest — 3 stories</strong> for nvidia-china`,
		`<a href="https://news.example/0?a=1&amp;b=2"`, `<strong>Nvidia</strong> &lt;b&gt;first&lt;/b&gt;`,
		`Second &amp; <strong>china</strong>`, `+1 more`,
	} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("digest HTML lacks %q:\n%s", want, m.HTML)
		}
	}
}

func TestRefusals(t *testing.T) {
	s := smtpfake.New(t, smtpfake.Options{Security: smtpfake.StartTLS, Username: user, Password: password})
	bad := newMailer(t, s, email.StartTLS, nil, func(c *email.Config) { c.Password = "wrong-passw0rd" })
	_, retry, err := bad.Notify(t.Context(), notifiertest.Alert())
	if err == nil || retry || !strings.Contains(err.Error(), "535") {
		t.Errorf("wrong password: retry %v, err %v; want a final 535", retry, err)
	}
	notifiertest.AssertNoSecretLeak(t, err, "wrong-passw0rd")

	plain := smtpfake.New(t, smtpfake.Options{Security: smtpfake.Plain})
	n := newMailer(t, plain, email.StartTLS, nil, func(c *email.Config) { c.Username, c.Password = "", "" })
	if _, _, err := n.Notify(t.Context(), notifiertest.Alert()); err == nil || !strings.Contains(err.Error(), "STARTTLS") || plain.Tries() != 0 {
		t.Errorf("starttls to a server without it: err %v, %d tries; want a refusal before any message", err, plain.Tries())
	}
	n = newMailer(t, plain, email.NoTLS, nil, func(c *email.Config) { c.Username, c.Password = "", "" })
	if _, _, err := n.Notify(t.Context(), notifiertest.Alert(func(a *notifiers.Alert) { a.Channel = "ops@example.com" })); err != nil {
		t.Fatalf("plain relay: %v", err)
	}
	if m := plain.Mails()[0]; m.TLS || strings.Join(m.To, ",") != "ops@example.com" {
		t.Errorf("plain relay mail TLS %v to %v; want no TLS, the target's address", m.TLS, m.To)
	}

	closed := newMailer(t, s, email.StartTLS, nil, func(c *email.Config) { c.Port = closedPort(t) })
	if _, retry, err := closed.Notify(t.Context(), notifiertest.Alert()); err == nil || !retry {
		t.Errorf("connection refused: retry %v, err %v; want a retry", retry, err)
	}
}

func closedPort(t *testing.T) int {
	u := notifiertest.ClosedURL(t)
	p, _ := strconv.Atoi(u[strings.LastIndexByte(u, ':')+1:])
	return p
}

func TestCancelClosesTheConnection(t *testing.T) {
	s := smtpfake.New(t, smtpfake.Options{Security: smtpfake.ImplicitTLS, Username: user, Password: password})
	release := make(chan struct{})
	defer close(release)
	s.Hold(release)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, retry, err := newMailer(t, s, email.ImplicitTLS, nil).Notify(ctx, notifiertest.Alert())
		if err != nil && !retry {
			err = errors.Join(err, errors.New("retry false"))
		}
		done <- err
	}()
	wait, stop := context.WithTimeout(t.Context(), 10*time.Second)
	defer stop()
	if err := s.WaitTries(wait, 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled send: %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Notify did not return when cancelled")
	}
}

func TestConfig(t *testing.T) {
	types := []config.NotifierType{email.Type.NotifierType}
	doc := func(lines ...string) []byte { return []byte(strings.Join(lines, "\n") + "\n") }
	c, err := config.Parse("t.toml", doc(
		`[[notifiers]]`, `name = "m"`, `type = "email"`, `host = "smtp.example.com"`, `username = "u"`, `password = "${PW}"`,
		`from = "wirewatch <alerts@example.com>"`, `to = ["policy@example.com"]`,
		`[[rules]]`, `name = "r"`, `query = "x"`, `notify = ["m", "m:ceo@example.com"]`),
		func(string) (string, bool) { return password, true }, types)
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Notifiers[0].Settings.(*email.Config); s.Password.Reveal() != password || s.TLS != "" {
		t.Errorf("settings %+v", s)
	}
	_, err = config.Parse("t.toml", doc(
		`[[notifiers]]`, `name = "m"`, `type = "email"`, `host = "smtp.example.com"`, `port = 70000`, `tls = "none"`,
		`username = "u"`, `password = "p"`, `from = "not an address"`, `to = ["a@example.com, b@example.com"]`, `auth = "cram"`,
		`[[rules]]`, `name = "r"`, `query = "x"`, `notify = ["m:#general"]`), nil, types)
	want := []string{
		`t.toml:5: notifiers[0].port: must be at most 65535, got 70000`,
		`t.toml:6: notifiers[0].tls: "none" would send the password in the clear to smtp.example.com: use "starttls" or "tls"`,
		`t.toml:9: notifiers[0].from: invalid address "not an address"`,
		`t.toml:10: notifiers[0].to: a recipient is one e-mail address such as policy-team@example.com, got "a@example.com, b@example.com"`,
		`t.toml:11: notifiers[0].auth: must be "plain" or "login", got "cram"`,
		`t.toml:15: rules[0].notify[0]: a recipient is one e-mail address`,
	}
	got := strings.Split(err.Error(), "\n")
	if len(got) != len(want) {
		t.Fatalf("errors:\n%v\nwant:\n%s", err, strings.Join(want, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("error %d: %s\nwant %s…", i, got[i], want[i])
		}
	}
}
