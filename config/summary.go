package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Summary describes the configuration for `wirewatch check`: a line of
// counts, then one line per source, rule and notifier. It shows no secrets,
// and of a source's URL only the host, since feed URLs may carry API keys.
// It has no final newline.
func (c *Config) Summary() string {
	var b strings.Builder
	names := notifierNames(c.Notifiers)
	fmt.Fprintf(&b, "%s: %s, %s, %s", c.File, count(len(c.Sources), "source"), count(len(c.Rules), "rule"),
		count(len(c.Notifiers), "notifier"))
	if len(names) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(names, ", "))
	}
	b.WriteByte('\n')
	for _, s := range c.Sources {
		fmt.Fprintf(&b, "  source %q: %s, %s\n", s.Name, urlHost(s.URL), c.sourceTiming(s))
	}
	for _, r := range c.Rules {
		targets := make([]string, len(r.Notify))
		for i, t := range r.Notify {
			targets[i] = t.String()
		}
		mode := "instant"
		if r.Digest != "" {
			mode = fmt.Sprintf("digest %s (%s)", r.Digest, r.Timezone)
		}
		if r.MinSources > 1 {
			mode += fmt.Sprintf(", surge: %d sources within %s", r.MinSources, shortDuration(r.Window))
		}
		fmt.Fprintf(&b, "  rule %q: %s → %s\n", r.Name, mode, strings.Join(targets, ", "))
	}
	for _, n := range c.Notifiers {
		fmt.Fprintf(&b, "  notifier %q: %s\n", n.Name, n.Type)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func (c *Config) sourceTiming(s Source) string {
	switch {
	case s.Schedule != "":
		return fmt.Sprintf("schedule %q", s.Schedule)
	case s.Interval > 0:
		return "every " + shortDuration(s.Interval)
	default:
		return "every " + shortDuration(c.Fetch.Interval) + " (default)"
	}
}

// urlHost returns the host of a source URL, or its scheme for file URLs.
func urlHost(s string) string {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return "invalid URL"
	case u.Host != "":
		return u.Host
	default:
		return u.Scheme + " URL"
	}
}

func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// shortDuration writes 10m rather than 10m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
