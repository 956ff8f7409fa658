package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/wirewatch/wirewatch/api"
	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notifiers/registry"
)

// TestRuleTargetsAreCheckedAgainstTheNotifiers: a rule made or changed
// through the API is held to the configured notifiers and their types, as
// the configuration file is.
func TestRuleTargetsAreCheckedAgainstTheNotifiers(t *testing.T) {
	cfg, err := config.Parse("t.toml", []byte(strings.Join([]string{
		`[[notifiers]]`, `name = "console"`, `type = "console"`,
		`[[notifiers]]`, `name = "news-telegram"`, `type = "telegram"`, `token = "1:abc"`,
	}, "\n")), nil, registry.ConfigTypes())
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOpt{targets: registry.Targets(cfg)})
	var made api.Rule
	if code := e.do("POST", "/api/v1/rules", map[string]any{"query": "nvidia", "notify": []string{"console", "news-telegram:-1001234567890"}}, &made); code != 201 {
		t.Fatalf("valid targets: %d", code)
	}
	for target, want := range map[string]string{
		"consol":                `target "consol": unknown notifier "consol"; did you mean "console"?`,
		"news-telegram":         `needs a channel: write "news-telegram:CHAT_ID"`,
		"news-telegram:general": `a Telegram chat is a chat id`,
		"console:#x":            `takes no channel`,
		// The probe of issue 12 (item 6): 201 before, then every match failed.
		"nosuch": `target "nosuch": unknown notifier "nosuch"`,
		"x:y:z":  `target "x:y:z": unknown notifier "x"`,
	} {
		var apiErr api.Error
		code := e.do("POST", "/api/v1/rules", map[string]any{"query": "nvidia", "notify": []string{target}}, &apiErr)
		if code != 400 || apiErr.Field != "notify" || !strings.Contains(apiErr.Error, want) {
			t.Errorf("target %q: %d %+v, want 400 on notify with %q", target, code, apiErr, want)
		}
	}
	var apiErr api.Error
	code := e.do("PATCH", fmt.Sprintf("/api/v1/rules/%d", made.ID), map[string]any{"notify": []string{"news-telegram:#chat"}}, &apiErr)
	if code != 400 || apiErr.Field != "notify" {
		t.Errorf("patch to a bad target: %d %+v", code, apiErr)
	}
}

// TestNotifiersAndTestAlerts: GET /api/v1/notifiers lists the configured
// notifiers with their targets' health; POST /api/v1/notifiers/test queues
// a test alert, checked as a rule's target is.
func TestNotifiersAndTestAlerts(t *testing.T) {
	cfg, err := config.Parse("t.toml", []byte(strings.Join([]string{
		`[[notifiers]]`, `name = "console"`, `type = "console"`,
		`[[notifiers]]`, `name = "news-telegram"`, `type = "telegram"`, `token = "1:abc"`,
	}, "\n")), nil, registry.ConfigTypes())
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOpt{targets: registry.Targets(cfg)})
	var queued api.Alert
	if code := e.do("POST", "/api/v1/notifiers/test", map[string]string{"target": "news-telegram:-1001234567890"}, &queued); code != 202 ||
		queued.Kind != "health" || queued.Status != "pending" || queued.Target != "news-telegram:-1001234567890" {
		t.Fatalf("test alert: %d %+v", code, queued)
	}
	var apiErr api.Error
	if code := e.do("POST", "/api/v1/notifiers/test", map[string]string{"target": "news-telegram"}, &apiErr); code != 400 ||
		apiErr.Field != "notify" || !strings.Contains(apiErr.Error, "needs a channel") {
		t.Fatalf("test alert without a channel: %d %+v", code, apiErr)
	}
	var list api.NotifierList
	if code := e.do("GET", "/api/v1/notifiers", nil, &list); code != 200 || len(list.Notifiers) != 2 {
		t.Fatalf("notifiers: %d %+v", code, list)
	}
	if c := list.Notifiers[0]; c.Name != "console" || c.Channel != "none" || len(c.Targets) != 0 {
		t.Errorf("console %+v", c)
	}
	if tg := list.Notifiers[1]; tg.Channel != "required" || tg.Example == "" || len(tg.Targets) != 1 || tg.Targets[0].Pending != 1 || tg.Targets[0].LastSent != nil {
		t.Errorf("telegram %+v", tg)
	}
}
