package postgres

import (
	"context"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

var _ store.Waker = (*Store)(nil)

// Notification channels, one per topic.
const (
	topicOutbox  = store.TopicOutbox
	topicSources = store.TopicSources
	channelPre   = "wirewatch_"
)

// notify signals a topic to every replica's workers (after the caller's
// transaction has committed: a wake-up must not come before the work).
func (s *Store) notify(ctx context.Context, topic string) error {
	_, err := s.pool.Exec(ctx, `SELECT pg_notify($1, '')`, channelPre+topic)
	return err
}

// Wakeups listens on a connection of its own for the topics' notifications
// and sends each topic that arrives, until ctx ends. A lost connection is
// opened again after a pause; what was signalled meanwhile is found by the
// workers' polling.
func (s *Store) Wakeups(ctx context.Context) <-chan string {
	out := make(chan string, 16)
	go func() {
		defer close(out)
		pause := 100 * time.Millisecond
		for ctx.Err() == nil {
			if s.listen(ctx, out) {
				pause = 100 * time.Millisecond
			}
			t := time.NewTimer(pause + time.Duration(rand.Int64N(int64(pause))))
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			pause = min(2*pause, 10*time.Second)
		}
	}()
	return out
}

// listen holds one connection listening, until it fails or ctx ends; it
// reports whether it got as far as listening.
func (s *Store) listen(ctx context.Context, out chan<- string) bool {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return false
	}
	// The connection has LISTENs on it: it must not go back to the pool.
	defer func() { _ = conn.Conn().Close(context.WithoutCancel(ctx)); conn.Release() }()
	for _, topic := range []string{store.TopicOutbox, store.TopicSources, store.TopicRules} {
		if _, err := conn.Exec(ctx, `LISTEN `+channelPre+topic); err != nil {
			return false
		}
	}
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			return true
		}
		select {
		case out <- strings.TrimPrefix(n.Channel, channelPre):
		default: // a wake-up is already waiting to be read
		}
	}
}
