package config

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pelletier/go-toml/v2"

	"github.com/wirewatch/wirewatch/cluster"
	"github.com/wirewatch/wirewatch/listenaddr"
	"github.com/wirewatch/wirewatch/schedule"
)

// Defaults for keys the file leaves out.
const (
	DefaultStoragePath = "wirewatch.db"
	DefaultRetention   = 720 * time.Hour
	DefaultLease       = 90 * time.Second
	// MinLease is the shortest lease: a send must fit in half of it.
	MinLease                  = 2 * time.Second
	DefaultFetchInterval      = 5 * time.Minute
	DefaultConcurrency        = 8
	DefaultPerHost            = 2
	DefaultFetchTimeout       = 30 * time.Second
	DefaultMaxBody            = 10 << 20
	DefaultListen             = "127.0.0.1:8080"
	DefaultTimezone           = "UTC"
	DefaultAlertAfterFailures = 5
	DefaultMaxPerHour         = 30
	DefaultFollowUps          = FollowUpsThread
	DefaultMinSources         = 1
	DefaultSurgeWindow        = 2 * time.Hour
	// DefaultMaxRetryAfter caps the wait a receiver's Retry-After can ask
	// for, so that one answer cannot stall a target for days.
	DefaultMaxRetryAfter = time.Hour
	// DefaultMaxRulesPerUser and DefaultMaxRulesPerChannel cap the rules
	// one person, and one channel, may make with /watch add.
	DefaultMaxRulesPerUser = 100
	// DefaultFactsThreshold is [cluster] facts_threshold's default, the
	// cluster package's.
	DefaultFactsThreshold     = cluster.DefaultFactsThreshold
	DefaultMaxRulesPerChannel = 500
)

// Values of Rule.FollowUps.
const (
	FollowUpsThread = "thread" // later copies of a story are posted under its first alert
	FollowUpsNone   = "none"   // later copies are not posted
)

// Keys each table may hold.
var (
	rootKeys    = []string{"storage", "fetch", "http", "sources", "notifiers", "rules", "alerts", "health", "chat", "cluster"}
	storageKeys = []string{"path", "url", "retention", "lease"}
	fetchKeys   = []string{"interval", "concurrency", "per_host", "timeout", "max_body"}
	httpKeys    = []string{"listen", "tokens", "hosts", "metrics_token"}
	sourceKeys  = []string{"name", "url", "interval", "schedule", "backfill"}
	ruleKeys    = []string{"name", "query", "notify", "digest", "timezone", "sources", "follow_ups", "min_sources", "window"}
	alertsKeys  = []string{"timezone", "max_retry_after"}
	chatKeys    = []string{"max_rules_per_user", "max_rules_per_channel"}
	clusterKeys = []string{"by_facts", "facts_threshold"}
	healthKeys  = []string{"notify", "alert_after_failures"}
)

// Load reads, expands and validates the file at path, taking ${NAME}
// references from the process environment; types are the notifier types
// [[notifiers]] entries may have. Problems in the file are returned as
// Errors; a file that cannot be read as a wrapped *fs.PathError.
func Load(path string, types []NotifierType) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data, os.LookupEnv, types)
}

// Parse reads, expands and validates an already-read configuration; file
// names it in messages. env looks up ${NAME} references; nil is an empty
// environment. types are the notifier types [[notifiers]] entries may have
// (the registry's list). Every problem found is returned, in line order, as
// Errors.
//
// ${NAME} anywhere in a string value is replaced with the variable's value;
// $${ stands for a literal ${. Expansion works on decoded string values, so
// a variable's value is never read as TOML.
func Parse(file string, data []byte, env func(string) (string, bool), types []NotifierType) (*Config, error) {
	d, doc, err := newDecoder(file, data, env)
	if err != nil {
		return nil, err
	}
	d.types = types
	c := d.config(doc)
	if err := d.result(); err != nil {
		return nil, err
	}
	return c, nil
}

// newDecoder decodes data as TOML and returns a decoder for it, which
// reports problems against file and expands ${NAME} from env (nil is an
// empty environment). A syntax error is returned as Errors.
func newDecoder(file string, data []byte, env func(string) (string, bool)) (*decoder, map[string]any, error) {
	if env == nil {
		env = func(string) (string, bool) { return "", false }
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		return nil, nil, Errors{syntaxError(file, err)}
	}
	return &decoder{file: file, env: env, lines: newLineIndex(data)}, doc, nil
}

