package mattermost

import (
	"fmt"
	"regexp"
	"time"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notifiers"
)

// Config is a [[notifiers]] entry of type "mattermost": a bot account (or a
// user's personal access token) that posts through the REST API.
type Config struct {
	// URL is the Mattermost server, such as https://chat.example.com.
	URL string `toml:"url,required,http"`
	// Token is the bot's access token.
	Token config.Secret `toml:"token,required,nonempty"`
}

// WebhookConfig is a [[notifiers]] entry of type "mattermost-webhook".
type WebhookConfig struct {
	// URL is the incoming webhook's URL, https://chat.example.com/hooks/KEY.
	URL config.Secret `toml:"url,required,http"`
}

// channelRE matches a Mattermost channel id: 26 lower-case letters and digits.
var channelRE = regexp.MustCompile(`^[a-z0-9]{26}$`)

func checkChannel(ch string) error {
	if !channelRE.MatchString(ch) {
		return fmt.Errorf("a Mattermost channel is a channel id (26 letters and digits, under View Info in the channel's menu), got %q", ch)
	}
	return nil
}

// Mattermost's own rate limit is ten requests a second per client; a channel
// reads better at one message a second.
var pace = config.Pace{N: 1, Per: time.Second}

// Type is the Mattermost bot notifier type. A target names a channel by its
// id: "team-mm:4xp9fdt77pncbef59f4k1qe83o".
var Type = notifiers.Define(notifiers.Spec[Config]{
	Name:    "mattermost",
	Sample:  []string{`url = "https://chat.example.com"`, `token = "t"`},
	Channel: config.Channel{Use: config.RequiredChannel, Example: "CHANNEL_ID", Check: checkChannel},
	Pace:    pace,
	Build: func(name string, c *Config, env notifiers.Env) (notifiers.Notifier, error) {
		return New(name, c, env)
	},
})

// WebhookType is the Mattermost incoming-webhook notifier type; the webhook
// names the channel, so targets do not.
var WebhookType = notifiers.Define(notifiers.Spec[WebhookConfig]{
	Name:   "mattermost-webhook",
	Sample: []string{`url = "https://chat.example.com/hooks/k"`},
	Pace:   pace,
	Build: func(name string, c *WebhookConfig, env notifiers.Env) (notifiers.Notifier, error) {
		return NewWebhook(name, c, env)
	},
})
