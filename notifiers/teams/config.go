package teams

import (
	"time"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notifiers"
)

// Config is a [[notifiers]] entry of type "teams".
type Config struct {
	// URL is the Workflows webhook's URL ("When a Teams webhook request is
	// received"); its sig parameter is the key, so it is a secret.
	URL config.Secret `toml:"url,required,http"`
}

// Type is the Microsoft Teams notifier type. The workflow names the team
// and channel (or chat), so targets do not.
var Type = notifiers.Define(notifiers.Spec[Config]{
	Name:   "teams",
	Sample: []string{`url = "https://example.logic.azure.com/workflows/1/triggers/manual/paths/invoke?sig=abc"`},
	Pace:   config.Pace{N: 1, Per: time.Second},
	Build: func(name string, c *Config, env notifiers.Env) (notifiers.Notifier, error) {
		return New(name, c, env)
	},
})
