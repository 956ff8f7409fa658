// Package listenaddr holds the rules for the address wirewatch's HTTP server
// listens on: host:port with a valid port, and a loopback host when no tokens
// guard the dashboard and the API. The configuration checks them when the
// file is read, to point at its line; the web server checks them again
// before it listens.
package listenaddr

import (
	"fmt"
	"net"
	"strconv"
)

// Check checks that addr is host:port with a port from 0 to 65535.
func Check(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf(`invalid listen address %q: want host:port such as "127.0.0.1:8080"`, addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("invalid port %q in listen address", port)
	}
	return nil
}

// Loopback checks that a host:port listen address is on a loopback interface
// (127.0.0.0/8, ::1 or localhost), as it must be when no tokens are
// configured.
func Loopback(addr string) error {
	host, _, _ := net.SplitHostPort(addr)
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%q is not a loopback address; without [http] tokens the dashboard and API would be open to the network — listen on 127.0.0.1 or set tokens", addr)
}
