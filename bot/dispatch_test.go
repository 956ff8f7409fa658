package bot

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
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