// result returns the problems found, in line order, as Errors; nil when
// there are none.
func (d *decoder) result() error {
	if len(d.errs) == 0 {
		return nil
	}
	slices.SortStableFunc(d.errs, func(a, b *Error) int { return a.Line - b.Line })
	return d.errs
}

// syntaxError converts go-toml's error, which names the line and column but
// never quotes more than a character of the document.
func syntaxError(file string, err error) *Error {
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, _ := de.Position()
		return &Error{File: file, Line: line, Msg: strings.TrimPrefix(de.Error(), "toml: ")}
	}
	return &Error{File: file, Msg: "invalid TOML"}
}

func (d *decoder) config(doc map[string]any) *Config {
	root := d.table(nil, doc, rootKeys)
	c := &Config{File: d.file}
	c.Storage = d.storage(root)
	c.Fetch = d.fetch(root)
	c.HTTP = d.http(root)
	c.Alerts = d.alerts(root)
	c.Chat = d.chat(root)
	c.Cluster = d.cluster(root)
	c.Sources = d.sources(root)
	c.Notifiers = d.notifiers(root)
	c.Rules = d.rules(root, c)
	c.Health = d.health(root, c)
	return c
}

func (d *decoder) storage(root *table) Storage {
	t := d.table(root.at("storage"), root.m["storage"], storageKeys)
	s := Storage{Path: DefaultStoragePath, Retention: DefaultRetention, Lease: DefaultLease}
	path, hasPath := t.str("path")
	if hasPath {
		if path == "" {
			d.errorf(t.at("path"), "must not be empty")
		}
		s.Path = path
	}
	if u, ok := t.str("url"); ok {
		pu, err := url.Parse(u)
		switch {
		case err != nil || (pu.Scheme != "postgres" && pu.Scheme != "postgresql"):
			d.errorf(t.at("url"), "must be a postgres:// URL")
		case hasPath:
			d.errorf(t.at("url"), "set either path or url, not both")
		default:
			s.URL, s.Path = Secret(u), ""
		}
	}
	if r, ok := t.duration("retention"); ok {
		s.Retention = r
	}
	if l, ok := t.duration("lease"); ok {
		if l < MinLease {
			d.errorf(t.at("lease"), "must be at least %s", MinLease)
		} else {
			s.Lease = l
		}
	}
	return s
}

func (d *decoder) fetch(root *table) Fetch {
	t := d.table(root.at("fetch"), root.m["fetch"], fetchKeys)
	f := Fetch{
		Interval:    DefaultFetchInterval,
		Concurrency: DefaultConcurrency,
		PerHost:     DefaultPerHost,
		Timeout:     DefaultFetchTimeout,
		MaxBody:     DefaultMaxBody,
	}
	if v, ok := t.duration("interval"); ok {
		f.Interval = v
	}
	if v, ok := t.int("concurrency", 1); ok {
		f.Concurrency = v
	}
	if v, ok := t.int("per_host", 1); ok {
		f.PerHost = v
	}
	if v, ok := t.duration("timeout"); ok {
		f.Timeout = v
	}
	if v, ok := t.size("max_body"); ok {
		f.MaxBody = v
	}
	return f
}

func (d *decoder) http(root *table) HTTP {
	t := d.table(root.at("http"), root.m["http"], httpKeys)
	h := HTTP{Listen: DefaultListen}
	listenOK := false
	if listen, ok := t.str("listen"); ok {
		h.Listen = listen
		if listen != "" {
			if err := listenaddr.Check(listen); err != nil {
				d.errorf(t.at("listen"), "%v", err)
			} else {
				listenOK = true
			}
		}
	}
	// Without tokens the endpoints have no authentication, so the server
	// only listens on loopback; wirewatch run refuses anything else. A
	// tokens value that is there but has problems has been reported.
	raw, isList := t.m["tokens"].([]any)
	if tokensGiven := t.has("tokens") && (!isList || len(raw) > 0); listenOK && !tokensGiven {
		if err := listenaddr.Loopback(h.Listen); err != nil {
			d.errorf(t.at("listen"), "%v", err)
		}
	}
	tokens, _ := t.strs("tokens")
	for _, e := range tokens {
		if err := checkToken(e.value); err != nil {
			d.errorf(e.path, "%v", err)
			continue
		}
		h.Tokens = append(h.Tokens, Secret(e.value))
	}
	if mt, ok := t.str("metrics_token"); ok {
		if err := checkToken(mt); err != nil {
			d.errorf(t.at("metrics_token"), "%v", err)
		} else {
			h.MetricsToken = Secret(mt)
		}
	}
	hosts, _ := t.strs("hosts")
	for _, e := range hosts {
		if err := checkHost(e.value); err != nil {
			d.errorf(e.path, "%v", err)
			continue
		}
		h.Hosts = append(h.Hosts, e.value)
	}
	return h
}

