package sources

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"syscall"
)

// Plain says in words a person understands why a fetch of a feed failed,
// without resolver addresses or Go error text.
func Plain(err error) string {
	var fe *Error
	if errors.As(err, &fe) {
		switch {
		case fe.Op == "parse":
			return "what is at that address is not a feed wirewatch can read (RSS, Atom or JSON Feed)"
		case fe.Status == http.StatusNotFound || fe.Status == http.StatusGone:
			return fmt.Sprintf("the server has no page at that address (HTTP %d %s)", fe.Status, http.StatusText(fe.Status))
		case fe.Status == http.StatusUnauthorized || fe.Status == http.StatusForbidden:
			return fmt.Sprintf("the server refuses to hand the feed out (HTTP %d %s)", fe.Status, http.StatusText(fe.Status))
		case fe.Status >= 400:
			return fmt.Sprintf("the server answered with an error (HTTP %d %s); try again later", fe.Status, http.StatusText(fe.Status))
		}
	}
	var dns *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var nerr net.Error
	switch {
	case errors.As(err, &dns) && dns.IsNotFound:
		return fmt.Sprintf("no server is known by the name %q: check the address for typing mistakes", dns.Name)
	case errors.As(err, &dns):
		return fmt.Sprintf("the name %q could not be looked up just now; try again later", dns.Name)
	case errors.Is(err, ErrTooLarge):
		return "the feed is larger than the [fetch] max_body limit"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "the server refused the connection: nothing answers at that address and port"
	case errors.As(err, &certErr), errors.As(err, &unknownCA), errors.As(err, &hostErr):
		return "the server's TLS certificate is not valid for that address"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &nerr) && nerr.Timeout():
		return "the server did not answer in time"
	}
	return "the feed could not be fetched; open the address in a browser to see what is there"
}
