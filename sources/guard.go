package sources

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"unicode"
)

// ErrRefused is matched (errors.Is) by every refusal of the private-address
// guard: a source added at run time that points at this machine, the local
// network or a cloud metadata service, or at a file.
var ErrRefused = errors.New("refused")

// refusal is the guard's error: "refused: 127.0.0.1 is a loopback address".
type refusal struct{ reason string }

func (e *refusal) Error() string        { return "refused: " + e.reason }
func (e *refusal) Is(target error) bool { return target == ErrRefused }

func refuse(format string, args ...any) error {
	return &refusal{reason: fmt.Sprintf(format, args...)}
}

var (
	cgnat     = netip.MustParsePrefix("100.64.0.0/10")  // RFC 6598 shared address space
	thisNet   = netip.MustParsePrefix("0.0.0.0/8")      // RFC 1122 "this network"
	reserved  = netip.MustParsePrefix("240.0.0.0/4")    // RFC 1112, incl. 255.255.255.255
	nat64     = netip.MustParsePrefix("64:ff9b::/96")   // RFC 6052, embeds an IPv4 address
	nat64Loc  = netip.MustParsePrefix("64:ff9b:1::/48") // RFC 8215, local-use NAT64
	sixToFour = netip.MustParsePrefix("2002::/16")      // RFC 3056, embeds an IPv4 address
	v4compat  = netip.MustParsePrefix("::/96")          // deprecated IPv4-compatible IPv6
)

// refuseAddr returns an error when ip is not a public unicast address.
func refuseAddr(ip netip.Addr) error {
	if !ip.IsValid() {
		return refuse("invalid address")
	}
	if reason := privateReason(ip); reason != "" {
		return refuse("%s is %s", ip.WithZone(""), reason)
	}
	return nil
}

// privateReason says why ip is not a public unicast address, or "" when it is.
func privateReason(ip netip.Addr) string {
	ip = ip.WithZone("")
	if ip.Is4In6() {
		return privateReason(ip.Unmap())
	}
	switch {
	case ip.IsLoopback():
		return "a loopback address"
	case ip.IsUnspecified():
		return "an unspecified address"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return "a link-local address"
	case ip.IsMulticast():
		return "a multicast address"
	case ip.Is6() && ip.IsPrivate():
		return "a unique-local address"
	case ip.IsPrivate():
		return "a private address"
	case cgnat.Contains(ip):
		return "a shared (CGNAT) address"
	case thisNet.Contains(ip):
		return "a \"this network\" address"
	case reserved.Contains(ip):
		return "a reserved address"
	case nat64Loc.Contains(ip):
		return "a local-use NAT64 address"
	}
	if ip.Is6() {
		b := ip.As16()
		var embedded netip.Addr
		switch {
		case nat64.Contains(ip), v4compat.Contains(ip):
			embedded = netip.AddrFrom4([4]byte(b[12:16]))
		case sixToFour.Contains(ip):
			embedded = netip.AddrFrom4([4]byte(b[2:6]))
		}
		if embedded.IsValid() {
			if reason := privateReason(embedded); reason != "" {
				return reason + " (embedded in IPv6)"
			}
		}
	}
	return ""
}

// dialControl returns a net.Dialer Control function that refuses connections
// to addresses check rejects. It runs after DNS resolution, for every
// connection, so every redirect hop is checked and a name that resolves to a
// private address cannot slip past.
func dialControl(check func(netip.Addr) error) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return refuse("cannot parse address %q", address)
		}
		ip, err := netip.ParseAddr(host)
		if err != nil {
			return refuse("cannot parse address %q", host)
		}
		return check(ip)
	}
}

// CheckURL is a quick up-front check of a URL given at run time (for example
// by /sources add): the scheme must be http or https, the host a valid name
// or a public IP address, not "localhost", and the port, if any, a number
// from 1 to 65535. It does no DNS lookup; the fetcher checks the resolved
// addresses again when it connects.
func CheckURL(raw string) error {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return errors.New("not a valid URL")
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	case "file":
		return refuse("file URLs are not allowed")
	case "":
		return errors.New("not an absolute URL: it needs http:// or https://")
	default:
		return fmt.Errorf("unsupported scheme %q: use http or https", u.Scheme)
	}
	if u.Opaque != "" {
		return errors.New("not a valid URL: no host")
	}
	host := u.Hostname()
	if host == "" {
		return errors.New("not a valid URL: no host")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("invalid port %q", p)
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return errors.New("invalid port: empty")
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return refuseAddr(ip)
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return refuse("%s is a loopback name", host)
	}
	if !validHostname(name) {
		return fmt.Errorf("invalid host name %q", host)
	}
	return nil
}

// validHostname reports whether name is a syntactically valid DNS name made of
// letters, digits, hyphens and underscores (internationalised names as
// Unicode letters or in their ASCII "xn--" form).
func validHostname(name string) bool {
	if name == "" || len(name) > 253 {
		return false
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return false
		}
		for _, r := range label {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			case r > 0x7f && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)):
			default:
				return false
			}
		}
	}
	return true
}
