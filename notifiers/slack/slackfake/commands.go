package slackfake

import "encoding/json"

// CheckMessage applies to a message's text and blocks (a JSON array, or
// nil) the limits the fake's chat.postMessage enforces, and returns the error
// code Slack would answer ("invalid_blocks", "msg_too_long", …), or "" when
// the message would be accepted. Command adapters use it on replies that
// travel as acks and response_url posts, which the fake does not check.
func CheckMessage(text string, blocks json.RawMessage) string {
	form := map[string][]string{"text": {text}}
	if blocks != nil {
		form["blocks"] = []string{string(blocks)}
	}
	return checkSlackMessage(form)
}
