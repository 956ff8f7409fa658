package discord

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/bwmarrin/discordgo"
)

// describe returns err's text for a log line or an error message without
// the bot token or any of secrets (interaction tokens), and without request
// URLs, which carry interaction tokens.
func (a *Adapter) describe(err error, secrets ...string) string {
	var re *discordgo.RESTError
	var ue *url.Error
	var msg string
	switch {
	case errors.As(err, &re) && re.Response != nil:
		msg = fmt.Sprintf("status %d", re.Response.StatusCode)
		if re.Message != nil && re.Message.Message != "" {
			msg += ": " + re.Message.Message
			if re.Message.Code != 0 {
				msg += fmt.Sprintf(" (code %d)", re.Message.Code)
			}
		} else {
			msg += " " + http.StatusText(re.Response.StatusCode)
		}
	case errors.Is(err, context.DeadlineExceeded):
		msg = context.DeadlineExceeded.Error()
	case errors.Is(err, context.Canceled):
		msg = context.Canceled.Error()
	case errors.As(err, &ue):
		msg = ue.Op + ": " + ue.Err.Error()
	default:
		msg = err.Error()
	}
	for _, s := range append([]string{a.token, strings.TrimPrefix(a.token, "Bot ")}, secrets...) {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	return msg
}

// hint makes the commonest refusals of command registration actionable.
func hint(err error) string {
	var re *discordgo.RESTError
	if !errors.As(err, &re) || re.Response == nil {
		return ""
	}
	switch re.Response.StatusCode {
	case http.StatusUnauthorized:
		return "check the token"
	case http.StatusForbidden:
		return "check application_id, and that the bot was invited to the guild with the applications.commands scope"
	case http.StatusNotFound:
		return "check application_id and guild_id"
	}
	return ""
}
