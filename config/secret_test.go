package config_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notifiers/slack"
	"github.com/wirewatch/wirewatch/notifiers/webhook"
)

// assertLeaksNoSecret fails when any of the secrets appears in text, in the
// manner of Alertmanager's AssertNotifyLeaksNoSecret.
func assertLeaksNoSecret(t *testing.T, what, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%s leaks the secret %q:\n%s", what, s, text)
		}
	}
}

// TestErrorsLeakNoSecret breaks every secret-bearing key in many ways and
// checks that no error message quotes the secret.
func TestErrorsLeakNoSecret(t *testing.T) {
	const secret = "s3cr3t-VALUE-0xfeed"
	webhook := func(lines ...string) []byte {
		return doc(append([]string{`[[notifiers]]`, `name = "n"`}, lines...)...)
	}
	tests := []struct {
		name string
		doc  []byte
		env  map[string]string
	}{
		{"webhook url without scheme", webhook(`type = "webhook"`, `url = "hooks.example/`+secret+`"`), nil},
		{"webhook url wrong scheme", webhook(`type = "webhook"`, `url = "ftp://`+secret+`@h.example/"`), nil},
		{"webhook url bad escape", webhook(`type = "webhook"`, `url = "https://h.example/%zz`+secret+`"`), nil},
		{"webhook url bad host", webhook(`type = "webhook"`, `url = "https://[`+secret+`/x"`), nil},
		{"webhook url control character", webhook(`type = "slack-webhook"`, `url = "https://h.example/\u0001`+secret+`"`), nil},
		{"webhook url from env", webhook(`type = "discord-webhook"`, `url = "${HOOK}"`), map[string]string{"HOOK": "no-scheme/" + secret}},
		{"webhook url on console", webhook(`type = "console"`, `url = "https://h.example/`+secret+`"`), nil},
		{"token on webhook", webhook(`type = "webhook"`, `url = "https://h.example/"`, `token = "${T}"`), map[string]string{"T": secret}},
		{"token of wrong type", webhook(`type = "slack"`, `token = ["`+secret+`"]`), nil},
		{"token integer", webhook(`type = "slack"`, `token = 987654321987`), nil},
		{"app_token unterminated variable", webhook(`type = "slack"`, `token = "t"`, `app_token = "`+secret+`${X"`), nil},
		{"signing_secret bad variable name", webhook(`type = "slack"`, `token = "t"`, `signing_secret = "${`+secret+`}"`), nil},
		{"public_key invalid", webhook(`type = "discord"`, `token = "t"`, `application_id = "1"`, `public_key = "`+secret+`"`), nil},
		{"public_key on slack", webhook(`type = "slack"`, `token = "t"`, `public_key = "`+secret+`"`), nil},
		{"secret in an unknown key", webhook(`type = "slack"`, `tokn = "`+secret+`"`), nil},
		{"secret on a syntax error line", webhook(`type = "slack"`, `token = "`+secret), nil},
		{"secret with a bad escape", webhook(`type = "slack"`, `token = "`+secret+`\q"`), nil},
		{"secret defined twice", webhook(`type = "slack"`, `token = "`+secret+`"`, `token = "`+secret+`"`), nil},
		{"storage url not postgres", doc(`[storage]`, `url = "mysql://root:`+secret+`@db/x"`), nil},
		{"storage url unparsable", doc(`[storage]`, `url = "postgres://root:`+secret+`@[db/x"`), nil},
		{"storage url with path", doc(`[storage]`, `path = "x.db"`, `url = "postgres://root:`+secret+`@db/x"`), nil},
		{"http token of wrong type", doc(`[http]`, `tokens = "`+secret+`"`), nil},
		{"http tokens mixed", doc(`[http]`, `tokens = ["`+secret+`", 1, "${MISSING}"]`), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse("t.toml", tt.doc, envOf(tt.env), types)
			if err == nil {
				t.Fatal("no error")
			}
			assertLeaksNoSecret(t, "error", err.Error(), secret)
			assertLeaksNoSecret(t, "error", fmt.Sprintf("%+v %#v", err, err), secret)
		})
	}
}

// TestConfigLeaksNoSecret checks the ways a loaded configuration gets
// printed: fmt verbs, JSON, slog and Summary.
func TestConfigLeaksNoSecret(t *testing.T) {
	secrets := map[string]string{
		"DB": "postgres://u:db-password-1@db/w", "API": "api-token-2-0123456789", "BOT": "xoxb-bot-token-3",
		"APP": "xapp-app-token-4", "SIGN": "signing-secret-5", "DBOT": "discord-bot-token-6",
		"PUB": strings.Repeat("c7", 32), "HOOK": "https://hooks.example/T000/B000/webhook-secret-8",
	}
	data := doc(
		`[storage]`, `url = "${DB}"`,
		`[http]`, `tokens = ["${API}"]`,
		`[[notifiers]]`, `name = "s"`, `type = "slack"`, `token = "${BOT}"`, `app_token = "${APP}"`, `signing_secret = "${SIGN}"`,
		`[[notifiers]]`, `name = "d"`, `type = "discord"`, `token = "${DBOT}"`, `application_id = "1"`, `public_key = "${PUB}"`,
		`[[notifiers]]`, `name = "h"`, `type = "webhook"`, `url = "${HOOK}"`,
		`[[rules]]`, `name = "r"`, `query = "x"`, `notify = ["s:#c", "d:1", "h"]`,
	)
	c, err := config.Parse("t.toml", data, envOf(secrets), types)
	if err != nil {
		t.Fatal(err)
	}
	var values []string
	for _, v := range secrets {
		values = append(values, v)
	}
	if c.Notifiers[2].Settings.(*webhook.Config).URL.Reveal() != secrets["HOOK"] || c.Storage.URL.Reveal() != secrets["DB"] {
		t.Fatal("secrets were not loaded")
	}
	assertLeaksNoSecret(t, "%v", fmt.Sprintf("%v", c), values...)
	assertLeaksNoSecret(t, "%+v", fmt.Sprintf("%+v", c), values...)
	assertLeaksNoSecret(t, "%#v", fmt.Sprintf("%#v", c), values...)
	assertLeaksNoSecret(t, "%v of notifiers", fmt.Sprintf("%v", c.Notifiers), values...)
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	assertLeaksNoSecret(t, "JSON", string(js), values...)
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("loaded", "storage", c.Storage.URL, "token", c.Notifiers[0].Settings.(*slack.Config).Token, "settings", c.Notifiers[0].Settings)
	assertLeaksNoSecret(t, "slog", logged.String(), values...)
	assertLeaksNoSecret(t, "Summary", c.Summary(), values...)
}
