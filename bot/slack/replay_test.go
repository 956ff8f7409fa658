package slack

import (
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store/sqlite"
)

// TestHTTPReplayIsRefused: the same signed /watch add sent three times
// inside the five minutes makes one request reach the handler; the repeats
// get 401, in this replica and in another one on the same store (issue 12,
// item 5).
func TestHTTPReplayIsRefused(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	shared := func(a *Adapter) { a.remember = st }
	one, two := startHTTP(t, shared), startHTTP(t, shared)
	body := commandForm(one.fake, "/watch", "add walrus", userID)
	header := sign(signingSecret, time.Now(), body)
	if code, out := one.post(t, header, body); code != http.StatusOK {
		t.Fatalf("first: %d %s", code, out)
	}
	for i, r := range []*httpRun{one, two} {
		if code, _ := r.post(t, header, body); code != http.StatusUnauthorized {
			t.Errorf("repeat %d: %d, want 401", i+1, code)
		}
	}
	if n := len(one.stub.requests()) + len(two.stub.requests()); n != 1 {
		t.Errorf("the handler got %d requests, want 1", n)
	}
	// Without a store the adapter still refuses repeats, in memory.
	alone := startHTTP(t, nil)
	body = commandForm(alone.fake, "/watch", "add seal", userID)
	header = sign(signingSecret, time.Now(), body)
	alone.post(t, header, body)
	if code, _ := alone.post(t, header, body); code != http.StatusUnauthorized || len(alone.stub.requests()) != 1 {
		t.Errorf("in memory: repeat %d, %d requests", code, len(alone.stub.requests()))
	}
}

// TestSocketEnvelopeActsOnce: an envelope Slack sends again (no ack seen in
// time) is acknowledged but not acted on a second time.
func TestSocketEnvelopeActsOnce(t *testing.T) {
	ctx := testContext(t)
	r := startSocket(t, nil)
	cmd := slashCommand(r.fake, "/watch", "add walrus", userID)
	if _, err := r.fake.SendEnvelopeAgain(ctx, "slash_commands", "env-x", 0, cmd); err != nil {
		t.Fatal(err)
	}
	if _, err := r.fake.SendEnvelopeAgain(ctx, "slash_commands", "env-x", 1, cmd); err != nil {
		t.Fatal(err)
	}
	if _, err := r.fake.SendSlashCommand(ctx, slashCommand(r.fake, "/watch", "list", userID)); err != nil {
		t.Fatal(err)
	}
	reqs := r.stub.requests()
	if len(reqs) != 2 || reqs[0].Sub != "add" || reqs[1].Sub != "list" {
		t.Errorf("handled %+v, want the add once, then the list", reqs)
	}
}
