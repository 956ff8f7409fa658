package discord_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/notifiers/discord"
	"github.com/wirewatch/wirewatch/notifiers/discord/discordfake"
	"github.com/wirewatch/wirewatch/notifiers/notifiertest"
)

// embedFields returns the texts of the embeds of a message body.
func embedFields(t *testing.T, body []byte) []notifiertest.Field {
	t.Helper()
	var m struct {
		Content string                    `json:"content"`
		Embeds  []*discordgo.MessageEmbed `json:"embeds"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("message %s: %v", body, err)
	}
	field := func(name, text string, max int) notifiertest.Field {
		return notifiertest.Field{Name: name, Text: text, Syntax: notifiertest.Markdown, Max: max, Measure: discord.Len}
	}
	out := []notifiertest.Field{field("content", m.Content, discord.MaxContent)}
	for _, e := range m.Embeds {
		out = append(out, field("title", e.Title, discord.MaxTitle), field("description", e.Description, discord.MaxDescription))
		// Footers and authors show plain text: Discord reads no markdown there.
		if e.Footer != nil {
			out = append(out, notifiertest.Field{Name: "footer", Text: e.Footer.Text, Max: discord.MaxFooter, Measure: discord.Len})
		}
		if e.Author != nil {
			out = append(out, notifiertest.Field{Name: "author", Text: e.Author.Name, Max: discord.MaxAuthor, Measure: discord.Len})
		}
		for _, f := range e.Fields {
			out = append(out, field("field name", f.Name, discord.MaxFieldName), field("field value", f.Value, discord.MaxFieldValue))
		}
	}
	return out
}

func failDiscord(d *discordfake.Discord, prefix string) func(int, string) {
	return func(code int, detail string) {
		body, _ := json.Marshal(map[string]any{"message": detail, "code": 0})
		d.FailNext(prefix, code, map[string]string{"Content-Type": "application/json"}, string(body))
	}
}

func rateLimitDiscord(d *discordfake.Discord, prefix string) func(time.Duration) {
	return func(wait time.Duration) {
		d.FailNext(prefix, http.StatusTooManyRequests, map[string]string{"Content-Type": "application/json"},
			`{"retry_after": `+strconv.FormatFloat(wait.Seconds(), 'f', -1, 64)+`, "global": false}`)
	}
}

func TestConformance(t *testing.T) {
	d := fakeDiscord(t)
	notifiertest.Run(t, notifiertest.Subject{
		New: func(t *testing.T, logger *slog.Logger) notifiers.Notifier {
			n, err := discord.Type.Build("ops-discord", &discord.Config{Token: botToken, ApplicationID: "1"}, notifiers.Env{Logger: logger})
			if err != nil {
				t.Fatal(err)
			}
			return n
		},
		Target:    "ops-discord:1234567890",
		Channel:   "1234567890",
		Secrets:   []string{botToken},
		Fail:      failDiscord(d, "/channels/"),
		RateLimit: rateLimitDiscord(d, "/channels/"),
		Sent: func(t *testing.T) [][]notifiertest.Field {
			var out [][]notifiertest.Field
			for _, r := range d.Messages() {
				out = append(out, embedFields(t, r.Body))
			}
			return out
		},
		Reply: func(t *testing.T, ref string) bool {
			msgs := d.Messages()
			return sent(t, msgs[len(msgs)-1]).Reference != nil && sent(t, msgs[len(msgs)-1]).Reference.MessageID == ref
		},
	})
}

func TestWebhookConformance(t *testing.T) {
	d := fakeDiscord(t)
	notifiertest.Run(t, notifiertest.Subject{
		New: func(t *testing.T, logger *slog.Logger) notifiers.Notifier {
			n, err := discord.WebhookType.Build("ops-hook", &discord.WebhookConfig{URL: config.Secret(d.WebhookURL("111", webhookToken))},
				notifiers.Env{Logger: logger})
			if err != nil {
				t.Fatal(err)
			}
			return n
		},
		Target:    "ops-hook",
		Secrets:   []string{webhookToken},
		Fail:      failDiscord(d, "/webhooks/"),
		RateLimit: rateLimitDiscord(d, "/webhooks/"),
		Sent: func(t *testing.T) [][]notifiertest.Field {
			var out [][]notifiertest.Field
			for _, r := range d.Messages() {
				out = append(out, embedFields(t, r.Body))
			}
			return out
		},
	})
}
