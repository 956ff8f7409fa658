package slack

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notifiers"
)

// Config is a [[notifiers]] entry of type "slack": a bot that posts with a
// token and, given app_token or signing_secret, takes slash commands.
type Config struct {
	// Token is the bot token (xoxb-…).
	Token config.Secret `toml:"token,required,nonempty"`
	// AppToken (xapp-…) connects Socket Mode for slash commands.
	AppToken config.Secret `toml:"app_token,nonempty"`
	// SigningSecret checks slash commands posted to /slack/commands.
	SigningSecret config.Secret `toml:"signing_secret,nonempty"`
	// APIURL is the Web API base; empty means DefaultAPIURL.
	APIURL string `toml:"api_url,http"`
	// Admins are the Slack user ids allowed to manage sources and anyone's rules.
	Admins []string `toml:"admins,nonempty"`
}

// API returns the Web API base, ending in a slash as slack-go needs.
func (c *Config) API() (string, error) {
	apiURL := c.APIURL
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	if u, err := url.Parse(apiURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("api_url %q is not an http(s) URL", apiURL)
	}
	if !strings.HasSuffix(apiURL, "/") {
		apiURL += "/"
	}
	return apiURL, nil
}

// WebhookConfig is a [[notifiers]] entry of type "slack-webhook".
type WebhookConfig struct {
	// URL is the incoming webhook's URL; it holds the webhook's key.
	URL config.Secret `toml:"url,required,http"`
}

// Slack allows about one message per second to a channel.
var pace = config.Pace{N: 1, Per: time.Second}

// Type is the Slack bot notifier type. A target names a channel, "#name" or
// an id: "team-slack:#ai-policy".
var Type = notifiers.Define(notifiers.Spec[Config]{
	Name:    "slack",
	Sample:  []string{`token = "xoxb-1"`},
	Channel: config.Channel{Use: config.RequiredChannel, Example: "#channel"},
	Pace:    pace,
	Build: func(name string, c *Config, env notifiers.Env) (notifiers.Notifier, error) {
		return New(name, c, env)
	},
})

// WebhookType is the Slack incoming-webhook notifier type; the webhook names
// the channel, so targets do not.
var WebhookType = notifiers.Define(notifiers.Spec[WebhookConfig]{
	Name:   "slack-webhook",
	Sample: []string{`url = "https://hooks.slack.com/services/T/B/K"`},
	Pace:   pace,
	Build: func(name string, c *WebhookConfig, env notifiers.Env) (notifiers.Notifier, error) {
		return NewWebhook(name, c, env)
	},
})
