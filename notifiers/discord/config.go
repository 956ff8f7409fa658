package discord

import (
	"fmt"
	"strings"
	"time"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notifiers"
)

// Config is a [[notifiers]] entry of type "discord": a bot that posts to
// channels by id and, with an application id, takes slash commands.
type Config struct {
	// Token is the bot token ("Bot " is added when missing).
	Token config.Secret `toml:"token,required,nonempty"`
	// ApplicationID is the application's id, for registering commands.
	ApplicationID string `toml:"application_id,required"`
	// PublicKey is the application's Ed25519 public key, hex; with it,
	// interactions are taken over HTTP at /discord/interactions.
	PublicKey config.Secret `toml:"public_key"`
	// GuildID, when set, registers commands in that guild only (at once)
	// instead of globally.
	GuildID string `toml:"guild_id"`
	// APIURL overrides the REST API base for the whole process.
	APIURL string `toml:"api_url,http"`
	// Admins are the Discord user ids allowed to manage sources and anyone's rules.
	Admins []string `toml:"admins,nonempty"`
}

// Check checks the ids and the public key.
func (c *Config) Check(p *config.Problems) {
	if p.Has("application_id") && !isSnowflake(c.ApplicationID) {
		p.Errorf("application_id", "must be a Discord id (digits), got %q", c.ApplicationID)
	}
	if c.GuildID != "" && !isSnowflake(c.GuildID) {
		p.Errorf("guild_id", "must be a Discord id (digits), got %q", c.GuildID)
	}
	if pk := c.PublicKey.Reveal(); p.Has("public_key") && (len(pk) != 64 || strings.Trim(strings.ToLower(pk), "0123456789abcdef") != "") {
		p.Errorf("public_key", "must be 64 hexadecimal characters (the application's Ed25519 public key)")
	}
}

// WebhookConfig is a [[notifiers]] entry of type "discord-webhook".
type WebhookConfig struct {
	// URL is the webhook's URL, https://discord.com/api/webhooks/ID/TOKEN.
	URL config.Secret `toml:"url,required,http"`
	// ThreadID posts into that thread of the webhook's channel.
	ThreadID string `toml:"thread_id"`
	// APIURL, set in code (not a configuration key), sends the execute call
	// to another API base than the URL's host.
	APIURL string
}

// Check checks the thread id.
func (c *WebhookConfig) Check(p *config.Problems) {
	if c.ThreadID != "" && !isSnowflake(c.ThreadID) {
		p.Errorf("thread_id", "must be a Discord id (digits), got %q", c.ThreadID)
	}
}

// Discord allows about five messages per five seconds to one channel; going
// over costs a 429 and counts towards the invalid-request ban.
var pace = config.Pace{N: 5, Per: 5 * time.Second}

// Type is the Discord bot notifier type. A target names a channel by its id:
// "ops-discord:1234567890".
var Type = notifiers.Define(notifiers.Spec[Config]{
	Name:   "discord",
	Sample: []string{`token = "t"`, `application_id = "1"`},
	Channel: config.Channel{Use: config.RequiredChannel, Example: "CHANNEL_ID", Check: func(ch string) error {
		if !isSnowflake(ch) {
			return fmt.Errorf("a Discord channel is a channel id (digits), got %q", ch)
		}
		return nil
	}},
	Pace: pace,
	Build: func(name string, c *Config, env notifiers.Env) (notifiers.Notifier, error) {
		return New(name, c, env)
	},
})

// WebhookType is the Discord webhook notifier type; the webhook names the
// channel, so targets do not.
var WebhookType = notifiers.Define(notifiers.Spec[WebhookConfig]{
	Name:   "discord-webhook",
	Sample: []string{`url = "https://discord.com/api/webhooks/1/abc"`},
	Pace:   pace,
	Build: func(name string, c *WebhookConfig, env notifiers.Env) (notifiers.Notifier, error) {
		return NewWebhook(name, c, env)
	},
})