// MinTokenLength is the shortest token [http] accepts: a token is the only
// thing between the network and the dashboard, so it must not be guessable.
const MinTokenLength = 16

// checkToken refuses an empty or short token; the message never shows the
// token.
func checkToken(tok string) error {
	if tok == "" {
		return fmt.Errorf("must not be empty")
	}
	if n := utf8.RuneCountInString(tok); n < MinTokenLength {
		return fmt.Errorf("too short (%d characters): a token needs at least %d, e.g. from `openssl rand -hex 24`", n, MinTokenLength)
	}
	return nil
}

// checkHost checks a Host header value to allow: a host name or an IP
// address, with or without a port.
func checkHost(h string) error {
	bad := fmt.Errorf(`invalid host %q: want a host name or host:port such as "wirewatch.example.com", without a scheme or path`, h)
	if strings.Contains(h, "/") {
		return bad
	}
	host := h
	if hp, port, err := net.SplitHostPort(h); err == nil {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("invalid port %q in host %q", port, h)
		}
		host = hp
	} else if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		host = h[1 : len(h)-1]
	}
	if net.ParseIP(host) != nil {
		return nil
	}
	if len(host) == 0 || len(host) > 253 {
		return bad
	}
	for label := range strings.SplitSeq(host, ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return bad
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return bad
			}
		}
	}
	return nil
}

func (d *decoder) alerts(root *table) Alerts {
	t := d.table(root.at("alerts"), root.m["alerts"], alertsKeys)
	a := Alerts{Timezone: DefaultTimezone, MaxRetryAfter: DefaultMaxRetryAfter}
	if tz, ok := t.timezone("timezone"); ok {
		a.Timezone = tz
	}
	if v, ok := t.duration("max_retry_after"); ok {
		a.MaxRetryAfter = v
	}
	return a
}

func (d *decoder) chat(root *table) Chat {
	t := d.table(root.at("chat"), root.m["chat"], chatKeys)
	c := Chat{MaxRulesPerUser: DefaultMaxRulesPerUser, MaxRulesPerChannel: DefaultMaxRulesPerChannel}
	if v, ok := t.int("max_rules_per_user", 1); ok {
		c.MaxRulesPerUser = v
	}
	if v, ok := t.int("max_rules_per_channel", 1); ok {
		c.MaxRulesPerChannel = v
	}
	return c
}

func (d *decoder) cluster(root *table) Cluster {
	t := d.table(root.at("cluster"), root.m["cluster"], clusterKeys)
	c := Cluster{ByFacts: true, FactsThreshold: DefaultFactsThreshold}
	if v, ok := t.bool("by_facts"); ok {
		c.ByFacts = v
	}
	if v, ok := t.fraction("facts_threshold"); ok {
		c.FactsThreshold = v
	}
	return c
}

// timezone returns the IANA time zone name at key; empty means unset.
func (t *table) timezone(key string) (string, bool) {
	tz, ok := t.str(key)
	if !ok || tz == "" {
		return "", false
	}
	if _, err := schedule.LoadLocation(tz); err != nil {
		t.d.errorf(t.at(key), "%v", err)
		return "", false
	}
	return tz, true
}

func (d *decoder) sources(root *table) []Source {
	var out []Source
	first := map[string]int{}
	for _, t := range d.tables(root.at("sources"), root.m["sources"], sourceKeys) {
		s := Source{Line: d.lines.line(t.path)}
		s.Name = d.name(t, "source", first)
		if u, ok := t.str("url"); ok {
			if err := sourceURL(u); err != nil {
				d.errorf(t.at("url"), "%v", err)
			}
			s.URL = u
		} else if !t.has("url") {
			d.errorf(t.at("url"), "missing (every source needs a url)")
		}
		if v, ok := t.duration("interval"); ok {
			s.Interval = v
		}
		if spec, ok := t.str("schedule"); ok {
			if _, err := schedule.ParseCron(spec); err != nil {
				d.errorf(t.at("schedule"), "%v", err)
			}
			s.Schedule = spec
		}
		if t.has("interval") && t.has("schedule") {
			d.errorf(t.at("schedule"), "set either interval or schedule, not both")
		}
		if v, ok := t.int("backfill", 0); ok {
			s.Backfill = v
		}
		out = append(out, s)
	}
	return out
}

