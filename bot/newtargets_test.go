package bot_test

import (
	"context"
	"crypto/tls"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/notifiers/email"
	"github.com/wirewatch/wirewatch/notifiers/email/smtpfake"
	"github.com/wirewatch/wirewatch/notifiers/mattermost"
	"github.com/wirewatch/wirewatch/notifiers/mattermost/mattermostfake"
	"github.com/wirewatch/wirewatch/notifiers/telegram"
	"github.com/wirewatch/wirewatch/notifiers/telegram/telegramfake"
	"github.com/wirewatch/wirewatch/store"
)

const (
	tgToken   = "123:telegram-test-token"
	mmToken   = "mattermost-test-token"
	mmChannel = "4xp9fdt77pncbef59f4k1qe83o"
	tgChat    = "-1001234567890"
)

// newTargets are a Telegram bot, a Mattermost bot and a mailer, each talking
// to its local fake.
type newTargets struct {
	tg   *telegramfake.Telegram
	mm   *mattermostfake.Mattermost
	smtp *smtpfake.Server
}

func addNewTargets(t *testing.T, h *harness) *newTargets {
	t.Helper()
	nt := &newTargets{
		tg:   telegramfake.New(t, tgToken),
		mm:   mattermostfake.New(t, mmToken, "hook", mmChannel),
		smtp: smtpfake.New(t, smtpfake.Options{Security: smtpfake.StartTLS, Username: "u", Password: "p"}),
	}
	tg, err := telegram.New("tg", &telegram.Config{Token: tgToken, APIURL: nt.tg.URL()}, notifiers.Env{})
	if err != nil {
		t.Fatal(err)
	}
	mm, err := mattermost.New("mm", &mattermost.Config{URL: nt.mm.URL(), Token: mmToken}, notifiers.Env{})
	if err != nil {
		t.Fatal(err)
	}
	mail, err := email.New("mail", &email.Config{Host: nt.smtp.Host(), Port: nt.smtp.Port(), Username: "u", Password: "p",
		From: "alerts@example.com", To: []string{"policy@example.com"}}, notifiers.Env{},
		email.WithTLSConfig(&tls.Config{RootCAs: nt.smtp.CertPool()}))
	if err != nil {
		t.Fatal(err)
	}
	h.extra = map[string]notifiers.Notifier{"tg": tg, "mm": mm, "mail": mail}
	h.rules[0].Notify = []string{"tg:" + tgChat, "mm:" + mmChannel, "mail"}
	return nt
}

// The outbox keeps each first alert's message reference across a restart,
// and follow-ups reply under it on every platform that has replies.
func TestNewTargetsThreadFollowUpsAcrossARestart(t *testing.T) {
	h := newHarness(t)
	nt := addNewTargets(t, h)
	fourFeeds(h)
	h.start()
	h.once()
	h.feeds.add("/a", event[0])
	h.once()

	h.stop() // killed between the first alert and its follow-up
	h.start()
	h.feeds.add("/b", event[1])
	h.once()

	msgs := nt.tg.Messages()
	if len(msgs) != 2 || msgs[0].ReplyTo != 0 || msgs[1].ReplyTo != msgs[0].ID {
		t.Errorf("telegram messages %+v: want a follow-up replying to the first", msgs)
	}
	posts := nt.mm.Posts()
	if len(posts) != 2 || posts[0].RootID != "" || posts[1].RootID != posts[0].ID {
		t.Errorf("mattermost posts %+v: want a follow-up in the first post's thread", posts)
	}
	mails := nt.smtp.Mails()
	if len(mails) != 2 || mails[1].Header.Get("In-Reply-To") != mails[0].Header.Get("Message-ID") ||
		mails[1].Header.Get("References") != mails[0].Header.Get("Message-ID") {
		t.Errorf("mails: want the follow-up In-Reply-To the first")
	}
	sent, err := h.st.Deliveries(context.Background(), store.DeliveryQuery{Status: store.StatusSent})
	if err != nil || len(sent) != 6 {
		t.Fatalf("%d sent deliveries (%v), want 6", len(sent), err)
	}
	for _, d := range sent {
		if d.Kind == "" && d.Ref == "" {
			t.Errorf("first alert to %s kept no message reference", d.Target)
		}
	}
}

// A 429 with a wait is retried after that wait and delivered once; a refusal
// that cannot pass is kept as failed, with its reason, and the other targets
// are not held up.
func TestNewTargetsRetryAfterAndFailForGood(t *testing.T) {
	h := newHarness(t)
	nt := addNewTargets(t, h)
	h.feeds.set("/a")
	h.source("Feed A", "/a", 0)
	h.start()
	h.once()

	nt.tg.RateLimit(1)
	nt.mm.Fail(403, "You do not have the appropriate permissions.")
	nt.smtp.Fail(451, "try again later")
	h.feeds.add("/a", event[0])
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.bot.RunOnce(ctx, 10*time.Second); err == nil || !strings.Contains(err.Error(), "1 failed for good") {
		t.Fatalf("run once: %v, want it to report the one failed alert", err)
	}
	if got := len(nt.tg.Messages()); got != 1 {
		t.Fatalf("telegram got %d messages, want exactly 1", got)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("delivered %v after the 429, want at least retry_after: 1s", waited)
	}
	if got := len(nt.smtp.Mails()); got != 1 || nt.smtp.Tries() != 2 {
		t.Errorf("mail: %d delivered after %d tries, want 1 after 2", got, nt.smtp.Tries())
	}
	failed, err := h.st.Deliveries(ctx, store.DeliveryQuery{Status: store.StatusFailed})
	if err != nil || len(failed) != 1 || failed[0].Target != "mm:"+mmChannel || !strings.Contains(failed[0].LastError, "status 403") {
		t.Errorf("failed deliveries %+v (%v): want the Mattermost one, with its reason", failed, err)
	}
	sent, _ := h.st.Deliveries(ctx, store.DeliveryQuery{Status: store.StatusSent})
	for _, d := range sent {
		if d.Attempts != 2 {
			t.Errorf("%s sent after %d attempts, want 2", d.Target, d.Attempts)
		}
	}
}

// Over the hourly limit, a new target gets one summary message instead of a flood.
func TestNewTargetsFloodControl(t *testing.T) {
	h := newHarness(t)
	nt := addNewTargets(t, h)
	h.maxPerHour = map[string]int{"tg": 2, "mm": 2, "mail": 2}
	h.feeds.set("/a")
	h.source("Feed A", "/a", 0)
	h.start()
	h.once()
	for i := range 6 {
		h.feeds.add("/a", item{GUID: "f" + strconv.Itoa(i), Title: "Nvidia China story number " + strconv.Itoa(i) + " " + strings.Repeat("x", i),
			Link: "https://news.example/flood/" + strconv.Itoa(i), Published: t0})
	}
	h.once()
	tg := nt.tg.Messages()
	if len(tg) != 3 || !strings.HasPrefix(tg[2].Visible, "Summary — 4 more stories for nvidia-china") {
		t.Errorf("telegram got %d messages, last %q; want 2 alerts and a summary of 4", len(tg), tg[len(tg)-1].Visible)
	}
	if posts := nt.mm.Posts(); len(posts) != 3 || !strings.HasPrefix(posts[2].Message, "**Summary — 4 more stories") {
		t.Errorf("mattermost got %d posts; want 2 alerts and a summary", len(posts))
	}
	if mails := nt.smtp.Mails(); len(mails) != 3 || mails[2].Subject != "[wirewatch] Summary — 4 more stories for nvidia-china" {
		t.Errorf("mail got %d messages; want 2 alerts and a summary", len(mails))
	}
}
