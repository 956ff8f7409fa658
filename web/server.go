// Package web serves wirewatch's HTTP endpoints on [http].listen: /healthz,
// /metrics, the routes other packages mount (the chat command endpoints), and
// — when a service is given — the dashboard at / and the JSON API at /api/v1
// (package api). The dashboard is server-rendered html/template pages with
// htmx (vendored under /static/) for the live rule preview; pages and API call
// the one service layer and read the store. This package holds the security
// of both: tokens and sessions, the Host check against DNS rebinding,
// cross-origin protection and a strict Content-Security-Policy. It never
// sends alerts.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wirewatch/wirewatch/listenaddr"
	"github.com/wirewatch/wirewatch/service"
	"github.com/wirewatch/wirewatch/store"
)

// Pinger is what /healthz asks: does the store answer.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Options configure the server.
type Options struct {
	// Listen is the address to listen on ([http].listen).
	Listen string
	// Store answers /healthz. When Service is set it must also be a
	// store.Store: the dashboard and the API read it.
	Store Pinger
	// Gatherer is served at /metrics.
	Gatherer prometheus.Gatherer
	// Routes are extra handlers by pattern (e.g. "POST /slack/commands").
	// They keep their own authentication (signatures): no token, no Host
	// check.
	Routes map[string]http.Handler
	// Tokens, when set, allow listening on a non-loopback address, and every
	// request to / and /api/ then needs one (a bearer token or the session
	// cookie that the login form gives for one).
	Tokens []string
	// MetricsToken, when set, is a bearer token that opens /metrics and
	// nothing else. With Tokens or MetricsToken set, /metrics needs one of
	// them; /metrics always has the Host check.
	MetricsToken string
	// Logger records errors. Tokens are never logged.
	Logger *slog.Logger

	// Service is the service layer the dashboard and the API share; nil
	// serves no dashboard and no API (/ answers 404).
	Service *service.Service
	// FetchInterval is the [fetch] interval, to show when a source without
	// its own interval is fetched next (default 5m).
	FetchInterval time.Duration
	// AllowedHosts are extra values of the Host header the dashboard and API
	// answer to (host names, or host:port), for a reverse proxy's public
	// name. The listen host, localhost, 127.0.0.1 and [::1] are always
	// allowed; "*" allows any (only sensible with tokens).
	AllowedHosts []string
	// PreviewBudget bounds one live rule preview (api.DefaultPreviewBudget).
	PreviewBudget time.Duration
}

// Handler returns the server's routes.
func Handler(o Options) http.Handler {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		// Open to anyone (container and load-balancer probes): it says ok or
		// not ok and nothing more; the reason goes to the log.
		if err := o.Store.Ping(ctx); err != nil {
			if r.Context().Err() == nil {
				o.Logger.Error("healthz: store not ok", "err", err)
			}
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "not ok")
			return
		}
		fmt.Fprintln(w, "ok")
	})
	metricsTokens := append(slices.Clone(o.Tokens), o.MetricsToken)
	metrics := newAuth(metricsTokens, nil, o.Logger).requireBearer(promhttp.HandlerFor(o.Gatherer, promhttp.HandlerOpts{}))
	mux.Handle("GET /metrics", newHostCheck(o.Listen, o.AllowedHosts).wrap(metrics))
	for pattern, h := range o.Routes {
		mux.Handle(pattern, h)
	}
	if st, ok := o.Store.(store.Store); ok && o.Service != nil {
		mux.Handle("/", newDashboard(o, st))
	}
	return mux
}

// CheckListen refuses a non-loopback listen address when no tokens are
// configured: without tokens the endpoints have no authentication.
func CheckListen(listen string, tokens int) error {
	if tokens > 0 {
		return nil
	}
	if err := listenaddr.Check(listen); err != nil {
		return err
	}
	return listenaddr.Loopback(listen)
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
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", o.Listen, err)
	}
	srv := &http.Server{
		Handler:           Handler(o),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
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
