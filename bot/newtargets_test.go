package bot_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/notifiers/email/smtpfake"
	"github.com/wirewatch/wirewatch/notifiers/mattermost/mattermostfake"
	"github.com/wirewatch/wirewatch/notifiers/ntfy/ntfyfake"
	"github.com/wirewatch/wirewatch/notifiers/registry"
	"github.com/wirewatch/wirewatch/notifiers/teams/teamsfake"
	"github.com/wirewatch/wirewatch/notifiers/telegram/telegramfake"
	"github.com/wirewatch/wirewatch/store"
)

const (
	tgToken   = "123:telegram-test-token"
	mmToken   = "mattermost-test-token"
	mmHookKey = "mattermost-test-hook-key"
	mmChannel = "4xp9fdt77pncbef59f4k1qe83o"
	tgChat    = "-1001234567890"
	ntfyToken = "tk_ntfytesttoken0123456789"
	teamsSig  = "teams-test-signature-0123456789"
	smtpPass  = "smtp-test-password"
)

// newTargets are the notifier types issue 14 added, each talking to a local
// fake of its platform: Telegram, Mattermost (bot and webhook, each on its
// own server), e-mail, Microsoft Teams and ntfy.
type newTargets struct {
	tg     *telegramfake.Telegram
	mm     *mattermostfake.Mattermost
	mmhook *mattermostfake.Mattermost
	smtp   *smtpfake.Server
	teams  *teamsfake.Teams
	ntfy   *ntfyfake.Ntfy
}

// newTargetNames are the notifiers' names, as the rules' targets and the
// flood limits name them.
var newTargetNames = []string{"tg", "mm", "mmhook", "mail", "teams", "ntfy"}

// addNewTargets configures the new targets the way `wirewatch run` does: a
// [[notifiers]] file read with the registry's types, every notifier built by
// the registry behind its pacing stage. The pace is raised so the tests do
// not wait on it; the e-mail goes to a loopback server without TLS (the
// e-mail package's own tests cover STARTTLS and implicit TLS).
func addNewTargets(t *testing.T, h *harness) *newTargets {
	t.Helper()
	nt := &newTargets{
		tg:     telegramfake.New(t, tgToken),
		mm:     mattermostfake.New(t, mmToken, "unused", mmChannel),
		mmhook: mattermostfake.New(t, "unused", mmHookKey),
		smtp:   smtpfake.New(t, smtpfake.Options{Security: smtpfake.Plain, Username: "u", Password: smtpPass}),
		teams:  teamsfake.New(t, teamsSig),
		ntfy:   ntfyfake.New(t, "Bearer "+ntfyToken),
	}
	entry := func(name, typ string, keys ...string) string {
		return fmt.Sprintf("[[notifiers]]\nname = %q\ntype = %q\npace = \"100/1s\"\n%s\n", name, typ, strings.Join(keys, "\n"))
	}
	file := entry("tg", "telegram", `token = "${TG_TOKEN}"`, `api_url = "`+nt.tg.URL()+`"`) +
		entry("mm", "mattermost", `url = "`+nt.mm.URL()+`"`, `token = "${MM_TOKEN}"`) +
		entry("mmhook", "mattermost-webhook", `url = "`+nt.mmhook.HookURL()+`"`) +
		entry("mail", "email", `host = "`+nt.smtp.Host()+`"`, `port = `+strconv.Itoa(nt.smtp.Port()), `tls = "none"`,
			`username = "u"`, `password = "${SMTP_PASSWORD}"`, `from = "wirewatch <alerts@example.com>"`, `to = ["policy@example.com"]`) +
		entry("teams", "teams", `url = "`+nt.teams.URL()+`"`) +
		entry("ntfy", "ntfy", `url = "`+nt.ntfy.URL()+`"`, `topic = "wirewatch-chips"`, `token = "${NTFY_TOKEN}"`)
	env := map[string]string{"TG_TOKEN": tgToken, "MM_TOKEN": mmToken, "SMTP_PASSWORD": smtpPass, "NTFY_TOKEN": ntfyToken}
	cfg, err := config.Parse("targets.toml", []byte(file), func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		registry.ConfigTypes())
	if err != nil {
		t.Fatal(err)
	}
	set, err := registry.Build(cfg.Notifiers, notifiers.Env{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = set.Close() })
	h.extra = set.Notifiers
	h.rules[0].Notify = []string{"tg:" + tgChat, "mm:" + mmChannel, "mmhook", "mail", "teams", "ntfy"}
	return nt
}

