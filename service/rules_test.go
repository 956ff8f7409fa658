package service_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notifiers/registry"
	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/service"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/storetest"
	"github.com/wirewatch/wirewatch/story"
)

// matches returns the names of the live rules matching a story.
func (e *env) matches(title string) []string {
	var names []string
	for _, m := range e.rs.NewMatcher().Match(&story.Story{ID: "x", Title: title}) {
		names = append(names, m.Rule)
	}
	return names
}

func TestAddRuleIsInForceForTheNextStory(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	r, err := e.svc.AddRule(ctx, store.Rule{Query: "  nvidia AND (china OR beijing)  ", Notify: []string{"slack:C1"}, Origin: store.OriginChat, Author: "U1", Channel: "slack:C1"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Name != "w1" || r.Query != "nvidia AND (china OR beijing)" || r.FollowUps != "thread" || r.MinSources != 1 {
		t.Fatalf("stored %+v", r)
	}
	if got := e.matches("Nvidia ships to Beijing"); len(got) != 1 || got[0] != "w1" {
		t.Fatalf("live rules matched %v, want [w1]", got)
	}
	if got := e.matches("Nvidia ships to Paris"); len(got) != 0 {
		t.Fatalf("live rules matched %v, want none", got)
	}
}

func TestAddRuleValidates(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	ok := store.Rule{Query: "nvidia", Notify: []string{"slack:C1"}}
	tests := []struct {
		name  string
		edit  func(*store.Rule)
		field string
		want  string
	}{
		{"bad query", func(r *store.Rule) { r.Query = "nvidia (china" }, "query", "column 8: unbalanced parenthesis opened at column 8"},
		{"empty query", func(r *store.Rule) { r.Query = " " }, "query", "empty query"},
		{"matches everything", func(r *store.Rule) { r.Query = "-china" }, "query", "would match every story"},
		{"no targets", func(r *store.Rule) { r.Notify = nil }, "notify", "at least one target"},
		{"blank target", func(r *store.Rule) { r.Notify = []string{" "} }, "notify", "notifier:channel"},
		{"target without notifier", func(r *store.Rule) { r.Notify = []string{":C1"} }, "notify", "notifier:channel"},
		{"typo digest", func(r *store.Rule) { r.Digest = "dayly" }, "digest", `unknown digest "dayly"`},
		{"bad cron", func(r *store.Rule) { r.Digest = "0 9 * *" }, "digest", "invalid cron spec"},
		{"cron with zone", func(r *store.Rule) { r.Digest = "TZ=UTC 0 9 * * *" }, "digest", "timezone"},
		{"bad zone", func(r *store.Rule) { r.Timezone = "Mars/Base" }, "timezone", "unknown time zone"},
		{"config origin", func(r *store.Rule) { r.Origin = store.OriginConfig }, "origin", "from the file"},
		{"generated-looking name", func(r *store.Rule) { r.Name = "w7" }, "name", "generated names"},
		{"numeric name", func(r *store.Rule) { r.Name = "42" }, "name", "ids"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ok
			tt.edit(&r)
			_, err := e.svc.AddRule(ctx, r)
			var ie *service.InvalidError
			if !errors.As(err, &ie) || !errors.Is(err, service.ErrInvalid) {
				t.Fatalf("err %v, want an *InvalidError", err)
			}
			if ie.Field != tt.field || !strings.Contains(ie.Reason, tt.want) {
				t.Fatalf("err %q, want field %s and %q", err, tt.field, tt.want)
			}
			if tt.field == "query" {
				var qe *rules.Error
				if !errors.As(err, &qe) || qe.Column < 1 {
					t.Fatalf("err %v does not wrap a *rules.Error", err)
				}
			}
		})
	}
	rs, _ := e.svc.Rules(ctx)
	if len(rs) != 0 {
		t.Fatalf("invalid rules were stored: %+v", rs)
	}
}

func TestDigestsAreStoredNormalised(t *testing.T) {
	e := newEnv(t, nil)
	for in, want := range map[string]string{"": "", "Daily": "daily", "hourly": "hourly", "WEEKLY": "weekly",
		"0  9 * * 1-5": "0 9 * * 1-5", "@daily": "@daily"} {
		r, err := e.svc.AddRule(context.Background(), store.Rule{Query: "x", Notify: []string{"c"}, Digest: in})
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		got, _ := e.st.Rule(context.Background(), r.ID)
		if got.Digest != want {
			t.Errorf("digest %q stored as %q, want %q", in, got.Digest, want)
		}
	}
}

func configRule(t *testing.T, e *env) store.Rule {
	t.Helper()
	ctx := context.Background()
	err := e.st.SyncConfigRules(ctx, []store.Rule{{Name: "nvidia-china", Query: "nvidia china", Notify: []string{"slack:#ai"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.rs.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := e.svc.FindRule(ctx, "nvidia-china")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestConfigRulesAreReadOnly(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	r := configRule(t, e)
	paused := true
	if _, err := e.svc.UpdateRule(ctx, r.ID, service.RulePatch{Paused: &paused}); !errors.Is(err, service.ErrReadOnly) {
		t.Fatalf("update: %v, want ErrReadOnly", err)
	}
	if err := e.svc.DeleteRule(ctx, r.ID); !errors.Is(err, service.ErrReadOnly) {
		t.Fatalf("delete: %v, want ErrReadOnly", err)
	}
	if !strings.Contains(service.ErrReadOnly.Error(), "configuration file") {
		t.Fatal(service.ErrReadOnly)
	}
	if got := e.matches("nvidia in china"); len(got) != 1 {
		t.Fatalf("config rule no longer in force: %v", got)
	}
}

func TestUpdateAndDeleteRuleReload(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	r, err := e.svc.AddRule(ctx, store.Rule{Query: "walrus", Notify: []string{"c"}})
	if err != nil {
		t.Fatal(err)
	}
	q := "seal"
	if _, err := e.svc.UpdateRule(ctx, r.ID, service.RulePatch{Query: &q}); err != nil {
		t.Fatal(err)
	}
	if len(e.matches("a walrus")) != 0 || len(e.matches("a seal")) != 1 {
		t.Fatal("new query not in force")
	}
	paused := true
	up, err := e.svc.UpdateRule(ctx, r.ID, service.RulePatch{Paused: &paused})
	if err != nil || !up.Paused {
		t.Fatalf("pause: %+v, %v", up, err)
	}
	if live, ok := e.rs.Rule(r.Name); !ok || !live.Paused {
		t.Fatal("live rule not paused")
	}
	bad := "(seal"
	if _, err := e.svc.UpdateRule(ctx, r.ID, service.RulePatch{Query: &bad}); !errors.Is(err, service.ErrInvalid) {
		t.Fatalf("bad query: %v", err)
	}
	if _, err := e.svc.UpdateRule(ctx, 99, service.RulePatch{Paused: &paused}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing rule: %v", err)
	}
	if err := e.svc.DeleteRule(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if e.rs.Len() != 0 {
		t.Fatal("deleted rule still in force")
	}
}

func TestFindRule(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	cfg := configRule(t, e)
	chat, err := e.svc.AddRule(ctx, store.Rule{Query: "walrus", Notify: []string{"c"}, Origin: store.OriginChat})
	if err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[string]int64{chat.Name: chat.ID, " W2 ": chat.ID, "2": chat.ID,
		"nvidia-china": cfg.ID, "NVIDIA-China": cfg.ID, "1": cfg.ID} {
		got, err := e.svc.FindRule(ctx, ref)
		if err != nil || got.ID != want {
			t.Errorf("FindRule(%q) = %d, %v; want %d", ref, got.ID, err, want)
		}
	}
	for _, ref := range []string{"", "w99", "99", "nvidia"} {
		if _, err := e.svc.FindRule(ctx, ref); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("FindRule(%q): %v, want ErrNotFound", ref, err)
		}
	}
}

func TestRulesCountMatchesOfSevenDays(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	r, err := e.svc.AddRule(ctx, store.Rule{Query: "walrus", Notify: []string{"c"}})
	if err != nil {
		t.Fatal(err)
	}
	plan := storetest.Plan(func(fresh []story.Story) ([]store.Match, []store.Delivery) {
		var ms []store.Match
		for _, s := range fresh {
			for _, m := range e.rs.NewMatcher().Match(&s) {
				ms = append(ms, store.Match{StoryID: s.ID, Rule: m.Rule, Terms: m.Terms})
			}
		}
		return ms, nil
	})
	_, err = e.st.Ingest(ctx, 0, []story.Story{
		{ID: "a", Title: "walrus", Published: now}, {ID: "b", Title: "a walrus", Published: now}, {ID: "c", Title: "seal", Published: now},
	}, plan)
	if err != nil {
		t.Fatal(err)
	}
	infos, err := e.svc.Rules(ctx)
	if err != nil || len(infos) != 1 || infos[0].Name != r.Name || infos[0].Matches7d != 2 {
		t.Fatalf("rules %+v, %v; want one with 2 matches", infos, err)
	}
}

// TestAddRuleChecksTargetsAgainstTheNotifiers: with the configured notifiers
// to check against, a rule from chat, the dashboard or the API is held to
// the same targets as the file.
func TestAddRuleChecksTargetsAgainstTheNotifiers(t *testing.T) {
	cfg, err := config.Parse("t.toml", []byte(strings.Join([]string{
		`[[notifiers]]`, `name = "slack"`, `type = "slack"`, `token = "xoxb-1"`,
		`[[notifiers]]`, `name = "mail"`, `type = "email"`, `host = "smtp.example.com"`, `from = "a@example.com"`, `to = ["b@example.com"]`,
	}, "\n")), nil, registry.ConfigTypes())
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(o *service.Options) { o.Targets = registry.Targets(cfg) })
	ctx := context.Background()
	if _, err := e.svc.AddRule(ctx, store.Rule{Query: "nvidia", Notify: []string{"slack:C1", "mail", "mail:ceo@example.com"}}); err != nil {
		t.Fatalf("valid targets: %v", err)
	}
	for target, want := range map[string]string{
		"slak:C1":    `unknown notifier "slak"; did you mean "slack"?`,
		"slack":      `needs a channel`,
		"mail:ceo":   `a recipient is one e-mail address`,
		"teams-hook": `unknown notifier "teams-hook"`,
	} {
		_, err := e.svc.AddRule(ctx, store.Rule{Query: "nvidia", Notify: []string{target}})
		var ie *service.InvalidError
		if !errors.As(err, &ie) || ie.Field != "notify" || !strings.Contains(ie.Reason, want) {
			t.Errorf("target %q: %v, want an invalid notify with %q", target, err, want)
		}
	}
}

// TestAddRuleErrorSaysItsPrefixOnce: "add rule: add rule: …" no more
// (issue 12, item 10).
func TestAddRuleErrorSaysItsPrefixOnce(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	r := store.Rule{Name: "twice", Query: "nvidia", Notify: []string{"slack:C1"}}
	if _, err := e.svc.AddRule(ctx, r); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.AddRule(ctx, r)
	// The taken name is said by its field (issue 13), with no prefix at all.
	var ie *service.InvalidError
	if !errors.As(err, &ie) || ie.Field != "name" || strings.Contains(err.Error(), "add rule") ||
		!strings.Contains(err.Error(), `"twice" already exists`) || !errors.Is(err, store.ErrExists) {
		t.Errorf("second add: %v", err)
	}
}
