package discordfake

import (
	"context"
	"strconv"
)

// Helpers for testing slash commands against the fake Discord.

// Autocomplete returns an autocomplete interaction (type 4) for /name, built
// as SlashCommand builds a command; mark the option being typed with
// "focused": true, for example
//
//	map[string]any{"name": "remove", "type": 1, "options": []any{
//		map[string]any{"name": "id", "type": 3, "value": "1", "focused": true}}}
func (d *Discord) Autocomplete(channelID, userID, name string, options ...map[string]any) map[string]any {
	ic := d.SlashCommand(channelID, userID, name, options...)
	ic["type"] = 4
	return ic
}

// WithPermissions sets the invoking member's permissions (a bit set, sent as
// a string as Discord sends it) in an interaction made by SlashCommand or
// Autocomplete, and returns the interaction.
func WithPermissions(interaction map[string]any, permissions int64) map[string]any {
	if m, ok := interaction["member"].(map[string]any); ok {
		m["permissions"] = strconv.FormatInt(permissions, 10)
	}
	return interaction
}

// WaitGatewayClosed blocks until no gateway websocket is open.
func (d *Discord) WaitGatewayClosed(ctx context.Context) error {
	return d.waitFor(ctx, "all gateway connections closed", func() bool { return len(d.conns) == 0 })
}