// name reads the required, unique name of an entry; first maps the names
// seen so far to their lines.
func (d *decoder) name(t *table, what string, first map[string]int) string {
	name, ok := t.str("name")
	switch {
	case !t.has("name"):
		d.errorf(t.at("name"), "missing (every %s needs a name)", what)
	case !ok:
	case strings.TrimSpace(name) == "":
		d.errorf(t.at("name"), "must not be empty")
	default:
		if line, dup := first[name]; dup {
			d.errorf(t.at("name"), "duplicate %s name %q (first at line %d)", what, name, line)
		} else {
			first[name] = t.line("name")
		}
	}
	return name
}

func (d *decoder) notifiers(root *table) []Notifier {
	var out []Notifier
	first := map[string]int{}
	names := make([]string, len(d.types))
	typeKeys := make(map[string][]string, len(d.types))
	known := slices.Clone(commonNotifierKeys)
	for i, typ := range d.types {
		names[i] = typ.Name
		typeKeys[typ.Name] = settingKeys(typ)
		for _, k := range typeKeys[typ.Name] {
			if !slices.Contains(known, k) {
				known = append(known, k)
			}
		}
	}
	for _, t := range d.tables(root.at("notifiers"), root.m["notifiers"], known) {
		n := Notifier{Line: d.lines.line(t.path), MaxPerHour: DefaultMaxPerHour}
		n.Name = d.name(t, "notifier", first)
		if strings.Contains(n.Name, ":") {
			d.errorf(t.at("name"), `must not contain ":", which separates a notifier from a channel in targets`)
		}
		typ, ok := t.str("type")
		i := slices.IndexFunc(d.types, func(nt NotifierType) bool { return nt.Name == typ })
		switch {
		case !t.has("type"):
			d.errorf(t.at("type"), "missing (one of %s)", strings.Join(names, ", "))
		case ok && i < 0:
			msg := fmt.Sprintf("unknown notifier type %q (one of %s)", typ, strings.Join(names, ", "))
			if s := closest(typ, names); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			d.errorf(t.at("type"), "%s", msg)
		}
		n.Type = typ
		if v, ok := t.int("max_per_hour", 1); ok {
			n.MaxPerHour = v
		}
		if v, ok := t.str("pace"); ok {
			if p, err := ParsePace(v); err != nil {
				d.errorf(t.at("pace"), "%v", err)
			} else {
				n.Pace = &p
			}
		}
		if i >= 0 {
			keys := typeKeys[typ]
			for _, k := range known {
				if t.has(k) && !slices.Contains(commonNotifierKeys, k) && !slices.Contains(keys, k) {
					d.errorf(t.at(k), "not used by %s notifiers", typ)
				}
			}
			n.Settings = d.settings(t.only(append(slices.Clone(commonNotifierKeys), keys...)), d.types[i])
		}
		out = append(out, n)
	}
	return out
}

