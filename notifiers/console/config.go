package console

import (
	"os"
	"strings"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notifiers"
)

// Config is a [[notifiers]] entry of type "console".
type Config struct {
	// Path is a file to append alerts to; empty: standard output.
	Path string `toml:"path"`
}

// Check refuses an empty path, which would mean neither a file nor stdout.
func (c *Config) Check(p *config.Problems) {
	if p.Has("path") && strings.TrimSpace(c.Path) == "" {
		p.Errorf("path", "must not be empty (leave it out for stdout)")
	}
}

// Type is the console notifier type: JSON Lines on standard output or in a
// file. Its targets name no channel, and it sends without pacing.
var Type = notifiers.Define(notifiers.Spec[Config]{
	Name: "console",
	Build: func(name string, c *Config, env notifiers.Env) (notifiers.Notifier, error) {
		if c.Path != "" {
			return Open(name, c.Path)
		}
		if env.Stdout == nil {
			return New(name, os.Stdout), nil
		}
		return New(name, env.Stdout), nil
	},
})
