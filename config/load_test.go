package config_test

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notifiers/console"
	"github.com/wirewatch/wirewatch/notifiers/discord"
	"github.com/wirewatch/wirewatch/notifiers/registry"
	"github.com/wirewatch/wirewatch/notifiers/slack"
	"github.com/wirewatch/wirewatch/notifiers/webhook"
)

// types are the registry's notifier types, which the tests parse with.
var types = registry.ConfigTypes()

// typeNames lists the types' names as the error of an unknown type does, so
// that adding a type needs no edit here.
func typeNames() string {
	names := make([]string, len(types))
	for i, t := range types {
		names[i] = t.Name
	}
	return strings.Join(names, ", ")
}

var update = flag.Bool("update", false, "rewrite testdata/*.errors from the current output")

// doc joins lines into a document, so that a test's line numbers can be
// read off its slice: the first string is line 1.
func doc(lines ...string) []byte {
	return []byte(strings.Join(lines, "\n") + "\n")
}

// envOf returns an environment holding vars.
func envOf(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

// minimal is a valid configuration that later lines may add to.
var minimal = []string{
	`[[notifiers]]`,        // 1
	`name = "console"`,     // 2
	`type = "console"`,     // 3
	`[[rules]]`,            // 4
	`name = "r"`,           // 5
	`query = "nvidia"`,     // 6
	`notify = ["console"]`, // 7
}

func with(lines ...string) []byte {
	return doc(append(append([]string{}, minimal...), lines...)...)
}

func TestExampleConfig(t *testing.T) {
	data, err := os.ReadFile("../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := config.Parse("config.example.toml", data, envOf(nil), types)
	if err != nil {
		t.Fatalf("the example must load with an empty environment:\n%v", err)
	}
	if c.Storage.Path != "wirewatch.db" {
		t.Errorf("storage path = %q, want wirewatch.db", c.Storage.Path)
	}
	if c.HTTP.Listen != "127.0.0.1:8080" {
		t.Errorf("listen = %q, want 127.0.0.1:8080", c.HTTP.Listen)
	}
	if len(c.Sources) < 5 || len(c.Rules) < 4 || len(c.Notifiers) < 1 {
		t.Errorf("got %d sources, %d rules, %d notifiers; want a realistic example", len(c.Sources), len(c.Rules), len(c.Notifiers))
	}
	queries := map[string]bool{}
	for _, r := range c.Rules {
		queries[r.Query] = true
		if r.Line == 0 || r.QueryLine <= r.Line {
			t.Errorf("rule %q: Line %d, QueryLine %d", r.Name, r.Line, r.QueryLine)
		}
	}
	for _, q := range []string{
		`nvidia AND (china OR beijing) AND export*`,
		`"export controls" (chip* OR semiconductor*)`,
		`title:(h20 OR h200) nvidia`,
	} {
		if !queries[q] {
			t.Errorf("example lacks the rule %s", q)
		}
	}
	summary := c.Summary()
	first, _, _ := strings.Cut(summary, "\n")
	want := "config.example.toml: 8 sources, 5 rules, 1 notifier (console)"
	if first != want {
		t.Errorf("summary starts %q, want %q", first, want)
	}
	if got := strings.Count(summary, "\n"); got != len(c.Sources)+len(c.Rules)+len(c.Notifiers) {
		t.Errorf("summary has %d lines, want one per item after the first:\n%s", got, summary)
	}
}

func TestDefaults(t *testing.T) {
	c, err := config.Parse("t.toml", with(), nil, types)
	if err != nil {
		t.Fatal(err)
	}
	want := &config.Config{
		File:    "t.toml",
		Storage: config.Storage{Path: "wirewatch.db", Retention: 720 * time.Hour, Lease: 90 * time.Second},
		Fetch: config.Fetch{Interval: 5 * time.Minute, Concurrency: 8, PerHost: 2, Timeout: 30 * time.Second,
			MaxBody: 10 << 20},
		HTTP:      config.HTTP{Listen: "127.0.0.1:8080"},
		Notifiers: []config.Notifier{{Name: "console", Type: "console", MaxPerHour: 30, Line: 1, Settings: &console.Config{}}},
		Rules: []config.Rule{{Name: "r", Query: "nvidia", Notify: []config.Target{{Notifier: "console"}}, Timezone: "UTC",
			FollowUps: "thread", MinSources: 1, Line: 4, QueryLine: 6}},
		Alerts:  config.Alerts{Timezone: "UTC", MaxRetryAfter: time.Hour},
		Chat:    config.Chat{MaxRulesPerUser: 100, MaxRulesPerChannel: 500},
		Cluster: config.Cluster{ByFacts: true, FactsThreshold: 0.575},
		Health:  config.Health{AlertAfterFailures: 5},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
}

func TestEmptyDocument(t *testing.T) {
	c, err := config.Parse("t.toml", nil, nil, types)
	if err != nil {
		t.Fatal(err)
	}
	if c.Fetch.Interval != 5*time.Minute || len(c.Sources) != 0 {
		t.Errorf("got %+v", c)
	}
}

func TestFullConfig(t *testing.T) {
	data := doc(
		`[storage]`,
		`url = "${DB}"`,
		`retention = "48h"`,
		`[fetch]`,
		`interval = "90s"`,
		`concurrency = 4`,
		`per_host = 1`,
		`timeout = "10s"`,
		`max_body = "512KiB"`,
		`[http]`,
		`listen = ""`,
		`tokens = ["${API_TOKEN}", "static-token-0123456"]`,
		`[alerts]`,
		`timezone = "Europe/Berlin"`,
		`[health]`,
		`notify = ["team-slack:#wirewatch-ops"]`,
		`alert_after_failures = 3`,
		`[[sources]]`,
		`name = "Google News: NVIDIA China"`,
		`url = "https://news.google.com/rss/search?q=nvidia+china&hl=en-US&gl=US&ceid=US:en"`,
		`interval = "10m"`,
		`backfill = 3`,
		`[[sources]]`,
		`name = "local"`,
		`url = "file:///var/feeds/test.xml"`,
		`schedule = "@hourly"`,
		`[[notifiers]]`,
		`name = "console"`,
		`type = "console"`,
		`path = "alerts.jsonl"`,
		`[[notifiers]]`,
		`name = "hook"`,
		`type = "webhook"`,
		`url = "http://127.0.0.1:9000/alerts"`,
		`max_per_hour = 100`,
		`[[notifiers]]`,
		`name = "team-slack"`,
		`type = "slack"`,
		`token = "${SLACK_BOT_TOKEN}"`,
		`app_token = "${SLACK_APP_TOKEN}"`,
		`signing_secret = "sig-${SLACK_APP_TOKEN}-$${literal}"`,
		`api_url = "https://slack.com/api/"`,
		`admins = ["U0123ABCD"]`,
		`[[notifiers]]`,
		`name = "ops-discord"`,
		`type = "discord"`,
		`token = "Bot ${DISCORD_BOT_TOKEN}"`,
		`application_id = "123456789012345678"`,
		`public_key = "`+strings.Repeat("ab", 32)+`"`,
		`guild_id = ""`,
		`[[notifiers]]`,
		`name = "dhook"`,
		`type = "discord-webhook"`,
		`url = "https://discord.com/api/webhooks/1/x"`,
		`thread_id = "42"`,
		`[[rules]]`,
		`name = "nvidia-china"`,
		`query = 'nvidia AND (china OR beijing) -"stock price"'`,
		`notify = ["console", "team-slack:#ai-policy", "ops-discord:1234567890", "hook", "dhook"]`,
		`digest = "0 9 * * 1-5"`,
		`sources = ["local"]`,
		`follow_ups = "none"`,
		`min_sources = 2`,
		`[[rules]]`,
		`name = "daily"`,
		`query = "tsmc"`,
		`notify = ["console"]`,
		`digest = "daily"`,
		`timezone = "Asia/Taipei"`,
		`min_sources = 3`,
		`window = "6h"`,
	)
	env := envOf(map[string]string{
		"DB":                "postgres://u:p@db/wirewatch",
		"API_TOKEN":         "tok-1-0123456789abcdef",
		"SLACK_BOT_TOKEN":   "xoxb-1",
		"SLACK_APP_TOKEN":   "xapp-1",
		"DISCORD_BOT_TOKEN": "d-1",
	})
	c, err := config.Parse("full.toml", data, env, types)
	if err != nil {
		t.Fatal(err)
	}
	want := &config.Config{
		File:    "full.toml",
		Storage: config.Storage{URL: "postgres://u:p@db/wirewatch", Retention: 48 * time.Hour, Lease: 90 * time.Second},
		Fetch:   config.Fetch{Interval: 90 * time.Second, Concurrency: 4, PerHost: 1, Timeout: 10 * time.Second, MaxBody: 512 << 10},
		HTTP:    config.HTTP{Listen: "", Tokens: []config.Secret{"tok-1-0123456789abcdef", "static-token-0123456"}},
		Sources: []config.Source{
			{Name: "Google News: NVIDIA China", URL: "https://news.google.com/rss/search?q=nvidia+china&hl=en-US&gl=US&ceid=US:en",
				Interval: 10 * time.Minute, Backfill: 3, Line: 18},
			{Name: "local", URL: "file:///var/feeds/test.xml", Schedule: "@hourly", Line: 23},
		},
		Notifiers: []config.Notifier{
			{Name: "console", Type: "console", MaxPerHour: 30, Line: 27, Settings: &console.Config{Path: "alerts.jsonl"}},
			{Name: "hook", Type: "webhook", MaxPerHour: 100, Line: 31, Settings: &webhook.Config{URL: "http://127.0.0.1:9000/alerts"}},
			{Name: "team-slack", Type: "slack", MaxPerHour: 30, Line: 36, Settings: &slack.Config{Token: "xoxb-1", AppToken: "xapp-1",
				SigningSecret: "sig-xapp-1-${literal}", APIURL: "https://slack.com/api/", Admins: []string{"U0123ABCD"}}},
			{Name: "ops-discord", Type: "discord", MaxPerHour: 30, Line: 44, Settings: &discord.Config{Token: "Bot d-1",
				ApplicationID: "123456789012345678", PublicKey: config.Secret(strings.Repeat("ab", 32))}},
			{Name: "dhook", Type: "discord-webhook", MaxPerHour: 30, Line: 51,
				Settings: &discord.WebhookConfig{URL: "https://discord.com/api/webhooks/1/x", ThreadID: "42"}},
		},

		Rules: []config.Rule{
			{Name: "nvidia-china", Query: `nvidia AND (china OR beijing) -"stock price"`,
				Notify: []config.Target{{"console", ""}, {"team-slack", "#ai-policy"}, {"ops-discord", "1234567890"}, {"hook", ""}, {"dhook", ""}},
				Digest: "0 9 * * 1-5", Timezone: "Europe/Berlin", Sources: []string{"local"}, FollowUps: "none",
				MinSources: 2, Window: 2 * time.Hour, Line: 56, QueryLine: 58},
			{Name: "daily", Query: "tsmc", Notify: []config.Target{{"console", ""}}, Digest: "daily", Timezone: "Asia/Taipei",
				FollowUps: "thread", MinSources: 3, Window: 6 * time.Hour, Line: 64, QueryLine: 66},
		},
		Alerts:  config.Alerts{Timezone: "Europe/Berlin", MaxRetryAfter: config.DefaultMaxRetryAfter},
		Chat:    config.Chat{MaxRulesPerUser: config.DefaultMaxRulesPerUser, MaxRulesPerChannel: config.DefaultMaxRulesPerChannel},
		Cluster: config.Cluster{ByFacts: true, FactsThreshold: config.DefaultFactsThreshold},
		Health:  config.Health{Notify: []config.Target{{"team-slack", "#wirewatch-ops"}}, AlertAfterFailures: 3},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
}

func TestHTTPHosts(t *testing.T) {
	hosts := []string{"wirewatch.example.com", "Proxy.Example:8443", "localhost", "[::1]:8080", "::1", "[fe80::1]", "10.0.0.5", "${HOST}"}
	c, err := config.Parse("t.toml", doc(`[http]`, `hosts = ["`+strings.Join(hosts, `", "`)+`"]`), envOf(map[string]string{"HOST": "env.example"}), types)
	if err != nil {
		t.Fatal(err)
	}
	want := append(hosts[:len(hosts)-1:len(hosts)-1], "env.example")
	if !reflect.DeepEqual(c.HTTP.Hosts, want) {
		t.Errorf("hosts = %q, want %q", c.HTTP.Hosts, want)
	}
	if c, err := config.Parse("t.toml", doc(`[http]`), nil, types); err != nil || c.HTTP.Hosts != nil {
		t.Errorf("no hosts = %q, %v; want none", c.HTTP.Hosts, err)
	}
}

// TestErrors checks that each problem is reported with the exact file, line
// and key: each want is the start of one line of the error, in order.
func TestErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  []byte
		env  map[string]string
		want []string
	}{
		{"syntax error", doc(`[fetch]`, `interval = "5m`), nil,
			[]string{`t.toml:2: basic strings cannot have new lines`}},
		{"duplicate key", doc(`[fetch]`, `interval = "5m"`, `interval = "6m"`), nil,
			[]string{`t.toml:3: key interval is already defined`}},
		{"unknown key with suggestion", doc(`[fetch]`, `intervall = "5m"`), nil,
			[]string{`t.toml:2: unknown key "fetch.intervall"; did you mean "interval"?`}},
		{"unknown key without suggestion", doc(`[fetch]`, `colour = "red"`), nil,
			[]string{`t.toml:2: unknown key "fetch.colour"`}},
		{"unknown table", doc(`[fetc]`, `interval = "5m"`), nil,
			[]string{`t.toml:1: unknown key "fetc"; did you mean "fetch"?`}},
		{"unknown key in third source", doc(
			`[[sources]]`, `name = "a"`, `url = "https://a.example/feed"`,
			`[[sources]]`, `name = "b"`, `url = "https://b.example/feed"`,
			`[[sources]]`, `name = "c"`, `url = "https://c.example/feed"`, `intervall = "5m"`), nil,
			[]string{`t.toml:10: unknown key "sources[2].intervall"; did you mean "interval"?`}},
		{"unknown key in inline table array", doc(`sources = [`, `  {name = "a", url = "https://a.example/"},`, `  {name = "b", uri = "https://b.example/"},`, `]`), nil,
			[]string{
				`t.toml:3: unknown key "sources[1].uri"; did you mean "url"?`,
				`t.toml:3: sources[1].url: missing (every source needs a url)`,
			}},
		{"all problems reported", doc(`[fetch]`, `intervall = "5m"`, `concurrency = -1`, `timeout = 30`), nil,
			[]string{
				`t.toml:2: unknown key "fetch.intervall"`,
				`t.toml:3: fetch.concurrency: must be at least 1, got -1`,
				`t.toml:4: fetch.timeout: must be a duration string such as "90s" or "5m", not an integer`,
			}},
		{"wrong type", doc(`[fetch]`, `concurrency = "8"`), nil,
			[]string{`t.toml:2: fetch.concurrency: must be an integer, not a string`}},
		{"table expected", doc(`fetch = 5`), nil,
			[]string{`t.toml:1: fetch: must be a table, not an integer`}},
		{"array of tables expected", doc(`[sources]`, `name = "a"`), nil,
			[]string{`t.toml:1: sources: must be an array of tables, written [[sources]]`}},
		{"invalid duration", doc(`[fetch]`, `interval = "5 minutes"`), nil,
			[]string{`t.toml:2: fetch.interval: invalid duration "5 minutes"`}},
		{"negative duration", doc(`[storage]`, `retention = "-1h"`), nil,
			[]string{`t.toml:2: storage.retention: must be positive, got "-1h"`}},
		{"lease too short for a send", doc(`[storage]`, `lease = "1s"`), nil,
			[]string{`t.toml:2: storage.lease: must be at least 2s`}},
		{"invalid size", doc(`[fetch]`, `max_body = "10MB"`), nil,
			[]string{`t.toml:2: fetch.max_body: invalid size "10MB": use a number of bytes or a number with KiB, MiB or GiB`}},
		{"negative size", doc(`[fetch]`, `max_body = -5`), nil,
			[]string{`t.toml:2: fetch.max_body: must be positive, got -5`}},
		{"oversized size", doc(`[fetch]`, `max_body = "9999999999999GiB"`), nil,
			[]string{`t.toml:2: fetch.max_body: invalid size "9999999999999GiB": too large`}},
		{"negative per_host", doc(`[fetch]`, `per_host = -2`), nil,
			[]string{`t.toml:2: fetch.per_host: must be at least 1, got -2`}},
		{"invalid listen", doc(`[http]`, `listen = "8080"`), nil,
			[]string{`t.toml:2: http.listen: invalid listen address "8080"`}},
		{"listen on all IPv4 without tokens", doc(`[http]`, `listen = "0.0.0.0:18082"`), nil,
			[]string{`t.toml:2: http.listen: "0.0.0.0:18082" is not a loopback address; without [http] tokens the dashboard and API would be open to the network — listen on 127.0.0.1 or set tokens`}},
		{"listen on empty host without tokens", doc(`# comment`, `[http]`, `hosts = ["a.example"]`, `listen = ":18082"`), nil,
			[]string{`t.toml:4: http.listen: ":18082" is not a loopback address; without [http] tokens`}},
		{"listen on all IPv6 without tokens", doc(`[http]`, `listen = "[::]:18082"`), nil,
			[]string{`t.toml:2: http.listen: "[::]:18082" is not a loopback address`}},
		{"listen on LAN address without tokens", doc(`[http]`, `listen = "192.168.1.5:80"`), nil,
			[]string{`t.toml:2: http.listen: "192.168.1.5:80" is not a loopback address`}},
		{"listen on host name without tokens", doc(`[http]`, `listen = "wirewatch.example.com:80"`), nil,
			[]string{`t.toml:2: http.listen: "wirewatch.example.com:80" is not a loopback address`}},
		{"listen with empty tokens list", doc(`[http]`, `listen = "0.0.0.0:80"`, `tokens = []`), nil,
			[]string{`t.toml:2: http.listen: "0.0.0.0:80" is not a loopback address`}},
		{"listen from the environment", doc(`[http]`, `listen = "${LISTEN}"`), map[string]string{"LISTEN": "0.0.0.0:80"},
			[]string{`t.toml:2: http.listen: "0.0.0.0:80" is not a loopback address`}},
		{"listen as dotted key", doc(`http.listen = "0.0.0.0:80"`), nil,
			[]string{`t.toml:1: http.listen: "0.0.0.0:80" is not a loopback address`}},
		{"listen in inline table", doc(`# comment`, `http = { listen = "0.0.0.0:80" }`), nil,
			[]string{`t.toml:2: http.listen: "0.0.0.0:80" is not a loopback address`}},
		{"listen with bad tokens reports only the tokens", doc(`[http]`, `listen = "0.0.0.0:80"`, `tokens = ["${T}"]`), nil,
			[]string{`t.toml:3: http.tokens[0]: environment variable "T" is not set`}},
		{"empty http token", doc(`[http]`, `tokens = ["aaaaaaaaaaaaaaaa", "${EMPTY}"]`), map[string]string{"EMPTY": ""},
			[]string{`t.toml:2: http.tokens[1]: must not be empty`}},
		{"http hosts", doc(`[http]`, `hosts = [`, `  "ok.example.com",`, `  "https://wirewatch.example.com",`,
			`  "wirewatch.example.com/dash",`, `  "proxy.example:0",`, `  "",`, `  "*",`, `  "-bad.example",`, `]`), nil,
			[]string{
				`t.toml:4: http.hosts[1]: invalid host "https://wirewatch.example.com": want a host name or host:port`,
				`t.toml:5: http.hosts[2]: invalid host "wirewatch.example.com/dash"`,
				`t.toml:6: http.hosts[3]: invalid port "0" in host "proxy.example:0"`,
				`t.toml:7: http.hosts[4]: invalid host ""`,
				`t.toml:8: http.hosts[5]: invalid host "*"`,
				`t.toml:9: http.hosts[6]: invalid host "-bad.example"`,
			}},
		{"http hosts not a list", doc(`[http]`, `hosts = "wirewatch.example.com"`), nil,
			[]string{`t.toml:2: http.hosts: must be an array of strings, not a string`}},
		{"storage url not postgres", doc(`[storage]`, `url = "mysql://x/y"`), nil,
			[]string{`t.toml:2: storage.url: must be a postgres:// URL`}},
		{"storage path and url", doc(`[storage]`, `path = "a.db"`, `url = "postgres://x/y"`), nil,
			[]string{`t.toml:3: storage.url: set either path or url, not both`}},
		{"source missing fields", doc(`[[sources]]`, `backfill = 1`), nil,
			[]string{
				`t.toml:1: sources[0].name: missing (every source needs a name)`,
				`t.toml:1: sources[0].url: missing (every source needs a url)`,
			}},
		{"source url scheme", doc(`[[sources]]`, `name = "a"`, `url = "ftp://example.com/feed"`), nil,
			[]string{`t.toml:3: sources[0].url: unsupported URL scheme "ftp": use http, https or file`}},
		{"source url without host", doc(`[[sources]]`, `name = "a"`, `url = "https:///feed"`), nil,
			[]string{`t.toml:3: sources[0].url: https URL without a host`}},
		{"source url without scheme", doc(`[[sources]]`, `name = "a"`, `url = "example.com/feed"`), nil,
			[]string{`t.toml:3: sources[0].url: URL without a scheme`}},
		{"source url unparsable", doc(`[[sources]]`, `name = "a"`, `url = "http://[::1"`), nil,
			[]string{`t.toml:3: sources[0].url: invalid URL: missing ']' in host`}},
		{"third source url", doc(
			`[[sources]]`, `name = "a"`, `url = "https://a.example/feed"`,
			`[[sources]]`, `name = "b"`, `url = "https://b.example/feed"`,
			`[[sources]]`, `name = "c"`, `interval = "5m"`, `url = "gopher://c.example/feed"`), nil,
			[]string{`t.toml:10: sources[2].url: unsupported URL scheme "gopher"`}},
		{"duplicate source", doc(
			`[[sources]]`, `name = "a"`, `url = "https://a.example/feed"`,
			`[[sources]]`, `name = "a"`, `url = "https://b.example/feed"`), nil,
			[]string{`t.toml:5: sources[1].name: duplicate source name "a" (first at line 2)`}},
		{"interval and schedule", doc(`[[sources]]`, `name = "a"`, `url = "https://a.example/"`, `interval = "5m"`, `schedule = "@hourly"`), nil,
			[]string{`t.toml:5: sources[0].schedule: set either interval or schedule, not both`}},
		{"invalid cron", doc(`[[sources]]`, `name = "a"`, `url = "https://a.example/"`, `schedule = "61 * * * *"`), nil,
			[]string{`t.toml:4: sources[0].schedule: invalid cron spec "61 * * * *"`}},
		{"six-field cron", doc(`[[sources]]`, `name = "a"`, `url = "https://a.example/"`, `schedule = "0 */5 * * * *"`), nil,
			[]string{`t.toml:4: sources[0].schedule: invalid cron spec "0 */5 * * * *": expected exactly 5 fields`}},
		{"negative backfill", doc(`[[sources]]`, `name = "a"`, `url = "https://a.example/"`, `backfill = -1`), nil,
			[]string{`t.toml:4: sources[0].backfill: must not be negative, got -1`}},
		{"unknown notifier type", doc(`[[notifiers]]`, `name = "x"`, `type = "pigeon"`), nil,
			[]string{`t.toml:3: notifiers[0].type: unknown notifier type "pigeon"`}},
		{"misspelt notifier type", doc(`[[notifiers]]`, `name = "x"`, `type = "discord-webhok"`), nil,
			[]string{`t.toml:3: notifiers[0].type: unknown notifier type "discord-webhok" (one of ` + typeNames() + `); did you mean "discord-webhook"?`}},
		{"notifier without type", doc(`[[notifiers]]`, `name = "x"`), nil,
			[]string{`t.toml:1: notifiers[0].type: missing`}},
		{"duplicate notifier", doc(`[[notifiers]]`, `name = "c"`, `type = "console"`, `[[notifiers]]`, `name = "c"`, `type = "console"`), nil,
			[]string{`t.toml:5: notifiers[1].name: duplicate notifier name "c" (first at line 2)`}},
		{"notifier name with colon", doc(`[[notifiers]]`, `name = "a:b"`, `type = "console"`), nil,
			[]string{`t.toml:2: notifiers[0].name: must not contain ":"`}},
		{"webhook without url", doc(`[[notifiers]]`, `name = "h"`, `type = "webhook"`), nil,
			[]string{`t.toml:1: notifiers[0].url: missing (required for webhook notifiers)`}},
		{"slack-webhook without url", doc(`[[notifiers]]`, `name = "h"`, `type = "slack-webhook"`), nil,
			[]string{`t.toml:1: notifiers[0].url: missing (required for slack-webhook notifiers)`}},
		{"discord-webhook invalid url", doc(`[[notifiers]]`, `name = "h"`, `type = "discord-webhook"`, `url = "discord.com/api/webhooks/1/x"`), nil,
			[]string{`t.toml:4: notifiers[0].url: must be an http:// or https:// URL with a host`}},
		{"slack without token", doc(`[[notifiers]]`, `name = "s"`, `type = "slack"`), nil,
			[]string{`t.toml:1: notifiers[0].token: missing (required for slack notifiers)`}},
		{"discord without token and application_id", doc(`[[notifiers]]`, `name = "d"`, `type = "discord"`), nil,
			[]string{
				`t.toml:1: notifiers[0].token: missing (required for discord notifiers)`,
				`t.toml:1: notifiers[0].application_id: missing (required for discord notifiers)`,
			}},
		{"discord bad ids", doc(`[[notifiers]]`, `name = "d"`, `type = "discord"`, `token = "t"`, `application_id = "abc"`, `guild_id = "g1"`), nil,
			[]string{
				`t.toml:5: notifiers[0].application_id: must be a Discord id (digits), got "abc"`,
				`t.toml:6: notifiers[0].guild_id: must be a Discord id (digits), got "g1"`,
			}},
		{"discord bad public key", doc(`[[notifiers]]`, `name = "d"`, `type = "discord"`, `token = "t"`, `application_id = "1"`, `public_key = "xyz"`), nil,
			[]string{`t.toml:6: notifiers[0].public_key: must be 64 hexadecimal characters`}},
		{"key not used by type", doc(`[[notifiers]]`, `name = "h"`, `type = "webhook"`, `url = "https://h.example/"`, `guild_id = "1"`, `path = "x"`), nil,
			[]string{
				`t.toml:5: notifiers[0].guild_id: not used by webhook notifiers`,
				`t.toml:6: notifiers[0].path: not used by webhook notifiers`,
			}},
		{"url on console reported once", doc(`[[notifiers]]`, `name = "c"`, `type = "console"`, `url = "not a url"`), nil,
			[]string{`t.toml:4: notifiers[0].url: not used by console notifiers`}},
		{"thread_id on slack", doc(`[[notifiers]]`, `name = "s"`, `type = "slack"`, `token = "t"`, `thread_id = "1"`), nil,
			[]string{`t.toml:5: notifiers[0].thread_id: not used by slack notifiers`}},
		{"max_per_hour zero", doc(`[[notifiers]]`, `name = "c"`, `type = "console"`, `max_per_hour = 0`), nil,
			[]string{`t.toml:4: notifiers[0].max_per_hour: must be at least 1, got 0`}},
		{"invalid api_url", doc(`[[notifiers]]`, `name = "s"`, `type = "slack"`, `token = "t"`, `api_url = "slack.com/api"`), nil,
			[]string{`t.toml:5: notifiers[0].api_url: must be an http:// or https:// URL with a host`}},
		{"rule missing fields", doc(`[[rules]]`, `digest = "daily"`), nil,
			[]string{
				`t.toml:1: rules[0].name: missing (every rule needs a name)`,
				`t.toml:1: rules[0].query: missing (every rule needs a query)`,
				`t.toml:1: rules[0].notify: missing`,
			}},
		{"rule empty query and notify", with(`[[rules]]`, `name = "e"`, `query = "  "`, `notify = []`), nil,
			[]string{
				`t.toml:10: rules[1].query: must not be empty`,
				`t.toml:11: rules[1].notify: must name at least one target`,
			}},
		{"duplicate rule", with(`[[rules]]`, `name = "r"`, `query = "x"`, `notify = ["console"]`), nil,
			[]string{`t.toml:9: rules[1].name: duplicate rule name "r" (first at line 5)`}},
		{"unknown target notifier", with(`[[rules]]`, `name = "x"`, `query = "x"`, `notify = ["consol"]`), nil,
			[]string{`t.toml:11: rules[1].notify[0]: unknown notifier "consol"; did you mean "console"?`}},
		{"target element line", with(`[[rules]]`, `name = "x"`, `query = "x"`, `notify = [`, `  "console",`, `  "nope",`, `]`), nil,
			[]string{`t.toml:13: rules[1].notify[1]: unknown notifier "nope"`}},
		{"target channel rules", doc(
			`[[notifiers]]`, `name = "console"`, `type = "console"`,
			`[[notifiers]]`, `name = "slack"`, `type = "slack"`, `token = "t"`,
			`[[notifiers]]`, `name = "discord"`, `type = "discord"`, `token = "t"`, `application_id = "1"`,
			`[[rules]]`, `name = "r"`, `query = "x"`,
			`notify = ["console:#x", "slack", "discord", "discord:#general", "slack:", ":x", "slack:#a", "slack:#a"]`), nil,
			[]string{
				`t.toml:16: rules[0].notify[0]: console notifier "console" takes no channel: write "console"`,
				`t.toml:16: rules[0].notify[1]: slack notifier "slack" needs a channel: write "slack:#channel"`,
				`t.toml:16: rules[0].notify[2]: discord notifier "discord" needs a channel: write "discord:CHANNEL_ID"`,
				`t.toml:16: rules[0].notify[3]: a Discord channel is a channel id (digits), got "#general"`,
				`t.toml:16: rules[0].notify[4]: target "slack:" has an empty channel`,
				`t.toml:16: rules[0].notify[5]: target ":x" names no notifier`,
				`t.toml:16: rules[0].notify[7]: target "slack:#a" is listed twice`,
			}},
		{"invalid digest", with(`digest = "dayly"`), nil,
			[]string{`t.toml:8: rules[0].digest: unknown digest "dayly"; did you mean "daily"?`}},
		{"invalid digest cron", with(`digest = "0 9 * *"`), nil,
			[]string{`t.toml:8: rules[0].digest: must be "", "hourly", "daily", "weekly" or a cron spec: invalid cron spec "0 9 * *"`}},
		{"digest with TZ", with(`digest = "TZ=UTC 0 9 * * *"`), nil,
			[]string{`t.toml:8: rules[0].digest: set the time zone with the rule's timezone key`}},
		{"invalid rule timezone", with(`timezone = "Europe/Berlim"`), nil,
			[]string{`t.toml:8: rules[0].timezone: unknown time zone "Europe/Berlim"`}},
		{"invalid alerts timezone", with(`[alerts]`, `timezone = "CEST+2"`), nil,
			[]string{`t.toml:9: alerts.timezone: unknown time zone "CEST+2"`}},
		{"invalid follow_ups", with(`follow_ups = "reply"`), nil,
			[]string{`t.toml:8: rules[0].follow_ups: must be "thread" or "none", got "reply"`}},
		{"min_sources zero", with(`min_sources = 0`), nil,
			[]string{`t.toml:8: rules[0].min_sources: must be at least 1, got 0`}},
		{"negative window", with(`window = "-2h"`), nil,
			[]string{`t.toml:8: rules[0].window: must be positive`}},
		{"rule unknown source", with(`sources = ["Reuters"]`), nil,
			[]string{`t.toml:8: rules[0].sources[0]: unknown source "Reuters"`}},
		{"health unknown notifier", with(`[health]`, `notify = ["ops"]`), nil,
			[]string{`t.toml:9: health.notify[0]: unknown notifier "ops"`}},
		{"health negative failures", with(`[health]`, `alert_after_failures = -1`), nil,
			[]string{`t.toml:9: health.alert_after_failures: must be at least 1, got -1`}},
		{"missing variable", with(`[http]`, `listen = "${LISTEN}"`), nil,
			[]string{`t.toml:9: http.listen: environment variable "LISTEN" is not set`}},
		{"missing variables embedded", with(`[storage]`, `path = "/data/${DIR}/${FILE}.db"`), nil,
			[]string{
				`t.toml:9: storage.path: environment variable "DIR" is not set`,
				`t.toml:9: storage.path: environment variable "FILE" is not set`,
			}},
		{"missing variable in array", with(`[http]`, `tokens = [`, `  "${A}",`, `  "${B}",`, `]`), map[string]string{"A": "aaaaaaaaaaaaaaaa"},
			[]string{`t.toml:11: http.tokens[1]: environment variable "B" is not set`}},
		{"unterminated variable", with(`[storage]`, `path = "${DIR"`), nil,
			[]string{`t.toml:9: storage.path: "${" without a closing "}"`}},
		{"invalid variable name", with(`[storage]`, `path = "${1DIR}"`), nil,
			[]string{`t.toml:9: storage.path: invalid variable name in "${...}"`}},
		{"dotted keys", doc(`fetch.intervall = "5m"`, `fetch.timeout = "x"`), nil,
			[]string{
				`t.toml:1: unknown key "fetch.intervall"`,
				`t.toml:2: fetch.timeout: invalid duration "x"`,
			}},
		{"quoted unknown key", doc(`[fetch]`, `"max body" = 1`), nil,
			[]string{`t.toml:2: unknown key "fetch.\"max body\""`}},
		{"datetime value", doc(`[fetch]`, `timeout = 1979-05-27T07:32:00Z`), nil,
			[]string{`t.toml:2: fetch.timeout: must be a duration string such as "90s" or "5m", not a date or time`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse("t.toml", tt.doc, envOf(tt.env), types)
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			var es config.Errors
			if !errors.As(err, &es) {
				t.Fatalf("error is %T, want Errors", err)
			}
			got := strings.Split(err.Error(), "\n")
			if len(got) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%s", len(got), len(tt.want), err)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("error %d:\ngot  %s\nwant %s…", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// TestListenLoopback checks the listen addresses accepted with and without
// tokens: without tokens, only loopback, as wirewatch run requires.
func TestListenLoopback(t *testing.T) {
	tests := []struct {
		lines []string
		want  string
	}{
		{nil, config.DefaultListen},
		{[]string{`[http]`, `listen = "127.0.0.1:8080"`}, "127.0.0.1:8080"},
		{[]string{`[http]`, `listen = "127.3.2.1:0"`}, "127.3.2.1:0"},
		{[]string{`[http]`, `listen = "[::1]:8080"`}, "[::1]:8080"},
		{[]string{`[http]`, `listen = "localhost:8080"`}, "localhost:8080"},
		{[]string{`[http]`, `listen = ""`}, ""},
		{[]string{`[http]`, `listen = "0.0.0.0:18082"`, `tokens = ["tttttttttttttttt"]`}, "0.0.0.0:18082"},
		{[]string{`[http]`, `listen = ":18082"`, `tokens = ["${TOKEN}"]`}, ":18082"},
		{[]string{`[http]`, `listen = "[::]:18082"`, `tokens = ["aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"]`}, "[::]:18082"},
	}
	for _, tt := range tests {
		c, err := config.Parse("t.toml", with(tt.lines...), envOf(map[string]string{"TOKEN": "secret-0123456789"}), types)
		if err != nil {
			t.Errorf("%q: %v", tt.lines, err)
			continue
		}
		if c.HTTP.Listen != tt.want {
			t.Errorf("%q: listen = %q, want %q", tt.lines, c.HTTP.Listen, tt.want)
		}
	}
}

func TestErrorsAreStructured(t *testing.T) {
	_, err := config.Parse("t.toml", with(`[fetch]`, `interval = "x"`), nil, types)
	var e *config.Error
	if !errors.As(err, &e) {
		t.Fatalf("errors.As(%T, *Error) failed", err)
	}
	want := &config.Error{File: "t.toml", Line: 9, Key: "fetch.interval", Msg: `invalid duration "x": use a Go duration such as "90s", "5m" or "1h"`}
	if *e != *want {
		t.Errorf("got %+v, want %+v", e, want)
	}
	if got := (&config.Error{File: "f.toml", Msg: "m"}).Error(); got != "f.toml: m" {
		t.Errorf("line 0 renders %q", got)
	}
}

func TestWindowDefault(t *testing.T) {
	c, err := config.Parse("t.toml", with(`min_sources = 2`), nil, types)
	if err != nil {
		t.Fatal(err)
	}
	if c.Rules[0].Window != 2*time.Hour {
		t.Errorf("window = %v, want 2h", c.Rules[0].Window)
	}
}

func TestRuleTimezoneDefaultsToAlerts(t *testing.T) {
	c, err := config.Parse("t.toml", with(`[alerts]`, `timezone = "Asia/Tokyo"`), nil, types)
	if err != nil {
		t.Fatal(err)
	}
	if c.Rules[0].Timezone != "Asia/Tokyo" {
		t.Errorf("rule timezone = %q, want Asia/Tokyo", c.Rules[0].Timezone)
	}
}

// TestExpansionCannotInject checks that a variable's value is a value, not
// TOML: metacharacters in it cannot add keys or tables.
func TestExpansionCannotInject(t *testing.T) {
	secret := "x\"\n[storage]\npath = \"/tmp/evil.db"
	c, err := config.Parse("t.toml", with(`[http]`, `tokens = ["${TOKEN}"]`), envOf(map[string]string{"TOKEN": secret}), types)
	if err != nil {
		t.Fatal(err)
	}
	if c.Storage.Path != "wirewatch.db" || len(c.HTTP.Tokens) != 1 || c.HTTP.Tokens[0].Reveal() != secret {
		t.Errorf("expansion changed the document: %+v", c)
	}
}

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in   string
		want config.Target
		ok   bool
	}{
		{"console", config.Target{Notifier: "console"}, true},
		{"team-slack:#ai-policy", config.Target{"team-slack", "#ai-policy"}, true},
		{"ops-discord:1234567890", config.Target{"ops-discord", "1234567890"}, true},
		{"a:b:c", config.Target{"a", "b:c"}, true},
		{"", config.Target{}, false},
		{":x", config.Target{}, false},
		{"x:", config.Target{}, false},
	}
	for _, tt := range tests {
		got, err := config.ParseTarget(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseTarget(%q) = %+v, %v; want %+v, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if tt.ok && got.String() != tt.in {
			t.Errorf("String() = %q, want %q", got.String(), tt.in)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "wirewatch.toml")
	if err := os.WriteFile(path, with(), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(path, types)
	if err != nil {
		t.Fatal(err)
	}
	if c.File != path || len(c.Rules) != 1 {
		t.Errorf("got %+v", c)
	}
	_, err = config.Load(filepath.Join(dir, "missing.toml"), types)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}
}

func TestByteOrderMark(t *testing.T) {
	if _, err := config.Parse("t.toml", append([]byte("\uFEFF"), with()...), nil, types); err != nil {
		t.Errorf("a file starting with a byte order mark: %v", err)
	}
}

func TestSummary(t *testing.T) {
	data := with(
		`[[sources]]`, `name = "Feed A"`, `url = "https://user:pass@a.example/feed?key=k"`, `interval = "10m"`,
		`[[sources]]`, `name = "Feed B"`, `url = "file:///tmp/b.xml"`,
		`[[notifiers]]`, `name = "hook"`, `type = "webhook"`, `url = "https://hooks.example/secret-path"`,
	)
	c, err := config.Parse("s.toml", data, nil, types)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		`s.toml: 2 sources, 1 rule, 2 notifiers (console, hook)`,
		`  source "Feed A": a.example, every 10m`,
		`  source "Feed B": file URL, every 5m (default)`,
		`  rule "r": instant → console`,
		`  notifier "console": console`,
		`  notifier "hook": webhook`,
	}, "\n")
	if got := c.Summary(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestGolden checks every message for a file full of mistakes, and that a
// file written with inline tables and dotted keys loads.
func TestGolden(t *testing.T) {
	data, err := os.ReadFile("testdata/broken.toml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = config.Parse("testdata/broken.toml", data, envOf(nil), types)
	if err == nil {
		t.Fatal("broken.toml loaded")
	}
	got := err.Error() + "\n"
	if *update {
		if err := os.WriteFile("testdata/broken.errors", []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("testdata/broken.errors")
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}

	t.Setenv("WIREWATCH_TOKEN", "from-the-environment")
	c, err := config.Load("testdata/inline.toml", types)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.Tokens[0].Reveal() != "from-the-environment" {
		t.Errorf("Load did not expand from the environment: %q", c.HTTP.Tokens[0].Reveal())
	}
	if c.Fetch.Interval != 2*time.Minute || c.Fetch.MaxBody != 1<<20 || c.Fetch.Concurrency != 8 ||
		len(c.Sources) != 2 || c.Sources[1].Line != 9 || c.Notifiers[1].Settings.(*console.Config).Path != "alerts.jsonl" ||
		c.Notifiers[1].MaxPerHour != 1000 || c.Rules[0].Line != 17 || c.HTTP.Listen != ":8080" {
		t.Errorf("got %+v", c)
	}
}

func TestStorageLease(t *testing.T) {
	c, err := config.Parse("t.toml", doc(`[storage]`, `lease = "30s"`), nil, types)
	if err != nil {
		t.Fatal(err)
	}
	if c.Storage.Lease != 30*time.Second {
		t.Errorf("lease = %v, want 30s", c.Storage.Lease)
	}
}

// TestShortTokensAreRefused: a token is all that stands between the network
// and the dashboard, so a one-character one fails check (issue 12, item 10),
// without the message showing it.
func TestShortTokensAreRefused(t *testing.T) {
	for _, key := range []string{"tokens = [%q]", "metrics_token = %q"} {
		_, err := config.Parse("t.toml", with(`[http]`, fmt.Sprintf(key, "x")), nil, types)
		if err == nil || !strings.Contains(err.Error(), "too short (1 characters): a token needs at least 16") {
			t.Errorf("%s: err = %v", key, err)
		}
		c, err := config.Parse("t.toml", with(`[http]`, fmt.Sprintf(key, "0123456789abcdef")), nil, types)
		if err != nil {
			t.Errorf("%s: 16 characters: %v", key, err)
		} else if key[0] == 'm' && c.HTTP.MetricsToken.Reveal() != "0123456789abcdef" {
			t.Errorf("metrics_token = %q", c.HTTP.MetricsToken.Reveal())
		}
	}
}

// TestRetryAfterCeilingAndChatLimits: the ceiling on Retry-After and the
// chat rule limits are settings (issue 12, items 3 and 5).
func TestRetryAfterCeilingAndChatLimits(t *testing.T) {
	c, err := config.Parse("t.toml", with(`[alerts]`, `max_retry_after = "10m"`, `[chat]`, `max_rules_per_user = 3`, `max_rules_per_channel = 7`), nil, types)
	if err != nil {
		t.Fatal(err)
	}
	if c.Alerts.MaxRetryAfter != 10*time.Minute || c.Chat != (config.Chat{MaxRulesPerUser: 3, MaxRulesPerChannel: 7}) {
		t.Errorf("alerts %+v, chat %+v", c.Alerts, c.Chat)
	}
	for _, lines := range [][]string{{`[alerts]`, `max_retry_after = "0s"`}, {`[chat]`, `max_rules_per_user = 0`}, {`[chat]`, `max_rules = 1`}} {
		if _, err := config.Parse("t.toml", with(lines...), nil, types); err == nil {
			t.Errorf("%q: no error", lines)
		}
	}
}

// TestClusterTable: [cluster] turns the facts off or sets their threshold;
// a wrong value is refused at its line.
func TestClusterTable(t *testing.T) {
	c, err := config.Parse("t.toml", with(`[cluster]`, `by_facts = false`, `facts_threshold = 0.45`), nil, types)
	if err != nil {
		t.Fatal(err)
	}
	if c.Cluster != (config.Cluster{ByFacts: false, FactsThreshold: 0.45}) {
		t.Errorf("cluster %+v", c.Cluster)
	}
	if c, err := config.Parse("t.toml", with(`[cluster]`, `facts_threshold = 1`), nil, types); err != nil || c.Cluster.FactsThreshold != 1 {
		t.Errorf("facts_threshold = 1: %+v, %v", c, err)
	}
	for _, tt := range []struct{ line, want string }{
		{`by_facts = "no"`, "must be true or false"},
		{`facts_threshold = 0`, "must be above 0 and at most 1"},
		{`facts_threshold = 1.5`, "must be above 0 and at most 1"},
		{`facts_threshold = "high"`, "must be a number"},
		{`threshold = 0.4`, "threshold"},
	} {
		_, err := config.Parse("t.toml", with(`[cluster]`, tt.line), nil, types)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "t.toml:") {
			t.Errorf("%s: error %v, want t.toml:LINE and %q", tt.line, err, tt.want)
		}
	}
}
