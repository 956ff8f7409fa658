package email

import (
	"fmt"
	"net"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notifiers"
)

// Ways to secure the connection, the values of tls.
const (
	// StartTLS upgrades a plain connection (port 587 by default) and
	// refuses a server that cannot.
	StartTLS = "starttls"
	// ImplicitTLS speaks TLS from the start (port 465 by default).
	ImplicitTLS = "tls"
	// NoTLS sends in the clear (port 25 by default); only for a relay on
	// this machine or a trusted network.
	NoTLS = "none"
)

// Config is a [[notifiers]] entry of type "email".
type Config struct {
	// Host is the SMTP server.
	Host string `toml:"host,required,nonempty"`
	// Port defaults to 587, 465 or 25 by TLS.
	Port int `toml:"port,min=1"`
	// TLS is StartTLS (the default), ImplicitTLS or NoTLS.
	TLS string `toml:"tls"`
	// Username and Password log in to the server; leave both out for a
	// relay that takes mail without.
	Username string        `toml:"username,nonempty"`
	Password config.Secret `toml:"password,nonempty"`
	// Auth is the SASL mechanism: "plain" (the default) or "login".
	Auth string `toml:"auth"`
	// From is the sender, "wirewatch <alerts@example.com>".
	From string `toml:"from,required"`
	// To are the recipients of targets that name none.
	To []string `toml:"to,required,nonempty"`
	// SubjectPrefix starts every subject; empty means "[wirewatch] ".
	SubjectPrefix string `toml:"subject_prefix"`
}

// Check checks the port, the TLS mode, the mechanism and the addresses, and
// refuses a password sent in the clear to another machine.
func (c *Config) Check(p *config.Problems) {
	if c.Port > 65535 {
		p.Errorf("port", "must be at most 65535, got %d", c.Port)
	}
	if c.TLS != "" && !slices.Contains([]string{StartTLS, ImplicitTLS, NoTLS}, c.TLS) {
		p.Errorf("tls", `must be %q, %q or %q, got %q`, StartTLS, ImplicitTLS, NoTLS, c.TLS)
	}
	if c.Auth != "" && c.Auth != "plain" && c.Auth != "login" {
		p.Errorf("auth", `must be "plain" or "login", got %q`, c.Auth)
	}
	if p.Has("username") != p.Has("password") {
		p.Errorf("username", "username and password go together")
	}
	if c.TLS == NoTLS && p.Has("password") && !loopback(c.Host) {
		p.Errorf("tls", `"none" would send the password in the clear to %s: use "starttls" or "tls"`, c.Host)
	}
	if p.Has("from") {
		if _, err := mail.ParseAddress(c.From); err != nil {
			p.Errorf("from", "invalid address %q: want alerts@example.com or \"Name <alerts@example.com>\"", c.From)
		}
	}
	for _, to := range c.To {
		if err := checkAddress(to); err != nil {
			p.Errorf("to", "%v", err)
		}
	}
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkAddress checks one recipient: an address, with or without a name.
func checkAddress(s string) error {
	if _, err := mail.ParseAddress(s); err != nil || strings.ContainsAny(s, ",;") {
		return fmt.Errorf("a recipient is one e-mail address such as policy-team@example.com, got %q", s)
	}
	return nil
}

// Type is the e-mail notifier type. "policy-mail" mails the entry's to
// list; "policy-mail:someone@example.com" that address instead.
var Type = notifiers.Define(notifiers.Spec[Config]{
	Name:    "email",
	Sample:  []string{`host = "smtp.example.com"`, `from = "a@example.com"`, `to = ["b@example.com"]`},
	Channel: config.Channel{Use: config.OptionalChannel, Example: "someone@example.com", Check: checkAddress},
	Pace:    config.Pace{N: 1, Per: time.Second},
	Build: func(name string, c *Config, env notifiers.Env) (notifiers.Notifier, error) {
		return New(name, c, env)
	},
})
