package webhook

import (
	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notifiers"
)

// Config is a [[notifiers]] entry of type "webhook".
type Config struct {
	// URL receives the alerts; it often carries a token, so it is a secret.
	URL config.Secret `toml:"url,required,http"`
}

// Type is the webhook notifier type: each alert's JSON payload POSTed to a
// URL. Its targets name no channel, and it sends without pacing.
var Type = notifiers.Define(notifiers.Spec[Config]{
	Name:   "webhook",
	Sample: []string{`url = "http://127.0.0.1:9/hook"`},
	Build: func(name string, c *Config, env notifiers.Env) (notifiers.Notifier, error) {
		n := New(name, c.URL, env.HTTPClient)
		n.http.Now = env.Clock()
		return n, nil
	},
})
