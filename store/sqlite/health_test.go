package sqlite

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/story"
)

// filledStore makes a database file of many pages and closes it.
func filledStore(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "w.db")
	s := openTemp(t, path)
	var stories []story.Story
	for i := range 400 {
		stories = append(stories, story.Story{ID: fmt.Sprintf("s%03d", i), Title: fmt.Sprintf("Walrus number %d", i),
			Summary: strings.Repeat("seal ", 40), Published: time.Now(), Fetched: time.Now()})
	}
	if _, err := s.Ingest(t.Context(), 0, stories, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// scribble overwrites n bytes of the file at off with garbage.
func scribble(t *testing.T, path string, off int64, n int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xab}, n), off); err != nil {
		t.Fatal(err)
	}
}

// TestOpenRefusesADamagedFile: an existing file truncated to 0 bytes, or with
// garbage in its header or its pages, is refused with a clear error; it is
// not started as a new store (issue 12, item 9).
func TestOpenRefusesADamagedFile(t *testing.T) {
	for _, tt := range []struct {
		name   string
		damage func(t *testing.T, path string)
		want   string
	}{
		{"emptied", func(t *testing.T, path string) {
			if err := os.Truncate(path, 0); err != nil {
				t.Fatal(err)
			}
		}, "empty (0 bytes)"},
		{"garbage header", func(t *testing.T, path string) { scribble(t, path, 0, 100) }, "not a database"},
		{"garbage pages", func(t *testing.T, path string) {
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			scribble(t, path, fi.Size()/2, 8192)
		}, "restore"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filledStore(t)
			tt.damage(t, path)
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			s, err := Open(t.Context(), path)
			if err == nil {
				s.Close()
				t.Fatal("a damaged file was opened")
			}
			if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("error = %v, want ErrDamaged naming the file and %q", err, tt.want)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Error("Open changed the damaged file")
			}
		})
	}
	// A path with no file yet is a new store, as before.
	s := openTemp(t, filepath.Join(t.TempDir(), "new.db"))
	s.Close()
}

// TestPingReportsDamage: damage done while the store is open shows in Ping
// (and so in /healthz), not only at the next start.
func TestPingReportsDamage(t *testing.T) {
	path := filledStore(t)
	s, err := Open(t.Context(), path, WithCheckEvery(0))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("sound store: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	scribble(t, path, fi.Size()/2, 8192)
	if err := s.Ping(t.Context()); !errors.Is(err, ErrDamaged) {
		t.Errorf("Ping after damage = %v, want ErrDamaged", err)
	}
}
