package bot

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/sqlite"
)

// countingNotifier counts sends per delivery, taking a little time for each
// (senders of different targets overlap with the dispatch loop), and closes
// all once every delivery was sent at least once.
type countingNotifier struct {
	want int
	all  chan struct{}

	mu   sync.Mutex
	sent map[int64]int
}

func (c *countingNotifier) Notify(ctx context.Context, a *notifiers.Alert) (string, bool, error) {
	t := time.NewTimer(time.Duration(rand.IntN(3000)) * time.Microsecond) // a receiver's latency
	<-t.C
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent[a.ID]++
	if len(c.sent) == c.want && c.sent[a.ID] == 1 {
		close(c.all)
	}
	return "ref", false, nil
}

// TestDispatcherSendsEachRowOnce: while senders finish and kick the loop,
// rows read before a sender finished are never sent a second time.
func TestDispatcherSendsEachRowOnce(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const targets, per = 20, 40
	var ds []store.Delivery
	for i := range per {
		for tg := range targets {
			ds = append(ds, store.Delivery{Target: fmt.Sprintf("n:%d", tg), Kind: store.KindHealth, Text: fmt.Sprint(i)})
		}
	}
	if _, err := st.Enqueue(ctx, ds); err != nil {
		t.Fatal(err)
	}
	n := &countingNotifier{want: targets * per, all: make(chan struct{}), sent: map[int64]int{}}
	d := NewDispatcher(DispatcherOptions{
		Store: st, Notifiers: map[string]notifiers.Notifier{"n": n},
		Metrics: NewMetrics(prometheus.NewRegistry(), st), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	run, stop := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() { d.Run(run, ctx); close(stopped) }()
	select {
	case <-n.all:
	case <-time.After(30 * time.Second):
		t.Fatal("not every delivery was sent within 30 s")
	}
	stop()
	<-stopped // Run waits for the senders in flight
	n.mu.Lock()
	defer n.mu.Unlock()
	for id, c := range n.sent {
		if c > 1 {
			t.Errorf("delivery %d sent %d times", id, c)
		}
	}
}

// TestDrainTakesOverALaneWhenReleased: `run --once` in a second process
// finds a target's queue held by another; once the holder lets it go, the
// drain sends the rows at once instead of sleeping until the holder's lease
// would have ended.
func TestDrainTakesOverALaneWhenReleased(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Enqueue(ctx, []store.Delivery{
		{Target: "n:x", Kind: store.KindHealth, Text: "1"},
		{Target: "n:x", Kind: store.KindHealth, Text: "2"},
	}); err != nil {
		t.Fatal(err)
	}
	held, err := st.ClaimLanes(ctx, store.LaneClaim{Owner: "other", TTL: time.Hour, Lanes: 1, Rows: 10})
	if err != nil || len(held) != 1 {
		t.Fatalf("the other process's claim: %v, %d lanes", err, len(held))
	}
	n := &countingNotifier{want: 2, all: make(chan struct{}), sent: map[int64]int{}}
	looked := &nextDueSpy{Store: st, called: make(chan struct{}, 1)}
	d := NewDispatcher(DispatcherOptions{
		Store: looked, Notifiers: map[string]notifiers.Notifier{"n": n},
		Metrics: NewMetrics(prometheus.NewRegistry(), st), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	drained := make(chan struct{})
	go func() { d.Drain(ctx, 2*time.Hour); close(drained) }()
	select { // the drain found the lane held and decided how long to wait
	case <-looked.called:
	case <-time.After(30 * time.Second):
		t.Fatal("the drain never read when the next row is due")
	}
	if err := st.ReleaseLane(ctx, "n:x", held[0].Lease, store.Hold{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-n.all:
	case <-time.After(30 * time.Second):
		t.Fatal("the drain did not send the released lane's rows within 30 s (it waits for the old lease)")
	}
	select {
	case <-drained:
	case <-time.After(30 * time.Second):
		t.Fatal("the drain did not return once every row was sent")
	}
}

// nextDueSpy tells, on called, that NextDue has answered.
type nextDueSpy struct {
	store.Store
	called chan struct{}
}

func (s *nextDueSpy) NextDue(ctx context.Context) (time.Time, bool, error) {
	at, ok, err := s.Store.NextDue(ctx)
	select {
	case s.called <- struct{}{}:
	default:
	}
	return at, ok, err
}

// rateLimited answers every send with a 429 asking to wait ages.
type rateLimited struct{ calls chan int64 }

func (r *rateLimited) Notify(ctx context.Context, a *notifiers.Alert) (string, bool, error) {
	r.calls <- a.ID
	return "", true, &notifiers.RetryAfterError{After: 99999999 * time.Second, Err: fmt.Errorf("status 429")}
}

// TestRetryAfterHasACeiling: "Retry-After: 99999999" waits max_retry_after,
// and the row says why; a wait stored past the ceiling (by an older version)
// is brought forward when the dispatcher starts, so nothing stays stuck
// across a restart (issue 12, item 3).
func TestRetryAfterHasACeiling(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"), sqlite.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	out, err := st.Enqueue(ctx, []store.Delivery{{Target: "n", Kind: store.KindHealth, Text: "a"}, {Target: "stuck", Kind: store.KindHealth, Text: "b"}})
	if err != nil {
		t.Fatal(err)
	}
	// The "stuck" row waits until 2030, as an older wirewatch stored it.
	lanes, err := st.ClaimLanes(ctx, store.LaneClaim{Owner: "old", TTL: time.Minute, Lanes: 10, Rows: 10})
	if err != nil {
		t.Fatal(err)
	}
	far := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, l := range lanes {
		if l.Target != "stuck" {
			if err := st.ReleaseLane(ctx, l.Target, l.Lease, store.Hold{}); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if _, err := st.Settle(ctx, l.Target, l.Lease, time.Minute, store.Outcome{IDs: []int64{out[1].ID}, Status: store.StatusPending, Next: far, Attempt: true, At: now, Waiting: "Retry-After 99999999s"}); err != nil {
			t.Fatal(err)
		}
		if err := st.ReleaseLane(ctx, l.Target, l.Lease, store.Hold{Until: far, Reason: "Retry-After"}); err != nil {
			t.Fatal(err)
		}
	}
	rl := &rateLimited{calls: make(chan int64, 10)}
	d := NewDispatcher(DispatcherOptions{
		Store: st, Notifiers: map[string]notifiers.Notifier{"n": rl}, Now: clock, MaxRetryAfter: 10 * time.Minute,
		Metrics: NewMetrics(prometheus.NewRegistry(), st), Logger: slog.New(slog.DiscardHandler),
	})
	run, stop := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() { d.Run(run, ctx); close(stopped) }()
	select {
	case id := <-rl.calls:
		if id != out[0].ID {
			t.Fatalf("sent %d, want %d", id, out[0].ID)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("nothing was sent within 30 s")
	}
	var ds []store.Delivery
	deadline := time.Now().Add(30 * time.Second)
	for {
		ds, err = st.Deliveries(ctx, store.DeliveryQuery{Status: store.StatusPending})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == 2 && ds[0].Attempts+ds[1].Attempts == 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	<-stopped
	byID := map[int64]store.Delivery{}
	for _, d := range ds {
		byID[d.ID] = d
	}
	ceiling := now.Add(10 * time.Minute)
	if got := byID[out[0].ID]; !got.NextAttempt.Equal(ceiling) || !strings.Contains(got.Waiting, "more than the ceiling of 10m0s (max_retry_after)") {
		t.Errorf("rate-limited row: next %v, waiting %q; want %v and the reason", got.NextAttempt, got.Waiting, ceiling)
	}
	if got := byID[out[1].ID]; !got.NextAttempt.Equal(ceiling) {
		t.Errorf("row stored until 2030: next %v, want it brought forward to %v", got.NextAttempt, ceiling)
	}
}
