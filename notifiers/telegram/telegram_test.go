package telegram_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/notifiers/notifiertest"
	"github.com/wirewatch/wirewatch/notifiers/telegram"
	"github.com/wirewatch/wirewatch/notifiers/telegram/telegramfake"
	"github.com/wirewatch/wirewatch/store"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func newNotifier(t *testing.T, apiURL string) *telegram.Notifier {
	t.Helper()
	n, err := telegram.New("news-telegram", &telegram.Config{Token: token, APIURL: apiURL}, notifiers.Env{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func to(chat string, opts ...func(*notifiers.Alert)) *notifiers.Alert {
	return notifiertest.Alert(append([]func(*notifiers.Alert){func(a *notifiers.Alert) {
		a.Target, a.Channel = "news-telegram:"+chat, chat
	}}, opts...)...)
}

func TestSendMessage(t *testing.T) {
	fake := telegramfake.New(t, token)
	n := newNotifier(t, fake.URL()+"/")
	ctx := t.Context()
	ref, retry, err := n.Notify(ctx, to("-1001234567890"))
	if err != nil || retry || ref == "" {
		t.Fatalf("Notify = %q, %v, %v", ref, retry, err)
	}
	if _, _, err := n.Notify(ctx, to("@wirewatch_news")); err != nil {
		t.Fatal(err)
	}
	msgs := fake.Messages()
	m := msgs[0]
	if m.ChatID != "-1001234567890" || msgs[1].ChatID != "@wirewatch_news" || m.ParseMode != "HTML" || !m.PreviewDisabled || m.ReplyTo != 0 {
		t.Errorf("message %+v / chat %q: want both chats, HTML, no preview, no reply", m, msgs[1].ChatID)
	}
	if ref != itoa(m.ID) {
		t.Errorf("ref %q, want the message id %d", ref, m.ID)
	}
	want := `<a href="https://www.reuters.com/technology/nvidia-china-chip-2026-11-28/"><b>Nvidia</b> readies new <b>China</b> chip as US tightens export rules</a>` +
		"\n" + `<b>Nvidia</b> is preparing a new AI chip for <b>China</b> that meets the latest US export controls, people familiar with the matter said.` +
		"\n<i>Reuters · 28 Nov 2026 09:00 UTC · rule: nvidia-china</i>"
	if m.Text != want {
		t.Errorf("text:\n%s\nwant:\n%s", m.Text, want)
	}
}

func TestFollowUpReplies(t *testing.T) {
	fake := telegramfake.New(t, token)
	n := newNotifier(t, fake.URL())
	ref, _, err := n.Notify(t.Context(), to("42"))
	if err != nil {
		t.Fatal(err)
	}
	followUp := to("42", func(a *notifiers.Alert) {
		a.Kind, a.ParentRef = store.KindFollowUp, ref
		a.Story.Source = "AP"
	})
	if _, _, err := n.Notify(t.Context(), followUp); err != nil {
		t.Fatal(err)
	}
	m := fake.Messages()[1]
	if itoa(m.ReplyTo) != ref || !m.AllowWithoutReply || !strings.HasPrefix(m.Visible, "Also reported by AP\n") {
		t.Errorf("follow-up %+v: want a reply to %s that says who else reported it", m, ref)
	}
}

func TestRefusals(t *testing.T) {
	tests := []struct {
		name   string
		script func(*telegramfake.Telegram)
		retry  bool
		wait   time.Duration
		want   string
	}{
		{"chat not found", func(f *telegramfake.Telegram) { f.Fail(400, "Bad Request: chat not found") }, false, 0,
			`telegram "news-telegram": send to chat 42: status 400: Bad Request: chat not found; check the chat id and that the bot is a member`},
		{"blocked", func(f *telegramfake.Telegram) { f.Fail(403, "Forbidden: bot was blocked by the user") }, false, 0,
			"Forbidden: bot was blocked by the user; add the bot to the chat"},
		{"rate limited", func(f *telegramfake.Telegram) { f.RateLimit(5) }, true, 5 * time.Second,
			"status 429: Too Many Requests: retry after 5 (retry after 5s)"},
		{"server error", func(f *telegramfake.Telegram) { f.Fail(502, "Bad Gateway") }, true, 0, "status 502: Bad Gateway"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := telegramfake.New(t, token)
			tt.script(fake)
			_, retry, err := newNotifier(t, fake.URL()).Notify(t.Context(), to("42"))
			if err == nil || retry != tt.retry || notifiers.RetryAfter(err) != tt.wait || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Notify: retry %v, wait %v, err %v; want retry %v, wait %v, %q", retry, notifiers.RetryAfter(err), err, tt.retry, tt.wait, tt.want)
			}
		})
	}
	fake := telegramfake.New(t, "another-token")
	_, retry, err := newNotifier(t, fake.URL()).Notify(t.Context(), to("42"))
	if err == nil || retry || !strings.Contains(err.Error(), "status 401: Unauthorized; check the bot token") {
		t.Errorf("wrong token: retry %v, err %v", retry, err)
	}
	notifiertest.AssertNoSecretLeak(t, err, token)
}

func TestNetworkErrorHidesTheToken(t *testing.T) {
	_, retry, err := newNotifier(t, notifiertest.ClosedURL(t)).Notify(context.Background(), to("42"))
	if err == nil || !retry {
		t.Fatalf("Notify to a closed port: retry %v, err %v", retry, err)
	}
	notifiertest.AssertNoSecretLeak(t, err, token)
}

func TestBadChatIsNotSent(t *testing.T) {
	fake := telegramfake.New(t, token)
	for _, chat := range []string{"", "#general", "@ab", "12a"} {
		_, retry, err := newNotifier(t, fake.URL()).Notify(t.Context(), to(chat))
		if err == nil || retry {
			t.Errorf("chat %q: retry %v, err %v; want a permanent error", chat, retry, err)
		}
	}
	if fake.Calls() != 0 {
		t.Errorf("%d calls for bad chats", fake.Calls())
	}
}

func TestConfig(t *testing.T) {
	types := []config.NotifierType{telegram.Type.NotifierType}
	doc := func(lines ...string) []byte { return []byte(strings.Join(lines, "\n") + "\n") }
	c, err := config.Parse("t.toml", doc(`[[notifiers]]`, `name = "tg"`, `type = "telegram"`, `token = "${TG}"`,
		`[[rules]]`, `name = "r"`, `query = "x"`, `notify = ["tg:-100123", "tg:@news_room"]`),
		func(string) (string, bool) { return token, true }, types)
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Notifiers[0].Settings.(*telegram.Config); s.Token.Reveal() != token || s.APIURL != "" {
		t.Errorf("settings %+v", s)
	}
	_, err = config.Parse("t.toml", doc(`[[notifiers]]`, `name = "tg"`, `type = "telegram"`, `api_url = "api.telegram.org"`,
		`[[rules]]`, `name = "r"`, `query = "x"`, `notify = ["tg", "tg:#news"]`), nil, types)
	want := []string{
		`t.toml:1: notifiers[0].token: missing (required for telegram notifiers)`,
		`t.toml:4: notifiers[0].api_url: must be an http:// or https:// URL with a host`,
		`t.toml:8: rules[0].notify[0]: telegram notifier "tg" needs a channel: write "tg:CHAT_ID"`,
		`t.toml:8: rules[0].notify[1]: a Telegram chat is a chat id such as -1001234567890 or a channel's @username, got "#news"`,
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Errorf("errors:\n%v\nwant:\n%s", err, strings.Join(want, "\n"))
	}
}

func TestHeldSendEndsWithItsContext(t *testing.T) {
	fake := telegramfake.New(t, token)
	release := make(chan struct{})
	defer close(release)
	fake.Hold(release)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, retry, err := newNotifier(t, fake.URL()).Notify(ctx, to("42"))
	if !retry || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("held send: retry %v, err %v", retry, err)
	}
	_ = http.StatusOK
}
