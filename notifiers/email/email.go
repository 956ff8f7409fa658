// Package email is the e-mail notifier: one message per alert, sent over
// SMTP with STARTTLS or implicit TLS and SMTP AUTH, as multipart text and
// HTML. Digests are one message listing their stories. Every message has a
// Message-ID made from its alert, and a follow-up carries In-Reply-To and
// References to its first alert's, so mail clients thread them.
//
// Sending uses github.com/wneessen/go-mail, which composes MIME (encoded
// headers, quoted-printable parts) and speaks SMTP with context, TLS
// policies and the LOGIN mechanism that net/smtp lacks.
package email

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/wirewatch/wirewatch/notifiers"
)

var _ notifiers.Notifier = (*Notifier)(nil)

// defaultTimeout bounds one SMTP conversation.
const defaultTimeout = 30 * time.Second

// Notifier mails alerts through one SMTP server.
type Notifier struct {
	name     string
	c        Config
	port     int
	from     *mail.Address
	prefix   string
	tls      *tls.Config
	timeout  time.Duration
	redactor *notifiers.Redactor
	logger   interface {
		DebugContext(ctx context.Context, msg string, args ...any)
	}
}

// Option changes how a Notifier is built.
type Option func(*Notifier)

// WithTLSConfig makes the connection trust what cfg trusts (tests give the
// CA of their server); the server name is still the host's.
func WithTLSConfig(cfg *tls.Config) Option {
	return func(n *Notifier) { n.tls = cfg.Clone() }
}

// WithTimeout bounds one SMTP conversation (default 30 s).
func WithTimeout(d time.Duration) Option {
	return func(n *Notifier) { n.timeout = d }
}

