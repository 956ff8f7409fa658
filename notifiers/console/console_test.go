package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/notifiers/notifiertest"
	"github.com/wirewatch/wirewatch/store"
)

const wantLine = `{"rules":["nvidia-china"],"target":"console","story":{"id":"s1","title":"Nvidia readies new China chip as US tightens export rules","url":"https://www.reuters.com/technology/nvidia-china-chip-2026-11-28/","source":"Reuters","published":"2026-11-28T09:00:00Z","summary":"Nvidia is preparing a new AI chip for China that meets the latest US export controls, people familiar with the matter said."},"terms":["nvidia","china"]}`

func alert(opts ...func(*notifiers.Alert)) *notifiers.Alert {
	return notifiertest.Alert(append([]func(*notifiers.Alert){func(a *notifiers.Alert) { a.Target = "console" }}, opts...)...)
}

func notify(t *testing.T, n *Notifier, a *notifiers.Alert) {
	t.Helper()
	ref, retry, err := n.Notify(context.Background(), a)
	if ref != "" || retry || err != nil {
		t.Fatalf("Notify = (%q, %v, %v), want (\"\", false, nil)", ref, retry, err)
	}
}

func lines(t *testing.T, b []byte) []string {
	t.Helper()
	s, ok := strings.CutSuffix(string(b), "\n")
	if !ok {
		t.Fatalf("output does not end in a newline: %q", b)
	}
	return strings.Split(s, "\n")
}

func TestNotifyWritesJSONLines(t *testing.T) {
	var buf bytes.Buffer
	n := New("console", &buf)
	notify(t, n, alert())
	notify(t, n, alert(func(a *notifiers.Alert) { a.Kind = store.KindFollowUp }))

	got := lines(t, buf.Bytes())
	if len(got) != 2 {
		t.Fatalf("got %d lines, want 2:\n%s", len(got), buf.String())
	}
	notifiertest.JSONEq(t, wantLine, got[0])
	wantFollowUp := strings.Replace(wantLine, `{"rules"`, `{"kind":"follow_up","follow_up":true,"rules"`, 1)
	notifiertest.JSONEq(t, wantFollowUp, got[1])
}

func TestNotifyTargetDefaultsToName(t *testing.T) {
	var buf bytes.Buffer
	notify(t, New("console", &buf), alert(func(a *notifiers.Alert) { a.Target = "" }))
	notifiertest.JSONEq(t, wantLine, strings.TrimSpace(buf.String()))
}

func TestOpenAppendsToFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.jsonl")
	for range 2 { // a second Open appends rather than truncates
		n, err := Open("console", path)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		notify(t, n, alert())
		if err := n.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := n.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
	}

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := lines(t, b)
	if len(got) != 2 {
		t.Fatalf("got %d lines, want 2:\n%s", len(got), b)
	}
	for _, l := range got {
		notifiertest.JSONEq(t, wantLine, l)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("file mode = %v, want 0600", perm)
	}
}

func TestOpenError(t *testing.T) {
	_, err := Open("console", filepath.Join(t.TempDir(), "missing", "alerts.jsonl"))
	if err == nil || !strings.HasPrefix(err.Error(), `console "console": open: `) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open error = %v, want a console open error wrapping ErrNotExist", err)
	}
}

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

type shortWriter struct{}

func (shortWriter) Write(p []byte) (int, error) { return len(p) / 2, nil }

func TestNotifyWriteErrors(t *testing.T) {
	errBroken := errors.New("broken pipe")
	tests := []struct {
		name      string
		w         io.Writer
		wantRetry bool
		wantErr   error
	}{
		{name: "writer fails", w: failWriter{errBroken}, wantErr: errBroken},
		{name: "partial write", w: shortWriter{}, wantErr: io.ErrShortWrite},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, retry, err := New("console", tt.w).Notify(context.Background(), alert())
			if ref != "" || retry != tt.wantRetry || !errors.Is(err, tt.wantErr) {
				t.Errorf("Notify = (%q, %v, %v), want (\"\", %v, %v)", ref, retry, err, tt.wantRetry, tt.wantErr)
			}
			if err != nil && !strings.HasPrefix(err.Error(), `console "console": write: `) {
				t.Errorf("error = %q, want the write prefix", err)
			}
		})
	}
}

// A file that cannot take the write is worth retrying: the disk may free up.
func TestNotifyFileWriteErrorRetries(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full here")
	}
	n, err := Open("console", "/dev/full")
	if err != nil {
		t.Skipf("cannot open /dev/full: %v", err)
	}
	defer n.Close()
	ref, retry, err := n.Notify(context.Background(), alert())
	if ref != "" || !retry || err == nil {
		t.Errorf("Notify = (%q, %v, %v), want (\"\", true, an error)", ref, retry, err)
	}
}

func TestNotifyAfterCloseRetries(t *testing.T) {
	var buf bytes.Buffer
	n := New("console", &buf)
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	_, retry, err := n.Notify(context.Background(), alert())
	if !retry || !errors.Is(err, os.ErrClosed) {
		t.Errorf("Notify after Close = (%v, %v), want (true, os.ErrClosed)", retry, err)
	}
	if buf.Len() != 0 {
		t.Errorf("wrote after Close: %q", buf.String())
	}
}

func TestNotifyCancelledWritesNothing(t *testing.T) {
	var buf bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, retry, err := New("console", &buf).Notify(ctx, alert())
	if !retry || !errors.Is(err, context.Canceled) {
		t.Errorf("Notify = (%v, %v), want (true, context.Canceled)", retry, err)
	}
	if buf.Len() != 0 {
		t.Errorf("wrote %q despite the cancelled context", buf.String())
	}
}

// recorder keeps every Write call apart, so the test can see whether a line
// was ever split over two calls. It has no lock of its own: the race detector
// reports any Write that the Notifier did not serialise.
type recorder struct{ writes [][]byte }

func (r *recorder) Write(p []byte) (int, error) {
	r.writes = append(r.writes, append([]byte(nil), p...))
	return len(p), nil
}

func TestNotifyConcurrent(t *testing.T) {
	const workers, each = 16, 25
	var rec recorder
	n := New("console", &rec)
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				a := alert(func(a *notifiers.Alert) { a.ID = int64(w*each + i) })
				if _, _, err := n.Notify(context.Background(), a); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(rec.writes) != workers*each {
		t.Fatalf("got %d writes, want %d", len(rec.writes), workers*each)
	}
	for _, w := range rec.writes {
		if !bytes.HasSuffix(w, []byte("\n")) || bytes.Count(w, []byte("\n")) != 1 || !json.Valid(w) {
			t.Fatalf("write is not one whole JSON line: %q", w)
		}
	}
}
