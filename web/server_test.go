package web

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

type pinger struct{ err error }

func (p pinger) Ping(context.Context) error { return p.err }

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://127.0.0.1"+path, nil))
	body, _ := io.ReadAll(rec.Body)
	return rec.Code, string(body)
}

func TestHealthz(t *testing.T) {
	reg := prometheus.NewRegistry()
	if code, _ := get(t, Handler(Options{Store: pinger{}, Gatherer: reg}), "/healthz"); code != 200 {
		t.Errorf("healthy store: %d, want 200", code)
	}
	if code, _ := get(t, Handler(Options{Store: pinger{errors.New("disk gone")}, Gatherer: reg}), "/healthz"); code != 503 {
		t.Errorf("failing store: %d, want 503", code)
	}
}

func TestMetricsServesRegisteredInstruments(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "wirewatch_test_total", Help: "test"})
	reg.MustRegister(c)
	c.Add(3)
	code, body := get(t, Handler(Options{Store: pinger{}, Gatherer: reg}), "/metrics")
	if code != 200 || !strings.Contains(body, "wirewatch_test_total 3") {
		t.Fatalf("/metrics = %d %q", code, body)
	}
}

func TestExtraRoutesAreMounted(t *testing.T) {
	h := Handler(Options{Store: pinger{}, Gatherer: prometheus.NewRegistry(), Routes: map[string]http.Handler{
		"POST /slack/commands": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(418) }),
	}})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/slack/commands", nil))
	if rec.Code != 418 {
		t.Errorf("mounted route answered %d", rec.Code)
	}
}

func TestCheckListen(t *testing.T) {
	tests := []struct {
		listen string
		tokens int
		ok     bool
	}{
		{"127.0.0.1:8080", 0, true},
		{"[::1]:8080", 0, true},
		{"localhost:8080", 0, true},
		{"0.0.0.0:8080", 0, false},
		{":8080", 0, false},
		{"192.168.1.5:8080", 0, false},
		{"0.0.0.0:8080", 1, true},
		{"nonsense", 0, false},
	}
	for _, tt := range tests {
		if err := CheckListen(tt.listen, tt.tokens); (err == nil) != tt.ok {
			t.Errorf("CheckListen(%q, %d) = %v, want ok=%v", tt.listen, tt.tokens, err, tt.ok)
		}
	}
}

func TestServeStopsOnCancel(t *testing.T) {
	srv, err := Listen(Options{Listen: "127.0.0.1:0", Store: pinger{}, Gatherer: prometheus.NewRegistry(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	resp, err := http.Get("http://" + srv.Addr() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("healthz over the network: %d", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}