// New returns the notifier named name of a [[notifiers]] entry of type "email".
func New(name string, c *Config, env notifiers.Env, opts ...Option) (*Notifier, error) {
	from, err := mail.ParseAddress(c.From)
	if err != nil {
		return nil, fmt.Errorf("email %q: from: %w", name, err)
	}
	if len(c.To) == 0 {
		return nil, fmt.Errorf("email %q: no recipients", name)
	}
	n := &Notifier{
		name: name, c: *c, from: from, prefix: c.SubjectPrefix, timeout: defaultTimeout,
		redactor: notifiers.NewRedactor(c.Password.Reveal()), logger: env.Log(),
	}
	if n.prefix == "" {
		n.prefix = "[wirewatch] "
	}
	if n.c.TLS == "" {
		n.c.TLS = StartTLS
	}
	n.port = c.Port
	if n.port == 0 {
		n.port = map[string]int{StartTLS: 587, ImplicitTLS: 465, NoTLS: 25}[n.c.TLS]
	}
	if n.tls == nil {
		n.tls = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	for _, o := range opts {
		o(n)
	}
	n.tls.ServerName = c.Host
	return n, nil
}

// Notify mails a to the target's address, or to the entry's recipients, and
// returns the message's Message-ID, which a follow-up's In-Reply-To names.
func (n *Notifier) Notify(ctx context.Context, a *notifiers.Alert) (string, bool, error) {
	if err := ctx.Err(); err != nil {
		return "", true, n.errorf(err)
	}
	// The connection is closed when this send ends or is given up.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	to := n.c.To
	if a.Channel != "" {
		if err := checkAddress(a.Channel); err != nil {
			return "", false, n.errorf(err)
		}
		to = []string{a.Channel}
	}
	msg, id, err := n.message(a, to)
	if err != nil {
		return "", false, n.errorf(err)
	}
	client, err := n.client(ctx)
	if err != nil {
		return "", false, n.errorf(err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		retry, err := classify(ctx, err)
		return "", retry, n.errorf(err)
	}
	n.logger.DebugContext(ctx, "mail sent", "target", a.Target, "message_id", id)
	return id, false, nil
}

// message composes the e-mail of a.
func (n *Notifier) message(a *notifiers.Alert, to []string) (*gomail.Msg, string, error) {
	rendered, err := Render(a, n.prefix)
	if err != nil {
		return nil, "", fmt.Errorf("render: %w", err)
	}
	m := gomail.NewMsg()
	m.FromMailAddress(n.from)
	if err := m.To(to...); err != nil {
		return nil, "", fmt.Errorf("recipients: %w", err)
	}
	m.Subject(rendered.Subject)
	id := messageID(a, n.from.Address)
	m.SetMessageIDWithValue(strings.Trim(id, "<>"))
	if parent := a.ParentRef; parent != "" && strings.HasPrefix(parent, "<") && strings.HasSuffix(parent, ">") {
		m.SetGenHeaderPreformatted(gomail.HeaderInReplyTo, parent)
		m.SetGenHeaderPreformatted(gomail.HeaderReferences, parent)
	}
	m.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	m.SetDate()
	m.SetBodyString(gomail.TypeTextPlain, rendered.Text)
	m.AddAlternativeString(gomail.TypeTextHTML, rendered.HTML)
	return m, id, nil
}

// messageID is the Message-ID of a's e-mail: the same for every attempt at
// one alert, so a message sent twice (when an answer was lost) is one in the
// mailbox; apart for every alert, target and story.
func messageID(a *notifiers.Alert, from string) string {
	domain := "wirewatch.invalid"
	if _, d, ok := strings.Cut(from, "@"); ok && d != "" {
		domain = d
	}
	key := a.Target + "\x00" + a.Kind + "\x00" + a.Cluster
	if a.Story != nil {
		key += "\x00" + a.Story.ID
	}
	sum := sha256.Sum256([]byte(key))
	return "<wirewatch." + strconv.FormatInt(a.ID, 10) + "." + hex.EncodeToString(sum[:6]) + "@" + domain + ">"
}

// client returns an SMTP client for one conversation, whose connection is
// closed when ctx ends: go-mail uses its context only to dial.
func (n *Notifier) client(ctx context.Context) (*gomail.Client, error) {
	dial := func(dctx context.Context, network, addr string) (net.Conn, error) {
		d := &net.Dialer{}
		var conn net.Conn
		var err error
		if n.c.TLS == ImplicitTLS {
			conn, err = (&tls.Dialer{NetDialer: d, Config: n.tls}).DialContext(dctx, network, addr)
		} else {
			conn, err = d.DialContext(dctx, network, addr)
		}
		if err != nil {
			return nil, err
		}
		// Not wrapped: go-mail tells an implicit TLS connection by its type.
		context.AfterFunc(ctx, func() { _ = conn.Close() })
		return conn, nil
	}
	opts := []gomail.Option{
		gomail.WithPort(n.port),
		gomail.WithTimeout(n.timeout),
		gomail.WithTLSConfig(n.tls),
		gomail.WithDialContextFunc(dial),
	}
	switch n.c.TLS {
	case StartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default: // implicit TLS is the dialer's; none is none
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if n.c.Username != "" {
		mech := gomail.SMTPAuthPlain
		if n.c.Auth == "login" {
			mech = gomail.SMTPAuthLogin
		}
		opts = append(opts, gomail.WithSMTPAuth(mech), gomail.WithUsername(n.c.Username), gomail.WithPassword(n.c.Password.Reveal()))
	} else {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthNoAuth))
	}
	return gomail.NewClient(n.c.Host, opts...)
}

// classify decides whether a failed conversation is worth another try:
// SMTP's 4xx replies are transient and 5xx permanent; a failure without a
// reply (a refused or broken connection, a timeout) is worth retrying.
func classify(ctx context.Context, err error) (bool, error) {
	if cerr := ctx.Err(); cerr != nil {
		return true, fmt.Errorf("%w: %w", cerr, err)
	}
	if te, ok := errors.AsType[*textproto.Error](err); ok {
		return te.Code < 500, err
	}
	if se, ok := errors.AsType[*gomail.SendError](err); ok && se.ErrorCode() != 0 {
		return se.ErrorCode() < 500, err
	}
	return true, err
}

func (n *Notifier) errorf(err error) error {
	return n.redactor.Error(fmt.Errorf("email %q: %w", n.name, err))
}
