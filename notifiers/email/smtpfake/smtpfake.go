// Package smtpfake is a fake SMTP server on 127.0.0.1 for tests, built on
// github.com/emersion/go-smtp so that it speaks real SMTP: STARTTLS or
// implicit TLS with a self-signed certificate made for the test, AUTH PLAIN
// and LOGIN, and replies scripted on demand (a 4xx or 5xx to the next
// message, a held answer). It records every message and decodes its MIME
// parts. It never reaches the internet.
package smtpfake

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Security is how clients connect.
type Security int

// Ways to connect.
const (
	// StartTLS: plain at first, STARTTLS offered.
	StartTLS Security = iota
	// ImplicitTLS: TLS from the first byte.
	ImplicitTLS
	// Plain: no TLS at all.
	Plain
)

// Options configure a fake server.
type Options struct {
	Security Security
	// Username and Password, when set, make AUTH required.
	Username, Password string
}

// Mail is one message the fake accepted.
type Mail struct {
	// From and To are the envelope's sender and recipients.
	From string
	To   []string
	// User is who logged in; TLS says whether the connection was encrypted.
	User string
	TLS  bool
	// Header is the message's header; Subject is decoded.
	Header  mail.Header
	Subject string
	// Text and HTML are the decoded text/plain and text/html parts.
	Text, HTML string
	// Raw is the message as received.
	Raw []byte
}

// Server is the fake server. It is closed when the test ends; its methods
// are safe for concurrent use.
type Server struct {
	srv  *smtp.Server
	addr *net.TCPAddr
	opts Options
	pool *x509.CertPool
	done chan struct{}

	mu      sync.Mutex
	mails   []Mail
	script  []answer
	tries   int
	changed chan struct{} // closed and replaced when a message begins
}

type answer struct {
	code int
	msg  string
	hold <-chan struct{}
}

// New starts a fake server.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	cert, pool, err := selfSigned()
	if err != nil {
		t.Fatalf("smtpfake: certificate: %v", err)
	}
	s := &Server{opts: opts, pool: pool, done: make(chan struct{}), changed: make(chan struct{})}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &session{s: s, c: c}, nil }))
	s.srv.Domain = "localhost"
	s.srv.ReadTimeout = 10 * time.Second
	s.srv.WriteTimeout = 10 * time.Second
	s.srv.AllowInsecureAuth = opts.Security == Plain
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if opts.Security == StartTLS {
		s.srv.TLSConfig = tlsConfig
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtpfake: listen: %v", err)
	}
	s.addr = l.Addr().(*net.TCPAddr)
	if opts.Security == ImplicitTLS {
		l = tls.NewListener(l, tlsConfig)
	}
	go func() { _ = s.srv.Serve(l) }()
	t.Cleanup(s.Close)
	return s
}

// Host and Port are where the server listens.
func (s *Server) Host() string { return s.addr.IP.String() }

// Port is the server's port.
func (s *Server) Port() int { return s.addr.Port }

// CertPool trusts the server's certificate.
func (s *Server) CertPool() *x509.CertPool { return s.pool }

// Close stops the server and releases held answers.
func (s *Server) Close() {
	s.mu.Lock()
	select {
	case <-s.done:
		s.mu.Unlock()
		return
	default:
		close(s.done)
	}
	s.mu.Unlock()
	_ = s.srv.Close()
}

// Fail makes the server answer the next message's data with code and msg,
// as a server does that is busy (4xx) or refuses the message (5xx).
func (s *Server) Fail(code int, msg string) { s.push(answer{code: code, msg: msg}) }

// Hold keeps the answer to the next message's data until release is closed
// or the server is closed.
func (s *Server) Hold(release <-chan struct{}) { s.push(answer{hold: release}) }

func (s *Server) push(a answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, a)
}

// Mails returns the messages accepted so far, oldest first.
func (s *Server) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mails...)
}

// Tries returns how many messages clients began to send, refused ones included.
func (s *Server) Tries() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tries
}

// WaitTries blocks until clients began to send n messages, or ctx ends.
func (s *Server) WaitTries(ctx context.Context, n int) error {
	for {
		s.mu.Lock()
		tries, changed := s.tries, s.changed
		s.mu.Unlock()
		if tries >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// session is one SMTP conversation.
type session struct {
	s    *Server
	c    *smtp.Conn
	user string
	from string
	to   []string
}

func (ss *session) AuthMechanisms() []string {
	if ss.s.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain, sasl.Login}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	check := func(user, pass string) error {
		if user != ss.s.opts.Username || pass != ss.s.opts.Password {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}
		}
		ss.user = user
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, user, pass string) error { return check(user, pass) }), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.opts.Username != "" && ss.user == "" {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s := ss.s
	s.mu.Lock()
	s.tries++
	close(s.changed)
	s.changed = make(chan struct{})
	var a answer
	if len(s.script) > 0 {
		a, s.script = s.script[0], s.script[1:]
	}
	s.mu.Unlock()
	if a.hold != nil {
		select {
		case <-a.hold:
		case <-s.done:
			return errors.New("closing")
		}
	}
	if a.code != 0 {
		return &smtp.SMTPError{Code: a.code, EnhancedCode: smtp.EnhancedCode{a.code / 100, 0, 0}, Message: a.msg}
	}
	m, err := decode(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "malformed message: " + err.Error()}
	}
	m.From, m.To, m.User = ss.from, append([]string(nil), ss.to...), ss.user
	_, m.TLS = ss.c.TLSConnectionState()
	s.mu.Lock()
	s.mails = append(s.mails, m)
	s.mu.Unlock()
	return nil
}

func (ss *session) Reset() { ss.from, ss.to = "", nil }

func (ss *session) Logout() error { return nil }

// loginServer is the server side of AUTH LOGIN, which go-sasl has no server for.
type loginServer struct {
	check      func(user, pass string) error
	user       string
	gotUser    bool
	challenged bool
}

func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	switch {
	case !l.challenged:
		l.challenged = true
		if response == nil {
			return []byte("Username:"), false, nil
		}
		fallthrough
	case !l.gotUser:
		l.user, l.gotUser = string(response), true
		return []byte("Password:"), false, nil
	default:
		return nil, true, l.check(l.user, string(response))
	}
}

// decode reads a message and its text and HTML parts.
func decode(raw []byte) (Mail, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Mail{}, err
	}
	m := Mail{Header: msg.Header, Raw: raw}
	if m.Subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return Mail{}, err
	}
	err = m.part(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	return m, err
}

func (m *Mail) part(contentType, encoding string, body io.Reader) error {
	media, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return err
	}
	if strings.HasPrefix(media, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := m.part(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p); err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	switch media {
	case "text/plain":
		m.Text = string(b)
	case "text/html":
		m.HTML = string(b)
	}
	return nil
}

// selfSigned makes a certificate for 127.0.0.1 and localhost, and a pool
// that trusts it.
func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "smtpfake " + strconv.FormatInt(serial.Int64(), 16)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool, nil
}
