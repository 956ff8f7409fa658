package telegram

import (
	"fmt"
	"regexp"
	"time"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notifiers"
)

// DefaultAPIURL is the Bot API server used when api_url is not set.
const DefaultAPIURL = "https://api.telegram.org"

// Config is a [[notifiers]] entry of type "telegram".
type Config struct {
	// Token is the bot's token from @BotFather ("123456:ABC-…").
	Token config.Secret `toml:"token,required,nonempty"`
	// APIURL is the Bot API server: a local Bot API server, a proxy, a test
	// fake. Empty means DefaultAPIURL.
	APIURL string `toml:"api_url,http"`
}

// chatRE matches a chat: a numeric id (negative for groups and channels) or
// a public channel's @username.
var chatRE = regexp.MustCompile(`^(-?[0-9]{1,20}|@[A-Za-z][A-Za-z0-9_]{3,31})$`)

func checkChat(chat string) error {
	if !chatRE.MatchString(chat) {
		return fmt.Errorf("a Telegram chat is a chat id such as -1001234567890 or a channel's @username, got %q", chat)
	}
	return nil
}

// Type is the Telegram notifier type. A target names a chat:
// "news-telegram:-1001234567890" or "news-telegram:@channelname". Telegram
// takes about one message a second in a chat and twenty a minute in a group,
// so the default pace is one message every three seconds per chat.
var Type = notifiers.Define(notifiers.Spec[Config]{
	Name:    "telegram",
	Sample:  []string{`token = "1:abc"`},
	Channel: config.Channel{Use: config.RequiredChannel, Example: "CHAT_ID", Check: checkChat},
	Pace:    config.Pace{N: 1, Per: 3 * time.Second},
	Build: func(name string, c *Config, env notifiers.Env) (notifiers.Notifier, error) {
		return New(name, c, env)
	},
})
