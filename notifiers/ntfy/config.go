package ntfy

import (
	"fmt"
	"regexp"
	"time"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notifiers"
)

// DefaultURL is the ntfy server used when url is not set.
const DefaultURL = "https://ntfy.sh"

// Config is a [[notifiers]] entry of type "ntfy".
type Config struct {
	// URL is the ntfy server; empty means DefaultURL.
	URL string `toml:"url,http"`
	// Topic is where alerts go unless a target names another.
	Topic string `toml:"topic,required"`
	// Token is an access token ("tk_…") for a protected topic.
	Token config.Secret `toml:"token,nonempty"`
	// Username and Password log in instead of a token.
	Username string        `toml:"username,nonempty"`
	Password config.Secret `toml:"password,nonempty"`
	// Priority is 1 (min) to 5 (max); 0 means the server's default, 3.
	// Health alerts go out at 4 at least.
	Priority int `toml:"priority"`
	// Tags are added to every notification: emoji short codes such as
	// "newspaper" show as emoji, others as tags.
	Tags []string `toml:"tags,nonempty"`
}

// Check checks the topic, the priority and the credentials.
func (c *Config) Check(p *config.Problems) {
	if p.Has("topic") {
		if err := checkTopic(c.Topic); err != nil {
			p.Errorf("topic", "%v", err)
		}
	}
	if c.Priority < 0 || c.Priority > 5 {
		p.Errorf("priority", "must be 1 (min) to 5 (max), got %d", c.Priority)
	}
	if p.Has("token") && (p.Has("username") || p.Has("password")) {
		p.Errorf("token", "set either token or username and password, not both")
	}
	if p.Has("username") != p.Has("password") {
		p.Errorf("username", "username and password go together")
	}
}

// topicRE is what ntfy allows in a topic name.
var topicRE = regexp.MustCompile(`^[-_A-Za-z0-9]{1,64}$`)

func checkTopic(topic string) error {
	if !topicRE.MatchString(topic) {
		return fmt.Errorf("an ntfy topic is 1 to 64 letters, digits, - and _, got %q", topic)
	}
	return nil
}

// Type is the ntfy notifier type. "alerts-ntfy" goes to the entry's topic,
// "alerts-ntfy:other-topic" to another. ntfy.sh allows a burst of 60
// messages, then one every five seconds; one a second per topic keeps bursts
// short.
var Type = notifiers.Define(notifiers.Spec[Config]{
	Name:    "ntfy",
	Sample:  []string{`topic = "wirewatch"`},
	Channel: config.Channel{Use: config.OptionalChannel, Example: "TOPIC", Check: checkTopic},
	Pace:    config.Pace{N: 1, Per: time.Second},
	Build: func(name string, c *Config, env notifiers.Env) (notifiers.Notifier, error) {
		return New(name, c, env)
	},
})