func (d *decoder) rules(root *table, c *Config) []Rule {
	var out []Rule
	first := map[string]int{}
	for _, t := range d.tables(root.at("rules"), root.m["rules"], ruleKeys) {
		r := Rule{
			Line:       d.lines.line(t.path),
			QueryLine:  t.line("query"),
			Timezone:   c.Alerts.Timezone,
			FollowUps:  DefaultFollowUps,
			MinSources: DefaultMinSources,
		}
		r.Name = d.name(t, "rule", first)
		q, ok := t.str("query")
		switch {
		case !t.has("query"):
			d.errorf(t.at("query"), "missing (every rule needs a query)")
		case ok && strings.TrimSpace(q) == "":
			d.errorf(t.at("query"), "must not be empty")
		}
		r.Query = q
		if t.has("notify") {
			r.Notify = d.targets(t, "notify", c.Notifiers)
			if v, isList := t.m["notify"].([]any); isList && len(v) == 0 && !d.rulesOnly {
				d.errorf(t.at("notify"), "must name at least one target")
			}
		} else if !d.rulesOnly {
			d.errorf(t.at("notify"), `missing (the targets of the rule's alerts, such as ["console"])`)
		}
		if v, ok := t.str("digest"); ok {
			digest, err := schedule.NormalizeDigest(v)
			if err != nil {
				d.errorf(t.at("digest"), "%v", digestError(err))
			}
			r.Digest = digest
		}
		if tz, ok := t.timezone("timezone"); ok {
			r.Timezone = tz
		}
		names, _ := t.strs("sources")
		for _, e := range names {
			if !d.rulesOnly && !slices.ContainsFunc(c.Sources, func(s Source) bool { return s.Name == e.value }) {
				d.unknownName(e.path, "source", e.value, sourceNames(c.Sources))
				continue
			}
			r.Sources = append(r.Sources, e.value)
		}
		if v, ok := t.str("follow_ups"); ok {
			if v != FollowUpsThread && v != FollowUpsNone {
				d.errorf(t.at("follow_ups"), "must be %q or %q, got %q", FollowUpsThread, FollowUpsNone, v)
			}
			r.FollowUps = v
		}
		if v, ok := t.int("min_sources", 1); ok {
			r.MinSources = v
		}
		if v, ok := t.duration("window"); ok {
			r.Window = v
		} else if r.MinSources > 1 {
			r.Window = DefaultSurgeWindow
		}
		out = append(out, r)
	}
	return out
}

// digestError is the error of a rule's digest setting, with a suggestion
// for a mistyped digest word.
func digestError(err error) error {
	var unknown *schedule.UnknownError
	if errors.As(err, &unknown) {
		if s := closest(unknown.Setting, schedule.Words); s != "" {
			return fmt.Errorf(`unknown digest %q; did you mean %q?`, unknown.Setting, s)
		}
	}
	return err
}

func (d *decoder) health(root *table, c *Config) Health {
	t := d.table(root.at("health"), root.m["health"], healthKeys)
	h := Health{AlertAfterFailures: DefaultAlertAfterFailures}
	if t.has("notify") {
		h.Notify = d.targets(t, "notify", c.Notifiers)
	}
	if v, ok := t.int("alert_after_failures", 1); ok {
		h.AlertAfterFailures = v
	}
	return h
}

// targets reads a list of targets, "notifier" or "notifier:channel", and
// checks them against the notifiers, unless the decoder reads rules only.
func (d *decoder) targets(t *table, key string, notifiers []Notifier) []Target {
	elems, _ := t.strs(key)
	var out []Target
	for _, e := range elems {
		tg, err := ParseTarget(e.value)
		if err != nil {
			d.errorf(e.path, "%v", err)
			continue
		}
		if !d.rulesOnly && !d.checkTarget(e.path, tg, notifiers) {
			continue
		}
		if slices.Contains(out, tg) {
			d.errorf(e.path, "target %q is listed twice", tg.String())
			continue
		}
		out = append(out, tg)
	}
	return out
}

// checkTarget reports, at p, a target that names no notifier or whose
// channel does not fit its notifier; it returns whether tg is valid.
func (d *decoder) checkTarget(p keyPath, tg Target, notifiers []Notifier) bool {
	if err := checkTarget(tg, notifiers, d.types); err != nil {
		d.errorf(p, "%v", err)
		return false
	}
	return true
}

// ParseTarget reads a target as written in notify lists: "notifier" or
// "notifier:channel". It does not check that the notifier exists.
func ParseTarget(s string) (Target, error) {
	name, channel, hasChannel := strings.Cut(s, ":")
	name, channel = strings.TrimSpace(name), strings.TrimSpace(channel)
	switch {
	case name == "":
		return Target{}, fmt.Errorf("target %q names no notifier", s)
	case hasChannel && channel == "":
		return Target{}, fmt.Errorf("target %q has an empty channel after %q", s, ":")
	}
	return Target{Notifier: name, Channel: channel}, nil
}

// unknownName reports a reference to a name that is not defined.
func (d *decoder) unknownName(p keyPath, what, name string, names []string) {
	d.errorf(p, "%v", unknownError(what, name, names))
}

func sourceNames(sources []Source) []string {
	names := make([]string, len(sources))
	for i, s := range sources {
		names[i] = s.Name
	}
	return names
}

func notifierNames(notifiers []Notifier) []string {
	names := make([]string, len(notifiers))
	for i, n := range notifiers {
		names[i] = n.Name
	}
	return names
}
