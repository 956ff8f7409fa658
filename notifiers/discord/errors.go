package discord

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/wirewatch/wirewatch/notifiers"
)

// exchange is what the transport saw of one response: discordgo's errors do
// not always keep the status (a 502 past its retries, a 429 whose body is not
// JSON), and never a Retry-After header.
type exchange struct {
	status int
	header http.Header
}

type exchangeKey struct{}

// withExchange returns a context under which the transport records the
// response into ex. Client.Do calls RoundTrip on the calling goroutine, so
// reading ex after the call needs no lock.
func withExchange(ctx context.Context, ex *exchange) context.Context {
	return context.WithValue(ctx, exchangeKey{}, ex)
}

// recordingTransport records each response's status and headers into the
// exchange its request's context carries.
type recordingTransport struct {
	base http.RoundTripper
}

// RoundTrip sends r and notes the answer.
func (t recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if ex, ok := r.Context().Value(exchangeKey{}).(*exchange); ok && resp != nil {
		ex.status = resp.StatusCode
		ex.header = resp.Header
	}
	return resp, err
}

// hint makes the commonest refusals actionable.
func hint(code int, webhook bool) string {
	switch {
	case webhook && (code == http.StatusUnauthorized || code == http.StatusNotFound):
		return "check the webhook URL"
	case code == http.StatusUnauthorized:
		return "check the token"
	case code == http.StatusForbidden:
		return "check that the bot is in the server and may view the channel, send messages and embed links"
	case code == http.StatusNotFound:
		return "check the channel id"
	}
	return ""
}

// sendError turns a failed send into (retry, err). op names the operation
// ("post to channel 123"); webhook says whether it went through a webhook
// URL; red takes the secrets out of every message, and no discordgo error
// is wrapped whole, because their texts carry request URLs, which for
// webhooks hold the token.
func sendError(op string, webhook bool, err error, ex *exchange, now time.Time, red *notifiers.Redactor) (bool, error) {

	var rl *discordgo.RateLimitError
	var re *discordgo.RESTError
	var ue *url.Error
	switch {
	case errors.As(err, &rl):
		after := time.Duration(0)
		if rl.TooManyRequests != nil {
			after = rl.RetryAfter
		}
		if after <= 0 && ex.header != nil {
			after = notifiers.ParseRetryAfter(ex.header.Get("Retry-After"), now)
		}
		return true, &notifiers.RetryAfterError{After: after, Err: fmt.Errorf("%s: status 429: rate limited", op)}

	case errors.As(err, &re) && re.Response != nil:
		code := re.Response.StatusCode
		msg := fmt.Sprintf("%s: status %d", op, code)
		if re.Message != nil && re.Message.Message != "" {
			msg += ": " + re.Message.Message
			if re.Message.Code != 0 {
				msg += fmt.Sprintf(" (code %d)", re.Message.Code)
			}
		} else {
			msg += " " + http.StatusText(code)
		}
		if h := hint(code, webhook); h != "" {
			msg += "; " + h
		}
		return notifiers.RetryStatus(code), errors.New(red.String(msg))

	case ex.status == http.StatusTooManyRequests:
		// A 429 whose body discordgo could not read: the header still says how long.
		after := notifiers.ParseRetryAfter(ex.header.Get("Retry-After"), now)
		return true, &notifiers.RetryAfterError{After: after, Err: fmt.Errorf("%s: status 429: rate limited", op)}

	case ex.status != 0:
		// A status discordgo reported without a RESTError (a 502 past its
		// retries) or a body it could not read.
		return notifiers.RetryStatus(ex.status), fmt.Errorf("%s: status %d %s", op, ex.status, http.StatusText(ex.status))

	case errors.Is(err, context.DeadlineExceeded):
		return true, fmt.Errorf("%s: %w", op, context.DeadlineExceeded)

	case errors.Is(err, context.Canceled):
		return true, fmt.Errorf("%s: %w", op, context.Canceled)

	case errors.As(err, &ue):
		// A network error: the URL is left out, the cause kept.
		return true, red.Error(fmt.Errorf("%s: %s: %w", op, ue.Op, ue.Err))

	default:
		return true, errors.New(red.String(op + ": " + err.Error()))
	}
}
