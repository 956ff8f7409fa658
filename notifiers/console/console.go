// Package console is the notifier that writes each alert as one line of JSON
// (JSON Lines) to standard output or appends it to a file, for people who pipe
// alerts into other tools and for trying rules out.
package console

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/wirewatch/wirewatch/notifiers"
)

var _ notifiers.Notifier = (*Notifier)(nil)

// Notifier writes alerts as JSON Lines, one notifiers.Payload per line. It is
// safe for concurrent use: lines are never interleaved.
type Notifier struct {
	name string

	mu     sync.Mutex
	w      io.Writer
	file   *os.File // set by Open; Close closes it
	closed bool
}

// New returns a Notifier named name that writes to w (usually os.Stdout).
// A failed write is not retried: w is not a file the notifier owns.
func New(name string, w io.Writer) *Notifier {
	return &Notifier{name: name, w: w}
}

// Open returns a Notifier named name that appends to the file at path,
// creating it with mode 0600. A failed write is worth retrying.
func Open(name, path string) (*Notifier, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("console %q: open: %w", name, err)
	}
	return &Notifier{name: name, w: f, file: f}, nil
}

// Notify writes a's payload as one line. It returns no message reference.
func (n *Notifier) Notify(ctx context.Context, a *notifiers.Alert) (string, bool, error) {
	if err := ctx.Err(); err != nil {
		// Not written: the dispatcher may send it again later.
		return "", true, fmt.Errorf("console %q: %w", n.name, err)
	}
	p := notifiers.NewPayload(a)
	if p.Target == "" {
		p.Target = n.name
	}
	line, err := p.JSONLine()
	if err != nil {
		return "", false, fmt.Errorf("console %q: encode: %w", n.name, err)
	}

	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return "", true, fmt.Errorf("console %q: write: %w", n.name, os.ErrClosed)
	}
	m, err := n.w.Write(line)
	if err == nil && m < len(line) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return "", n.file != nil, fmt.Errorf("console %q: write: %w", n.name, err)
	}
	return "", false, nil
}

// Close closes the file that Open opened; for a Notifier from New it only
// stops further writes. It is safe to call twice.
func (n *Notifier) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil
	}
	n.closed = true
	if n.file == nil {
		return nil
	}
	if err := n.file.Close(); err != nil {
		return fmt.Errorf("console %q: close: %w", n.name, err)
	}
	return nil
}
