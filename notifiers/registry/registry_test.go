package registry_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/notifiers/notifiertest"
	"github.com/wirewatch/wirewatch/notifiers/registry"
)

// Every type parses and builds from its own Sample, so a new type is tested
// here without an edit.
func TestEveryTypeParsesAndBuilds(t *testing.T) {
	var lines []string
	for _, typ := range registry.Types() {
		lines = append(lines, `[[notifiers]]`, `name = "`+typ.Name+`"`, `type = "`+typ.Name+`"`)
		lines = append(lines, typ.Sample...)
	}
	cfg, err := config.Parse("all.toml", []byte(strings.Join(lines, "\n")), nil, registry.ConfigTypes())
	if err != nil {
		t.Fatalf("%v\n(every type's Sample must be the keys of a valid entry)", err)
	}
	set, err := registry.Build(cfg.Notifiers, notifiers.Env{Stdout: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	if len(set.Notifiers) != len(registry.Types()) {
		t.Errorf("built %d notifiers, want %d", len(set.Notifiers), len(registry.Types()))
	}
	if err := set.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// clock is a fake clock whose wait records and advances.
type clock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Wait(_ context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	c.now = c.now.Add(d)
	return nil
}

func TestBuildPacesWithTheEntrysPace(t *testing.T) {
	cfg, err := config.Parse("p.toml", []byte("[[notifiers]]\nname = \"c\"\ntype = \"console\"\npace = \"2/1h\"\n"),
		nil, registry.ConfigTypes())
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{now: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)}
	var out bytes.Buffer
	set, err := registry.Build(cfg.Notifiers, notifiers.Env{Stdout: &out}, notifiers.PaceClock(c.Now, c.Wait))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, _, err := set.Notifiers["c"].Notify(t.Context(), notifiertest.Alert(func(a *notifiers.Alert) { a.Target = "c" })); err != nil {
			t.Fatal(err)
		}
	}
	if len(c.waits) != 1 || c.waits[0] != time.Hour || strings.Count(out.String(), "\n") != 3 {
		t.Errorf("waits %v, %d lines; want the third alert to wait an hour", c.waits, strings.Count(out.String(), "\n"))
	}
}

func TestTargets(t *testing.T) {
	cfg, err := config.Parse("t.toml", []byte(strings.Join([]string{
		`[[notifiers]]`, `name = "tg"`, `type = "telegram"`, `token = "1:abc"`,
		`[[notifiers]]`, `name = "hook"`, `type = "webhook"`, `url = "https://h.example/"`,
	}, "\n")), nil, registry.ConfigTypes())
	if err != nil {
		t.Fatal(err)
	}
	targets := registry.Targets(cfg)
	for target, want := range map[string]string{
		"tg:-1001234":  "",
		"tg:@wirenews": "",
		"hook":         "",
		"tg":           `telegram notifier "tg" needs a channel: write "tg:CHAT_ID"`,
		"hook:#x":      `webhook notifier "hook" takes no channel: write "hook"`,
		"tgg:1":        `unknown notifier "tgg"; did you mean "tg"?`,
		"tg:general":   `a Telegram chat is a chat id`,
		":x":           `names no notifier`,
	} {
		err := targets.Check(target)
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("Check(%q) = %v, want %q", target, err, want)
		}
	}
}
