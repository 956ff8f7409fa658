package sources_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"

	"github.com/wirewatch/wirewatch/sources"
)

// TestPlain: fetch failures read as sentences, without the
// resolver's address or Go's error text.
func TestPlain(t *testing.T) {
	dns := &net.DNSError{Err: "no such host", Name: "feeds.example.invalid", Server: "10.0.0.53:53", IsNotFound: true}
	wrap := func(err error) error { return &sources.Error{Op: "fetch", Source: "new source", Err: err} }
	tests := []struct {
		err  error
		want string
	}{
		{wrap(&net.OpError{Op: "dial", Net: "tcp", Err: dns}), `no server is known by the name "feeds.example.invalid"`},
		{wrap(&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}), "refused the connection"},
		{wrap(context.DeadlineExceeded), "did not answer in time"},
		{&sources.Error{Op: "fetch", Status: 503, Err: errors.New("status 503")}, "HTTP 503 Service Unavailable"},
		{&sources.Error{Op: "parse", Err: errors.New("not an RSS, Atom or JSON feed")}, "not a feed"},
		{wrap(fmt.Errorf("read body: %w", errors.New("weird"))), "could not be fetched"},
	}
	for _, tt := range tests {
		got := sources.Plain(tt.err)
		if !strings.Contains(got, tt.want) {
			t.Errorf("Plain(%v) = %q, want %q in it", tt.err, got, tt.want)
		}
		for _, raw := range []string{"dial tcp", "10.0.0.53", "lookup", "status 503"} {
			if strings.Contains(got, raw) {
				t.Errorf("Plain(%v) = %q: says %q", tt.err, got, raw)
			}
		}
	}
}
