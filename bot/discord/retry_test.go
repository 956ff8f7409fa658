package discord_test

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/bot/discord"
	"github.com/wirewatch/wirewatch/notifiers/discord/discordfake"
	"github.com/wirewatch/wirewatch/notifiers/notifiertest"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/sqlite"
)

var fastRetry = discord.WithRetryBackoff(10*time.Millisecond, 50*time.Millisecond)

// TestStartFailuresAreRetriedAndHTTPWorksMeanwhile: when the command
// registration and the gateway fail at start, both are retried with backoff
// (logged without the token), and signed HTTP interactions, PING included,
// are answered all along, not with 503 (issue 12, item 4).
func TestStartFailuresAreRetriedAndHTTPWorksMeanwhile(t *testing.T) {
	h := newHarness(t, setup{http: true, options: []discord.Option{fastRetry}})
	for range 3 {
		h.fake.FailNext("/applications/", http.StatusUnauthorized, nil, `{"message":"401: Unauthorized for Bot `+botToken+`","code":0}`)
		h.fake.FailNext("/gateway", http.StatusServiceUnavailable, nil, `{"message":"unavailable","code":0}`)
	}
	h.run(t)
	ping := map[string]any{"id": "1300000000000000901", "application_id": discordfake.AppID, "type": 1, "token": "ptoken", "version": 1}
	w := h.post(t, signed(t, h.priv, testNow, mustJSON(t, ping)))
	if w.Code != http.StatusOK {
		t.Fatalf("PING while registration and gateway fail: %d %s, want 200", w.Code, w.Body)
	}
	notifiertest.JSONEq(t, `{"type":1}`, w.Body.String())
	if _, err := h.fake.WaitCommands(h.ctx, 1); err != nil {
		t.Fatalf("commands never registered: %v\n%s", err, h.logs)
	}
	if err := h.fake.WaitIdentify(h.ctx, 1); err != nil {
		t.Fatalf("gateway never opened: %v\n%s", err, h.logs)
	}
	logs := h.logs.String()
	if !strings.Contains(logs, "register commands failed; trying again") || !strings.Contains(logs, "check the token") ||
		!strings.Contains(logs, "open gateway failed; trying again") {
		t.Errorf("failures not logged with their reason:\n%s", logs)
	}
	// Commands work over the gateway too, once it is open.
	resp := h.gateway(t, h.fake.SlashCommand(channelID, userID, "news", map[string]any{"name": "query", "type": 3, "value": "otters"}))
	if resp.Type != 4 && resp.Type != 5 {
		t.Errorf("gateway command answered with type %d", resp.Type)
	}
}

// TestGatewayLeaseOneReplicaAtATime: two replicas on one store open one
// gateway between them; when the holder shuts down it gives the lease up and
// the other takes the gateway over.
func TestGatewayLeaseOneReplicaAtATime(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	leases := &watchedLeases{Store: st, tries: make(chan leaseTry, 1000)}
	lease := func(owner string) discord.Option {
		return discord.WithGatewayLease(leases, owner, 300*time.Millisecond)
	}
	first := newHarness(t, setup{options: []discord.Option{fastRetry, lease("replica-1")}})
	first.run(t)
	if err := first.fake.WaitIdentify(first.ctx, 1); err != nil {
		t.Fatal(err)
	}
	// The second replica shares the fake (discordgo's endpoints are global):
	// build it against the same one.
	second := sharedHarness(t, first, []discord.Option{fastRetry, lease("replica-2")})
	second.run(t)
	// Several renewals by the holder and refusals of the other pass; still
	// one session.
	renewed, refused := 0, 0
	for renewed < 3 || refused < 3 {
		select {
		case try := <-leases.tries:
			switch {
			case try.owner == "replica-1" && try.err == nil:
				renewed++
			case try.owner == "replica-2" && errors.Is(try.err, store.ErrLeaseLost):
				refused++
			default:
				t.Fatalf("lease try %+v while replica-1 holds it", try)
			}
		case <-first.ctx.Done():
			t.Fatalf("renewed %d, refused %d: %v", renewed, refused, first.ctx.Err())
		}
	}
	if n := len(first.fake.Identifies()); n != 1 {
		t.Fatalf("%d gateway sessions identified while one replica holds the lease, want 1", n)
	}
	if err := first.stop(); err != nil {
		t.Fatal(err)
	}
	if err := first.fake.WaitIdentify(first.ctx, 2); err != nil {
		t.Fatalf("the second replica did not take the gateway over: %v\n%s", err, second.logs)
	}
	if !strings.Contains(second.logs.String(), "this replica holds the gateway") {
		t.Errorf("second replica's logs:\n%s", second.logs)
	}
}

// sharedHarness builds another adapter against h's fake Discord.
func sharedHarness(t *testing.T, h *harness, opts []discord.Option) *harness {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	other := &harness{fake: h.fake, stub: newStub(), ctx: ctx, logs: &syncBuffer{}}
	other.adapter = newAdapter(t, other, setup{options: opts})
	return other
}

// watchedLeases reports every AcquireLease.
type watchedLeases struct {
	*sqlite.Store
	tries chan leaseTry
}

type leaseTry struct {
	owner string
	err   error
}

func (w *watchedLeases) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (store.Lease, error) {
	l, err := w.Store.AcquireLease(ctx, name, owner, ttl)
	select {
	case w.tries <- leaseTry{owner, err}:
	default:
	}
	return l, err
}
