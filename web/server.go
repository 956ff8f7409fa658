// Package web serves wirewatch's HTTP endpoints on [http].listen: /healthz and
// /metrics now, and the routes other packages mount (chat command endpoints,
// later the dashboard and API). It reads the store; it never sends alerts.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Pinger is what /healthz asks: does the store answer.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Options configure the server.
type Options struct {
	Listen   string
	Store    Pinger
	Gatherer prometheus.Gatherer
	// Routes are extra handlers by pattern (e.g. "POST /slack/commands").
	Routes map[string]http.Handler
	// Tokens, when set, allow listening on a non-loopback address.
	Tokens []string
	Logger *slog.Logger
}

// Handler returns the server's routes.
func Handler(o Options) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := o.Store.Ping(ctx); err != nil {
			http.Error(w, "store unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(o.Gatherer, promhttp.HandlerOpts{}))
	for pattern, h := range o.Routes {
		mux.Handle(pattern, h)
	}
	return mux
}

// CheckListen refuses a non-loopback listen address when no tokens are
// configured: without tokens the endpoints have no authentication.
func CheckListen(listen string, tokens int) error {
	if tokens > 0 {
		return nil
	}
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("listen %q: %w", listen, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("listen %q: without [http] tokens the server only listens on a loopback address (127.0.0.1 or ::1)", listen)
	}
	return nil
}

// Server is a running HTTP server.
type Server struct {
	srv *http.Server
	ln  net.Listener
}

// Listen binds the address; Serve then serves on it.
func Listen(o Options) (*Server, error) {
	if err := CheckListen(o.Listen, len(o.Tokens)); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", o.Listen, err)
	}
	srv := &http.Server{
		Handler:           Handler(o),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(o.Logger.Handler(), slog.LevelWarn),
	}
	return &Server{srv: srv, ln: ln}, nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve serves until ctx is done, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(shut)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
