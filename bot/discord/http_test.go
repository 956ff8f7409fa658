package discord_test

import (
	"bytes"
	"crypto/ed25519"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/bot/discord"
	"github.com/wirewatch/wirewatch/config"
	ndiscord "github.com/wirewatch/wirewatch/notifiers/discord"
	"github.com/wirewatch/wirewatch/notifiers/discord/discordfake"
	"github.com/wirewatch/wirewatch/notifiers/notifiertest"
)

func TestHTTPPing(t *testing.T) {
	h := start(t, setup{http: true})
	ping := map[string]any{"id": "1300000000000000900", "application_id": discordfake.AppID, "type": 1, "token": "ptoken", "version": 1}
	w := h.post(t, signed(t, h.priv, testNow, mustJSON(t, ping)))
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200", w.Code)
	}
	notifiertest.JSONEq(t, `{"type":1}`, w.Body.String())
	h.stub.assertNotCalled(t)
}

func TestHTTPRefusesUnsignedAndStaleRequests(t *testing.T) {
	h := start(t, setup{http: true})
	_, otherKey, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	body := func() []byte {
		return mustJSON(t, h.fake.SlashCommand(channelID, userID, "watch", sub("add", str("query", "nvidia"))))
	}
	for _, tc := range []struct {
		name string
		req  func() *http.Request
	}{
		{"tampered body", func() *http.Request {
			b := body()
			r := signed(t, h.priv, testNow, b)
			tampered := bytes.Replace(b, []byte("nvidia"), []byte("nvidiA"), 1)
			r.Body = io.NopCloser(bytes.NewReader(tampered))
			return r
		}},
		{"wrong key", func() *http.Request { return signed(t, otherKey, testNow, body()) }},
		{"stale timestamp", func() *http.Request { return signed(t, h.priv, testNow.Add(-6*time.Minute), body()) }},
		{"timestamp from the future", func() *http.Request { return signed(t, h.priv, testNow.Add(6*time.Minute), body()) }},
		{"timestamp not a number", func() *http.Request {
			r := signed(t, h.priv, testNow, body())
			r.Header.Set("X-Signature-Timestamp", testNow.Format(time.RFC3339))
			return r
		}},
		{"timestamp changed", func() *http.Request {
			r := signed(t, h.priv, testNow, body())
			r.Header.Set("X-Signature-Timestamp", "1800000001")
			return r
		}},
		{"missing signature", func() *http.Request {
			r := signed(t, h.priv, testNow, body())
			r.Header.Del("X-Signature-Ed25519")
			return r
		}},
		{"missing timestamp", func() *http.Request {
			r := signed(t, h.priv, testNow, body())
			r.Header.Del("X-Signature-Timestamp")
			return r
		}},
		{"signature not hex", func() *http.Request {
			r := signed(t, h.priv, testNow, body())
			r.Header.Set("X-Signature-Ed25519", "zz")
			return r
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := h.post(t, tc.req())
			if w.Code != http.StatusUnauthorized {
				t.Errorf("status = %d, want 401", w.Code)
			}
		})
	}
	// A signature 4 minutes old is still inside the window.
	r := signed(t, h.priv, testNow.Add(-4*time.Minute), body())
	if w := h.post(t, r); w.Code != http.StatusOK {
		t.Errorf("4-minute-old signature: status %d, want 200", w.Code)
	}
	got := h.stub.next(t, h.ctx)
	if got.Command != "watch" || got.Sub != "add" || got.Args != "nvidia" {
		t.Errorf("request = %+v", got)
	}
	h.stub.assertNotCalled(t)
	if n := len(h.fake.Callbacks()) + len(h.fake.Edits()); n != 0 {
		t.Errorf("Discord got %d callbacks and edits, want none", n)
	}
}

func TestHTTPRefusesReplay(t *testing.T) {
	h := start(t, setup{http: true})
	b := mustJSON(t, h.fake.SlashCommand(channelID, userID, "watch", sub("add", str("query", "nvidia"))))
	if w := h.post(t, signed(t, h.priv, testNow, b)); w.Code != http.StatusOK {
		t.Fatalf("first: status %d", w.Code)
	}
	h.stub.next(t, h.ctx)
	if w := h.post(t, signed(t, h.priv, testNow, b)); w.Code != http.StatusUnauthorized {
		t.Errorf("replay: status %d, want 401", w.Code)
	}
	h.stub.assertNotCalled(t)
}

func TestHTTPMethodAndSize(t *testing.T) {
	h := start(t, setup{http: true})
	r := httptest.NewRequest(http.MethodGet, "/discord/interactions", nil)
	if w := h.post(t, r); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: status %d, want 405", w.Code)
	}
	big := append([]byte(`{"type":1,"x":"`), bytes.Repeat([]byte("a"), 70<<10)...)
	big = append(big, `"}`...)
	if w := h.post(t, signed(t, h.priv, testNow, big)); w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("70 KiB body: status %d, want 413", w.Code)
	}
	h.stub.assertNotCalled(t)
}

func TestHTTPHandlerNilWithoutPublicKey(t *testing.T) {
	a, err := discord.New("d", &ndiscord.Config{Token: "t", ApplicationID: "1"}, newStub(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.HTTPHandler() != nil {
		t.Error("HTTPHandler without public_key: want nil")
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	good := ndiscord.Config{Token: config.Secret(botToken), ApplicationID: "1", PublicKey: config.Secret(strings.Repeat("ab", 32))}
	for _, tc := range []struct {
		name   string
		change func(*ndiscord.Config)
		want   string
	}{
		{"no token", func(n *ndiscord.Config) { n.Token = "" }, "token"},
		{"no application id", func(n *ndiscord.Config) { n.ApplicationID = "" }, "application_id"},
		{"bad guild id", func(n *ndiscord.Config) { n.GuildID = "#general" }, "guild_id"},
		{"short public key", func(n *ndiscord.Config) { n.PublicKey = "abcd" }, "public_key"},
		{"public key not hex", func(n *ndiscord.Config) { n.PublicKey = config.Secret(strings.Repeat("zz", 32)) }, "public_key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			tc.change(&cfg)
			_, err := discord.New("d", &cfg, newStub(), slog.New(slog.DiscardHandler))
			notifiertest.AssertNoSecretLeak(t, err, botToken)
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name %s", err, tc.want)
			}
		})
	}
	if _, err := discord.New("d", &good, nil, nil); err == nil {
		t.Error("nil handler: want an error")
	}
	if _, err := discord.New("d", &good, newStub(), nil); err != nil {
		t.Errorf("good config: %v", err)
	}
}
