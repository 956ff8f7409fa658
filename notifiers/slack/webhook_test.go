package slack_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/notifiers/notifiertest"
	"github.com/wirewatch/wirewatch/notifiers/slack"
)

const hookPath = "/services/T0000/B0000/s3cretWebhookKey"

func newWebhook(t *testing.T, url string) *slack.Webhook {
	t.Helper()
	w, err := slack.NewWebhook("team-hook", &slack.WebhookConfig{URL: config.Secret(url)}, notifiers.Env{})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestWebhookPosts(t *testing.T) {
	ctx := testContext(t)
	rcv := notifiertest.NewReceiver(t)
	rcv.SetDefault(notifiertest.Response{Body: "ok"})
	w := newWebhook(t, rcv.URL()+hookPath)

	a := notifiertest.Alert(func(a *notifiers.Alert) { a.Story.Title = "<!channel> & news" })
	ref, retry, err := w.Notify(ctx, a)
	if err != nil || retry || ref != "" {
		t.Fatalf("Notify: ref %q, retry %v, err %v", ref, retry, err)
	}
	reqs, err := rcv.Wait(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Path != hookPath || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request %s %s (%s)", r.Method, r.Path, r.Header.Get("Content-Type"))
	}
	var body struct {
		Text        string            `json:"text"`
		Blocks      []json.RawMessage `json:"blocks"`
		UnfurlLinks *bool             `json:"unfurl_links"`
		UnfurlMedia *bool             `json:"unfurl_media"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.Text != "&lt;!channel&gt; &amp; news — Reuters" {
		t.Errorf("text %q", body.Text)
	}
	if len(body.Blocks) != 2 {
		t.Errorf("%d blocks, want a section and a context", len(body.Blocks))
	}
	if body.UnfurlLinks == nil || *body.UnfurlLinks || body.UnfurlMedia == nil || *body.UnfurlMedia {
		t.Errorf("unfurl_links %v, unfurl_media %v; want both sent as false", body.UnfurlLinks, body.UnfurlMedia)
	}
	if strings.Contains(string(r.Body), "<!channel>") {
		t.Errorf("unescaped mention in %s", r.Body)
	}
}

func TestWebhookFailures(t *testing.T) {
	tests := []struct {
		name      string
		resp      notifiertest.Response
		retry     bool
		wait      time.Duration
		errSubstr string
	}{
		{"429 with Retry-After", notifiertest.Response{Status: 429, Header: http.Header{"Retry-After": {"2"}}, Body: "rate_limited"},
			true, 2 * time.Second, "status 429: rate_limited"},
		{"429 without Retry-After", notifiertest.Response{Status: 429}, true, 0, "status 429"},
		{"500", notifiertest.Response{Status: 500, Body: "<html>boom</html>"}, true, 0, "status 500"},
		{"503", notifiertest.Response{Status: 503}, true, 0, "status 503"},
		{"404", notifiertest.Response{Status: 404, Body: "no_service"}, false, 0, "status 404: no_service"},
		{"400", notifiertest.Response{Status: 400, Body: "invalid_payload"}, false, 0, "status 400: invalid_payload"},
		{"403 echoing the URL", notifiertest.Response{Status: 403, Body: "bad hook " + hookPath}, false, 0, "status 403: bad hook [redacted]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			rcv := notifiertest.NewReceiver(t)
			rcv.Respond(tt.resp)
			url := rcv.URL() + hookPath
			_, retry, err := newWebhook(t, url).Notify(ctx, notifiertest.Alert())
			if err == nil {
				t.Fatal("Notify succeeded, want an error")
			}
			if retry != tt.retry || notifiers.RetryAfter(err) != tt.wait {
				t.Errorf("retry %v, wait %v; want %v, %v", retry, notifiers.RetryAfter(err), tt.retry, tt.wait)
			}
			if !strings.Contains(err.Error(), tt.errSubstr) || !strings.HasPrefix(err.Error(), `slack-webhook "team-hook": `) {
				t.Errorf("error %q, want it to name the notifier and contain %q", err, tt.errSubstr)
			}
			notifiertest.AssertNoSecretLeak(t, err, url, hookPath, "s3cretWebhookKey")
		})
	}
}

func TestWebhookNetworkErrorAndTimeout(t *testing.T) {
	ctx := testContext(t)
	url := notifiertest.ClosedURL(t) + hookPath
	_, retry, err := newWebhook(t, url).Notify(ctx, notifiertest.Alert())
	if err == nil || !retry {
		t.Fatalf("Notify to a closed port: %v, retry %v; want a retried error", err, retry)
	}
	notifiertest.AssertNoSecretLeak(t, err, url, hookPath)

	rcv := notifiertest.NewReceiver(t)
	rcv.Respond(notifiertest.Response{Hold: make(chan struct{})})
	url = rcv.URL() + hookPath
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, retry, err = newWebhook(t, url).Notify(short, notifiertest.Alert())
	if !errors.Is(err, context.DeadlineExceeded) || !retry {
		t.Errorf("Notify past its deadline: %v, retry %v; want DeadlineExceeded, retry", err, retry)
	}
	notifiertest.AssertNoSecretLeak(t, err, url, hookPath)
}

func TestNewWebhook(t *testing.T) {
	secret := "https://hooks.slack.com" + hookPath
	tests := []struct {
		cfg  *slack.WebhookConfig
		want string
	}{
		{&slack.WebhookConfig{}, "url is empty"},
		{&slack.WebhookConfig{URL: "ftp://x" + hookPath}, "not an http(s) URL"},
		{&slack.WebhookConfig{URL: config.Secret(secret + "\x7f")}, "not an http(s) URL"},
	}
	for _, tt := range tests {
		_, err := slack.NewWebhook("h", tt.cfg, notifiers.Env{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewWebhook(%+v): %v, want %q", tt.cfg, err, tt.want)
			continue
		}
		notifiertest.AssertNoSecretLeak(t, err, hookPath)
	}
}