// seen returns, by notifier name, what a person sees of every message its
// platform got so far, oldest first.
func (nt *newTargets) seen() map[string][]string {
	out := map[string][]string{}
	for _, m := range nt.tg.Messages() {
		out["tg"] = append(out["tg"], m.Visible)
	}
	// Mattermost's bold terms, without their markup.
	for _, p := range nt.mm.Posts() {
		out["mm"] = append(out["mm"], strings.ReplaceAll(p.Message, "**", ""))
	}
	for _, p := range nt.mmhook.Posts() {
		out["mmhook"] = append(out["mmhook"], strings.ReplaceAll(p.Message, "**", ""))
	}
	for _, m := range nt.smtp.Mails() {
		out["mail"] = append(out["mail"], m.Subject+"\n"+m.Text)
	}
	// A card's text blocks are lines; text runs (the title's, its terms
	// bold) are joined as they read.
	for _, c := range nt.teams.Cards() {
		var b strings.Builder
		for i, tx := range c.Texts {
			if i > 0 && (tx.Element != "TextRun" || c.Texts[i-1].Element != "TextRun") {
				b.WriteString("\n")
			}
			b.WriteString(tx.Text)
		}
		out["teams"] = append(out["teams"], b.String())
	}
	for _, n := range nt.ntfy.Notifications() {
		out["ntfy"] = append(out["ntfy"], n.Title+"\n"+n.Message)
	}
	return out
}

// want checks that every target got one message per entry of each, the
// message holding the entry's texts.
func (nt *newTargets) want(t *testing.T, each ...[]string) {
	t.Helper()
	seen := nt.seen()
	for _, name := range newTargetNames {
		msgs := seen[name]
		if len(msgs) != len(each) {
			t.Errorf("%s got %d messages, want %d:\n%s", name, len(msgs), len(each), strings.Join(msgs, "\n---\n"))
			continue
		}
		for i, texts := range each {
			for _, text := range texts {
				if !strings.Contains(msgs[i], text) {
					t.Errorf("%s message %d lacks %q:\n%s", name, i+1, text, msgs[i])
				}
			}
		}
	}
}

// The outbox keeps each first alert's message reference across a restart:
// follow-ups reply under it where the platform has replies (Telegram's
// reply, Mattermost's root_id, e-mail's In-Reply-To and References) and are
// messages of their own, saying so, where it has none (Teams, ntfy, a
// Mattermost webhook).
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

	nt.want(t, []string{event[0].Title}, []string{"Also reported by Outlet b", event[1].Title})
	if msgs := nt.tg.Messages(); len(msgs) != 2 || msgs[0].ReplyTo != 0 || msgs[1].ReplyTo != msgs[0].ID {
		t.Errorf("telegram messages %+v: want a follow-up replying to the first", msgs)
	}
	if posts := nt.mm.Posts(); len(posts) != 2 || posts[0].RootID != "" || posts[1].RootID != posts[0].ID {
		t.Errorf("mattermost posts %+v: want a follow-up in the first post's thread", posts)
	}
	if posts := nt.mmhook.Posts(); len(posts) != 2 || posts[1].RootID != "" {
		t.Errorf("mattermost webhook posts %+v: want a follow-up of its own", posts)
	}
	mails := nt.smtp.Mails()
	if len(mails) != 2 || mails[1].Header.Get("In-Reply-To") != mails[0].Header.Get("Message-ID") ||
		mails[1].Header.Get("References") != mails[0].Header.Get("Message-ID") {
		t.Errorf("mails: want the follow-up In-Reply-To the first")
	}
	sent, err := h.st.Deliveries(context.Background(), store.DeliveryQuery{Status: store.StatusSent})
	if err != nil || len(sent) != 2*len(newTargetNames) {
		t.Fatalf("%d sent deliveries (%v), want %d", len(sent), err, 2*len(newTargetNames))
	}
	for _, d := range sent {
		noRef := d.Target == "teams" || d.Target == "mmhook" // their platforms answer without a message id
		if d.Kind == "" && (d.Ref == "") != noRef {
			t.Errorf("first alert to %s kept the message reference %q", d.Target, d.Ref)
		}
	}
}

