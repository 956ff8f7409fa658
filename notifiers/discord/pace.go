package discord

import (
	"context"
	"sync"
	"time"
)

// Discord allows about five messages per five seconds to one channel; going
// over costs a 429 and counts towards the invalid-request ban. The pacer keeps
// each channel under that so bursts wait here instead.

// Default pace: at most paceN messages per pacePer to one channel.
const (
	paceN   = 5
	pacePer = 5 * time.Second
)

// pacer is a sliding-window limiter per key. It holds its lock only to look at
// the window, never while waiting.
type pacer struct {
	n    int
	per  time.Duration
	now  func() time.Time
	wait func(ctx context.Context, d time.Duration) error

	mu   sync.Mutex
	sent map[string][]time.Time // per key, the starts of sends within the window, oldest first
}

func newPacer(n int, per time.Duration, now func() time.Time, wait func(context.Context, time.Duration) error) *pacer {
	return &pacer{n: n, per: per, now: now, wait: wait, sent: make(map[string][]time.Time)}
}

// Wait blocks until one more message may go to key, and counts it. It returns
// ctx's error if ctx ends first; the message is then not counted.
func (p *pacer) Wait(ctx context.Context, key string) error {
	if p.n <= 0 {
		return ctx.Err()
	}
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
