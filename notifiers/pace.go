package notifiers

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/wirewatch/wirewatch/config"
)

// Paced returns n behind a pacing stage: at most p.N messages go to one
// target (an alert's Target) in any p.Per, and a send beyond that waits for
// its slot. A wait that ctx ends sends nothing and is worth retrying. Every
// platform limits how fast a bot may post to one channel; waiting here costs
// less than a 429, which some platforms count towards a ban. When p is off, n
// is returned as it is.
func Paced(n Notifier, p config.Pace, opts ...PaceOption) Notifier {
	if p.Off() {
		return n
	}
	s := &paced{next: n, pacer: newPacer(p, opts)}
	if c, ok := n.(io.Closer); ok {
		return pacedCloser{s, c}
	}
	return s
}

// PaceOption changes a pacing stage.
type PaceOption func(*pacer)

// PaceClock replaces the clock the stage reads and the wait it uses, so
// that tests can observe waits without waiting. wait must end early with
// ctx's error when ctx ends.
func PaceClock(now func() time.Time, wait func(ctx context.Context, d time.Duration) error) PaceOption {
	return func(p *pacer) { p.now, p.wait = now, wait }
}

type paced struct {
	next  Notifier
	pacer *pacer
}

// Notify waits for the target's next slot, then sends.
func (s *paced) Notify(ctx context.Context, a *Alert) (string, bool, error) {
	if err := s.pacer.take(ctx, a.Target); err != nil {
		return "", true, fmt.Errorf("wait for a slot to send to %s: %w", a.Target, err)
	}
	return s.next.Notify(ctx, a)
}

// pacedCloser keeps the Close of a notifier that has one.
type pacedCloser struct {
	*paced
	io.Closer
}

// pacer is a sliding-window limiter per key. It holds its lock only to look
// at the window, never while waiting.
type pacer struct {
	n    int
	per  time.Duration
	now  func() time.Time
	wait func(ctx context.Context, d time.Duration) error

	mu   sync.Mutex
	sent map[string][]time.Time // per key, the starts of sends within the window, oldest first
}

func newPacer(p config.Pace, opts []PaceOption) *pacer {
	pc := &pacer{n: p.N, per: p.Per, now: time.Now, wait: Wait, sent: make(map[string][]time.Time)}
	for _, o := range opts {
		o(pc)
	}
	return pc
}

// take blocks until one more message may go to key, and counts it. It
// returns ctx's error if ctx ends first; the message is then not counted.
func (p *pacer) take(ctx context.Context, key string) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		p.mu.Lock()
		now := p.now()
		times := p.sent[key]
		for len(times) > 0 && !times[0].Add(p.per).After(now) {
			times = times[1:]
		}
		if len(times) < p.n {
			p.sent[key] = append(times, now)
			p.forget(now)
			p.mu.Unlock()
			return nil
		}
		p.sent[key] = times
		d := times[0].Add(p.per).Sub(now)
		p.mu.Unlock()
		if err := p.wait(ctx, d); err != nil {
			return err
		}
	}
}

// forget drops keys whose window has passed once there are many, so that a
// long run over many targets does not grow the map without bound.
func (p *pacer) forget(now time.Time) {
	if len(p.sent) <= 1024 {
		return
	}
	for k, times := range p.sent {
		if len(times) == 0 || !times[len(times)-1].Add(p.per).After(now) {
			delete(p.sent, k)
		}
	}
}