// A 429 with a wait is retried after that wait, a 5xx after the backoff, an
// SMTP 4xx likewise, each delivered once; a refusal that cannot pass is kept
// as failed, with its reason, and the other targets are not held up.
func TestNewTargetsRetryAfterAndFailForGood(t *testing.T) {
	h := newHarness(t)
	nt := addNewTargets(t, h)
	h.feeds.set("/a")
	h.source("Feed A", "/a", 0)
	h.start()
	h.once()

	nt.tg.RateLimit(1)
	nt.teams.Throttle(1)
	nt.ntfy.Fail(502, "bad gateway")
	nt.mmhook.Fail(503, "Mattermost is restarting.")
	nt.mm.Fail(403, "You do not have the appropriate permissions.")
	nt.smtp.Fail(451, "try again later")
	h.feeds.add("/a", event[0])
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.bot.RunOnce(ctx, 10*time.Second); err == nil || !strings.Contains(err.Error(), "1 failed for good") {
		t.Fatalf("run once: %v, want it to report the one failed alert", err)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("delivered %v after the 429s, want at least their wait of 1s", waited)
	}
	seen := nt.seen()
	for _, name := range newTargetNames {
		want := 1
		if name == "mm" {
			want = 0
		}
		if got := len(seen[name]); got != want {
			t.Errorf("%s got %d messages, want exactly %d", name, got, want)
		}
	}
	if nt.smtp.Tries() != 2 {
		t.Errorf("mail: %d tries, want 2", nt.smtp.Tries())
	}
	failed, err := h.st.Deliveries(ctx, store.DeliveryQuery{Status: store.StatusFailed})
	if err != nil || len(failed) != 1 || failed[0].Target != "mm:"+mmChannel || !strings.Contains(failed[0].LastError, "status 403") {
		t.Errorf("failed deliveries %+v (%v): want the Mattermost one, with its reason", failed, err)
	}
	sent, _ := h.st.Deliveries(ctx, store.DeliveryQuery{Status: store.StatusSent})
	if len(sent) != len(newTargetNames)-1 {
		t.Errorf("%d sent deliveries, want %d", len(sent), len(newTargetNames)-1)
	}
	for _, d := range sent {
		if d.Attempts != 2 {
			t.Errorf("%s sent after %d attempts, want 2", d.Target, d.Attempts)
		}
		if strings.Contains(d.LastError, teamsSig) || strings.Contains(d.LastError, mmHookKey) || strings.Contains(d.LastError, ntfyToken) {
			t.Errorf("%s: a secret in the stored error %q", d.Target, d.LastError)
		}
	}
}

// Over the hourly limit, every new target gets one summary message instead
// of a flood.
func TestNewTargetsFloodControl(t *testing.T) {
	h := newHarness(t)
	nt := addNewTargets(t, h)
	h.maxPerHour = map[string]int{}
	for _, name := range newTargetNames {
		h.maxPerHour[name] = 2
	}
	h.feeds.set("/a")
	h.source("Feed A", "/a", 0)
	h.start()
	h.once()
	for i := range 6 {
		h.feeds.add("/a", item{GUID: "f" + strconv.Itoa(i), Title: "Nvidia China story number " + strconv.Itoa(i) + " " + strings.Repeat("x", i),
			Link: "https://news.example/flood/" + strconv.Itoa(i), Published: t0})
	}
	h.once()
	nt.want(t, []string{"Nvidia China story"}, []string{"Nvidia China story"}, []string{"Summary — 4 more stories"})
}

// A daily digest goes to every new target once, listing the period's
// matches; a restart does not send it again. E-mail's has an HTML part
// linking every story.
func TestNewTargetsDailyDigest(t *testing.T) {
	h := newHarness(t)
	nt := addNewTargets(t, h)
	h.clock = &clock{t: time.Date(2026, 11, 28, 7, 0, 0, 0, time.UTC)}
	h.rules[0].Digest, h.rules[0].Timezone = "daily", "UTC"
	h.feeds.set("/a")
	h.source("Feed A", "/a", 0)
	h.start()
	h.once() // primes the source; the period starts now (07:00)

	h.clock.Set(time.Date(2026, 11, 28, 7, 30, 0, 0, time.UTC))
	h.feeds.add("/a", item{GUID: "d1", Title: "Nvidia China one", Link: "https://news.example/d1", Published: t0})
	h.feeds.add("/a", item{GUID: "d2", Title: "Nvidia China two", Link: "https://news.example/d2", Published: t0.Add(time.Minute)})
	h.once()
	nt.want(t)

	h.clock.Set(time.Date(2026, 11, 28, 8, 1, 30, 0, time.UTC))
	h.once()
	digest := []string{"Digest — 2 stories", "Nvidia China one", "Nvidia China two"}
	nt.want(t, digest)
	if mails := nt.smtp.Mails(); len(mails) == 1 && (!strings.Contains(mails[0].HTML, `<a href="https://news.example/d1"`) ||
		!strings.Contains(mails[0].HTML, `<a href="https://news.example/d2"`)) {
		t.Errorf("the digest's HTML part does not link both stories:\n%s", mails[0].HTML)
	}

	h.stop()
	h.start()
	h.clock.Set(time.Date(2026, 11, 28, 20, 0, 0, 0, time.UTC))
	h.once()
	nt.want(t, digest)
}
