// Package webhook is the notifier that POSTs each alert's JSON payload to a
// URL of the user's choosing. The URL often carries a token, so it never
// appears in an error.
package webhook

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notifiers"
)

var _ notifiers.Notifier = (*Notifier)(nil)

// DefaultTimeout bounds a whole request when New is given no client.
const DefaultTimeout = notifiers.DefaultTimeout

// Notifier POSTs alerts to one webhook URL. It is safe for concurrent use.
type Notifier struct {
	name string
	url  config.Secret
	http *notifiers.HTTP
}

// New returns a Notifier named name that POSTs to url with client, or, when
// client is nil, with a client of its own that gives up after DefaultTimeout.
func New(name string, url config.Secret, client *http.Client) *Notifier {
	return &Notifier{
		name: name,
		url:  url,
		http: notifiers.NewHTTP(notifiers.Env{HTTPClient: client}, notifiers.URLSecrets(url.Reveal())...),
	}
}

// Notify POSTs a's payload as JSON with the header "Idempotency-Key:
// wirewatch-<alert id>", so a receiver can drop the repeat of a send whose
// answer was lost. A 2xx answer is success. 429, 5xx and network failures are
// worth retrying, and 429 and 503 carry their Retry-After as a
// *notifiers.RetryAfterError; any other answer is not. It returns no message
// reference.
func (n *Notifier) Notify(ctx context.Context, a *notifiers.Alert) (string, bool, error) {
	p := notifiers.NewPayload(a)
	if p.Target == "" {
		p.Target = n.name
	}
	body, err := p.JSONLine()
	if err != nil {
		return "", false, fmt.Errorf("webhook %q: encode: %w", n.name, err)
	}
	req := notifiers.JSON(n.url.Reveal(), body)
	req.Header = http.Header{"Idempotency-Key": {"wirewatch-" + strconv.FormatInt(a.ID, 10)}}
	_, retry, err := n.http.Send(ctx, req)
	if err != nil {
		return "", retry, fmt.Errorf("webhook %q: %w", n.name, err)
	}
	return "", false, nil
}
