package discord_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/notifiers/discord"
	"github.com/wirewatch/wirewatch/notifiers/discord/discordfake"
	"github.com/wirewatch/wirewatch/notifiers/notifiertest"
)

// webhookToken is the secret part of the test webhook URL.
const webhookToken = "wh-Secret_Token-0123456789abcdef"

func newWebhook(t *testing.T, url, threadID string) *discord.Webhook {
	t.Helper()
	w, err := discord.NewWebhook("ops-hook", &discord.WebhookConfig{URL: config.Secret(url), ThreadID: threadID}, notifiers.Env{})
	if err != nil {
		t.Fatalf("NewWebhook: %v", err)
	}
	return w
}

func TestWebhookExecutes(t *testing.T) {
	tests := []struct {
		name, url, threadID, wantThread string
	}{
		{"channel", "/api/webhooks/111/" + webhookToken, "", ""},
		{"thread from the entry", "/api/webhooks/111/" + webhookToken, "222", "222"},
		{"thread from the URL", "/api/v10/webhooks/111/" + webhookToken + "?thread_id=333", "", "333"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := discordfake.New(t)
			w := newWebhook(t, d.Base()+tt.url, tt.threadID)
			ctx := testCtx(t)
			ref, retry, err := w.Notify(ctx, notifiertest.Alert(func(a *notifiers.Alert) {
				a.Target = "ops-hook"
				a.Story.Title = "@everyone look"
			}))
			if err != nil || retry {
				t.Fatalf("Notify = %q, %v, %v", ref, retry, err)
			}
			msgs, err := d.WaitMessages(ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			m := msgs[0]
			if m.Method != http.MethodPost || m.Route != "/webhooks/111/"+webhookToken {
				t.Errorf("request %s %s", m.Method, m.Path)
			}
			if m.Query.Get("wait") != "true" || m.Query.Get("thread_id") != tt.wantThread {
				t.Errorf("query %v, want wait=true and thread_id=%q", m.Query, tt.wantThread)
			}
			if _, ok := m.Header["Authorization"]; ok {
				t.Errorf("webhook request sent Authorization %q", m.Header.Get("Authorization"))
			}
			if ref != m.ID || ref == "" {
				t.Errorf("ref %q, want message id %q", ref, m.ID)
			}
			checkNoMentions(t, m.Body)
			ms := sent(t, m)
			if len(ms.Embeds) != 1 || ms.Embeds[0].Title != "@\u200beveryone look" || ms.Embeds[0].Footer.Text != "Reuters · rule: nvidia-china" {
				t.Errorf("embeds = %+v", ms.Embeds)
			}
		})
	}
}

func TestWebhookHonoursAPIURL(t *testing.T) {
	d := discordfake.New(t)
	w, err := discord.NewWebhook("ops-hook", &discord.WebhookConfig{
		URL:    config.Secret("https://discord.com/api/webhooks/111/" + webhookToken),
		APIURL: d.Base() + "/api/v10/",
	}, notifiers.Env{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Notify(testCtx(t), notifiertest.Alert()); err != nil {
		t.Fatal(err)
	}
	if reqs := d.Requests(); len(reqs) != 1 || reqs[0].Path != "/api/v10/webhooks/111/"+webhookToken {
		t.Errorf("requests = %+v", reqs)
	}
}

func TestWebhookErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		retry  bool
		after  time.Duration
	}{
		{"rate limited", 429, `{"message":"You are being rate limited.","retry_after":1.5,"global":false}`, true, 1500 * time.Millisecond},
		{"server error", 500, ``, true, 0},
		{"unknown webhook", 404, `{"message":"Unknown Webhook","code":10015}`, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := discordfake.New(t)
			url := d.WebhookURL("111", webhookToken)
			w := newWebhook(t, url, "")
			d.FailNext("/webhooks/", tt.status, nil, tt.body)
			_, retry, err := w.Notify(testCtx(t), notifiertest.Alert())
			if err == nil || retry != tt.retry || notifiers.RetryAfter(err) != tt.after {
				t.Fatalf("Notify: retry %v, after %v, err %v; want retry %v after %v", retry, notifiers.RetryAfter(err), err, tt.retry, tt.after)
			}
			if !strings.Contains(err.Error(), `discord-webhook "ops-hook": execute`) {
				t.Errorf("err = %q", err)
			}
			notifiertest.AssertNoSecretLeak(t, err, webhookToken, url)
		})
	}

	url := notifiertest.ClosedURL(t) + "/api/webhooks/111/" + webhookToken
	w := newWebhook(t, url, "")
	_, retry, err := w.Notify(testCtx(t), notifiertest.Alert())
	if err == nil || !retry {
		t.Fatalf("refused connection: retry %v, err %v", retry, err)
	}
	notifiertest.AssertNoSecretLeak(t, err, webhookToken, url)
}

func TestNewWebhookRejectsBadConfig(t *testing.T) {
	for _, url := range []string{
		"",
		"https://discord.com/api/webhooks/111",
		"https://discord.com/api/webhooks/abc/" + webhookToken,
		"ftp://discord.com/api/webhooks/111/" + webhookToken,
		"not a url " + webhookToken,
	} {
		_, err := discord.NewWebhook("h", &discord.WebhookConfig{URL: config.Secret(url)}, notifiers.Env{})
		if err == nil {
			t.Errorf("NewWebhook(%q): want an error", url)
			continue
		}
		if strings.Contains(err.Error(), webhookToken) {
			t.Errorf("error leaks the token: %v", err)
		}
	}
	_, err := discord.NewWebhook("h", &discord.WebhookConfig{
		URL: config.Secret("https://discord.com/api/webhooks/111/" + webhookToken), ThreadID: "general"}, notifiers.Env{})
	if err == nil {
		t.Error("thread_id that is no id: want an error")
	}
}
