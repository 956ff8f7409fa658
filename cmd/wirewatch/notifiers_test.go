package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/notifiers/email/smtpfake"
	"github.com/wirewatch/wirewatch/notifiers/mattermost/mattermostfake"
	"github.com/wirewatch/wirewatch/notifiers/ntfy/ntfyfake"
	"github.com/wirewatch/wirewatch/notifiers/teams/teamsfake"
	"github.com/wirewatch/wirewatch/notifiers/telegram/telegramfake"
)

// rss writes an RSS feed of items (GUID, title, description) to path.
func rss(t *testing.T, path string, published time.Time, items ...[3]string) {
	t.Helper()
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>feed</title>`)
	for _, it := range items {
		fmt.Fprintf(&b, `<item><guid>%s</guid><title>%s</title><description>%s</description><link>https://news.example/%s</link><pubDate>%s</pubDate></item>`,
			it[0], it[1], it[2], it[0], published.Format(time.RFC1123Z))
	}
	b.WriteString(`</channel></rss>`)
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// `wirewatch run --once` with a configuration naming every notifier type
// issue 14 added, each at a local fake of its platform: the first story
// reaches all of them, and the same event from another outlet on the next
// run is a follow-up — a reply where the platform has replies, a message of
// its own saying so where it has none.
func TestRunSendsToTheNewNotifierTypes(t *testing.T) {
	const (
		tgToken, mmToken, ntfyToken = "123:run-test-telegram", "run-test-mattermost", "tk_runtestntfy0123456789"
		mmChannel, tgChat           = "4xp9fdt77pncbef59f4k1qe83o", "-1001234567890"
	)
	tg := telegramfake.New(t, tgToken)
	mm := mattermostfake.New(t, mmToken, "unused", mmChannel)
	mmhook := mattermostfake.New(t, "unused", "run-test-hook-key")
	mail := smtpfake.New(t, smtpfake.Options{Security: smtpfake.Plain})
	teams := teamsfake.New(t, "run-test-signature")
	ntfy := ntfyfake.New(t, "Bearer "+ntfyToken)
	t.Setenv("TG_TOKEN", tgToken)
	t.Setenv("MM_TOKEN", mmToken)
	t.Setenv("NTFY_TOKEN", ntfyToken)

	dir := t.TempDir()
	feedA, feedB := filepath.Join(dir, "a.xml"), filepath.Join(dir, "b.xml")
	published := time.Now().Add(-time.Hour).UTC()
	first := [3]string{"a1", "Nvidia halts H20 chip sales to China after new US export rules",
		"Nvidia said on Tuesday it would stop shipping its H20 accelerator to customers in China after the Commerce Department tightened export licensing requirements."}
	again := [3]string{"b1", "Nvidia stops H20 chip sales to China after US export rules",
		"Nvidia said on Tuesday it would stop shipping its H20 accelerator to customers in China after the Commerce Department tightened export licensing requirements, the company said."}
	rss(t, feedA, published, first)
	rss(t, feedB, published)
	cfg := writeFile(t, "wirewatch.toml", fmt.Sprintf(`
[storage]
path = %q
[http]
listen = ""
[[sources]]
name = "Outlet A"
url = "file://%s"
backfill = 1
[[sources]]
name = "Outlet B"
url = "file://%s"

[[notifiers]]
name = "tg"
type = "telegram"
token = "${TG_TOKEN}"
api_url = %q
[[notifiers]]
name = "mm"
type = "mattermost"
url = %q
token = "${MM_TOKEN}"
[[notifiers]]
name = "mmhook"
type = "mattermost-webhook"
url = %q
[[notifiers]]
name = "mail"
type = "email"
host = %q
port = %d
tls = "none"
from = "wirewatch <alerts@example.com>"
to = ["policy@example.com"]
[[notifiers]]
name = "teams"
type = "teams"
url = %q
[[notifiers]]
name = "ntfy"
type = "ntfy"
url = %q
topic = "wirewatch-chips"
token = "${NTFY_TOKEN}"

[[rules]]
name = "nvidia-china"
query = "nvidia AND china"
notify = ["tg:%s", "mm:%s", "mmhook", "mail", "teams", "ntfy"]
`, filepath.Join(dir, "wirewatch.db"), feedA, feedB, tg.URL(), mm.URL(), mmhook.HookURL(),
		mail.Host(), mail.Port(), teams.URL(), ntfy.URL(), tgChat, mmChannel))

	if code, out, stderr := run(t, "", "check", "--config", cfg); code != 0 || !strings.Contains(out, "6 notifiers") {
		t.Fatalf("check: exit %d\n%s%s", code, out, stderr)
	}
	if code, _, stderr := run(t, "", "run", "--once", "--config", cfg); code != 0 {
		t.Fatalf("run --once: exit %d: %s", code, stderr)
	}
	rss(t, feedB, published, again)
	if code, _, stderr := run(t, "", "run", "--once", "--config", cfg); code != 0 {
		t.Fatalf("second run --once: exit %d: %s", code, stderr)
	}

	got := map[string][]string{}
	for _, m := range tg.Messages() {
		got["telegram"] = append(got["telegram"], m.Visible)
	}
	for _, p := range mm.Posts() {
		got["mattermost"] = append(got["mattermost"], strings.ReplaceAll(p.Message, "**", ""))
	}
	for _, p := range mmhook.Posts() {
		got["mattermost-webhook"] = append(got["mattermost-webhook"], strings.ReplaceAll(p.Message, "**", ""))
	}
	for _, m := range mail.Mails() {
		got["email"] = append(got["email"], m.Subject+"\n"+m.Text)
	}
	for _, c := range teams.Cards() {
		var b strings.Builder
		for _, tx := range c.Texts {
			b.WriteString(tx.Text)
		}
		got["teams"] = append(got["teams"], b.String())
	}
	for _, n := range ntfy.Notifications() {
		got["ntfy"] = append(got["ntfy"], n.Title+"\n"+n.Message)
	}
	for _, typ := range []string{"telegram", "mattermost", "mattermost-webhook", "email", "teams", "ntfy"} {
		msgs := got[typ]
		if len(msgs) != 2 || !strings.Contains(msgs[0], first[1]) ||
			!strings.Contains(msgs[1], "Also reported by Outlet B") || !strings.Contains(msgs[1], again[1]) {
			t.Errorf("%s got %d messages, want the alert and a follow-up saying so:\n%s", typ, len(msgs), strings.Join(msgs, "\n---\n"))
		}
	}
	if m := tg.Messages(); len(m) == 2 && m[1].ReplyTo != m[0].ID {
		t.Errorf("telegram follow-up replies to %d, want %d", m[1].ReplyTo, m[0].ID)
	}
	if p := mm.Posts(); len(p) == 2 && p[1].RootID != p[0].ID {
		t.Errorf("mattermost follow-up in thread %q, want %q", p[1].RootID, p[0].ID)
	}
	if m := mail.Mails(); len(m) == 2 && m[1].Header.Get("In-Reply-To") != m[0].Header.Get("Message-ID") {
		t.Errorf("mail follow-up In-Reply-To %q, want %q", m[1].Header.Get("In-Reply-To"), m[0].Header.Get("Message-ID"))
	}
}
