package config_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/listenaddr"
)

// FuzzParse checks that no input makes Parse panic, that every failure is
// an Errors of *Error with a line inside the document, and that what Parse
// accepts holds the invariants callers rely on.
func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile("../config.example.toml"); err == nil {
		f.Add(data)
	}
	seeds, _ := filepath.Glob("testdata/*.toml")
	for _, name := range seeds {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	f.Add(with())
	f.Add(with(`[http]`, `tokens = ["${A}", "$${B}", "${AB}"]`))
	f.Add(doc(`sources = [{name = "a", url = "https://a.example/"}, {name = "a"}]`))
	f.Add(doc(`[[rules]]`, `notify = ["x:", ":", "console:1"]`, `[rules.x.y]`, `z = 1`))
	f.Add(doc(`[fetch]`, `max_body = "10MiB"`, `interval = "-5m"`, `concurrency = 1e3`))
	f.Add(with(`[http]`, `tokens = ["x", "0123456789abcdef"]`, `metrics_token = "${A}"`, `[alerts]`, `max_retry_after = "99999999s"`,
		`[chat]`, `max_rules_per_user = 0`, `max_rules_per_channel = 1`))
	f.Add(with(`[cluster]`, `by_facts = 1`, `facts_threshold = nan`))
	f.Add(with(`[cluster]`, `by_facts = false`, `facts_threshold = 1e-300`))
	f.Add(with(`[[notifiers]]`, `name = "m"`, `type = "email"`, `host = "h"`, `from = "a@b.c"`, `to = ["x@y.z"]`, `tls = "none"`,
		`pace = "2/1s"`, `[[notifiers]]`, `name = "t"`, `type = "telegram"`, `token = "${AB}"`, `[[notifiers]]`, `name = "n"`,
		`type = "ntfy"`, `topic = "a"`, `priority = 9`, `[[rules]]`, `name = "q"`, `query = "x"`, `notify = ["t:-100", "n:b", "m:x@y.z"]`))

	// Even-length names are set, so inputs reach both branches.
	env := func(name string) (string, bool) {
		if len(name)%2 == 0 {
			return "${" + name + "}:$", true
		}
		return "", false
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := config.Parse("fuzz.toml", data, env, types)
		if err != nil {
			if c != nil {
				t.Fatal("a config together with an error")
			}
			es, ok := err.(config.Errors)
			if !ok || len(es) == 0 {
				t.Fatalf("error is %T (%v), want a non-empty Errors", err, err)
			}
			lines := bytes.Count(data, []byte("\n")) + 1
			for _, e := range es {
				if e == nil || e.File != "fuzz.toml" || e.Line < 0 || e.Line > lines || e.Msg == "" {
					t.Fatalf("bad error %#v in a document of %d lines", e, lines)
				}
			}
			return
		}
		_ = c.Summary()
		if c.Fetch.Interval <= 0 || c.Fetch.Timeout <= 0 || c.Fetch.MaxBody <= 0 ||
			c.Fetch.Concurrency < 1 || c.Fetch.PerHost < 1 || c.Storage.Retention <= 0 ||
			c.Health.AlertAfterFailures < 1 || c.Alerts.Timezone == "" {
			t.Fatalf("accepted values out of range: %+v", c)
		}
		names := map[string]config.Notifier{}
		for _, n := range c.Notifiers {
			if _, dup := names[n.Name]; dup || n.Name == "" || n.MaxPerHour < 1 {
				t.Fatalf("accepted notifier %+v", n)
			}
			names[n.Name] = n
		}
		checkTargets := func(targets []config.Target) {
			for _, tg := range targets {
				n, ok := names[tg.Notifier]
				i := slices.IndexFunc(types, func(nt config.NotifierType) bool { return nt.Name == n.Type })
				if !ok || i < 0 || n.Settings == nil {
					t.Fatalf("accepted target %+v", tg)
				}
				switch ch := types[i].Channel; {
				case ch.Use == config.RequiredChannel && tg.Channel == "",
					ch.Use == config.NoChannel && tg.Channel != "",
					ch.Check != nil && tg.Channel != "" && ch.Check(tg.Channel) != nil:
					t.Fatalf("accepted target %+v of a %s notifier", tg, n.Type)
				}
			}
		}
		var ruleNames []string
		for _, r := range c.Rules {
			if r.Name == "" || r.Query == "" || len(r.Notify) == 0 || r.MinSources < 1 || r.Timezone == "" ||
				slices.Contains(ruleNames, r.Name) || r.Line < 1 || r.QueryLine < 1 {
				t.Fatalf("accepted rule %+v", r)
			}
			ruleNames = append(ruleNames, r.Name)
			checkTargets(r.Notify)
		}
		checkTargets(c.Health.Notify)
		if len(c.HTTP.Tokens) == 0 && c.HTTP.Listen != "" && listenaddr.Loopback(c.HTTP.Listen) != nil {
			t.Fatalf("accepted listen %q without tokens", c.HTTP.Listen)
		}
		for _, s := range c.Sources {
			if s.Name == "" || s.URL == "" || s.Line < 1 || (s.Interval != 0 && s.Schedule != "") {
				t.Fatalf("accepted source %+v", s)
			}
		}
	})
}

// FuzzParseRules checks that no input makes ParseRules panic, that every
// failure is an Errors of *Error with a line inside the document, and that
// every rule it returns has a name, a query and their lines.
func FuzzParseRules(f *testing.F) {
	if data, err := os.ReadFile("../config.example.toml"); err == nil {
		f.Add(data)
	}
	f.Add(with())
	f.Add(doc(`[[rules]]`, `name = "${AB}"`, `query = "$${A} ${A}"`, `notify = ["x:", "y"]`, `bogus = 1`))
	f.Add(doc(`rules = [{name = "a", query = "x"}, {name = "a"}]`, `[http]`, `listen = "0.0.0.0:1"`))
	env := func(name string) (string, bool) {
		if len(name)%2 == 0 {
			return "${" + name + "}:$", true
		}
		return "", false
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, err := config.ParseRules("fuzz.toml", data, env)
		if err != nil {
			es, ok := err.(config.Errors)
			if rules != nil || !ok || len(es) == 0 {
				t.Fatalf("error is %T (%v) with %d rules, want a non-empty Errors and none", err, err, len(rules))
			}
			lines := bytes.Count(data, []byte("\n")) + 1
			for _, e := range es {
				if e == nil || e.File != "fuzz.toml" || e.Line < 0 || e.Line > lines || e.Msg == "" {
					t.Fatalf("bad error %#v in a document of %d lines", e, lines)
				}
			}
			return
		}
		var names []string
		for _, r := range rules {
			if r.Name == "" || r.Query == "" || r.Line < 1 || r.QueryLine < 1 || r.MinSources < 1 || slices.Contains(names, r.Name) {
				t.Fatalf("accepted rule %+v", r)
			}
			names = append(names, r.Name)
		}
		if len(rules) == 0 {
			t.Fatal("no rules and no error")
		}
	})
}
