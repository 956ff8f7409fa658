package service_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notifiers/registry"
	"github.com/wirewatch/wirewatch/service"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/storetest"
	"github.com/wirewatch/wirewatch/story"
)

func walrus(id string, published time.Time) story.Story {
	return story.Story{ID: id, Title: "Walrus " + id, URL: "https://w.example/" + id, Published: published, Fetched: published}
}

// TestPreviewCountsAnEventOnce: syndicated copies (one cluster) are one
// alert, as the bot threads or folds them; the rate's days start at the
// oldest fetch.
func TestPreviewCountsAnEventOnce(t *testing.T) {
	e := newEnv(t, nil)
	plan := storetest.Plan(func(fresh []story.Story) ([]store.Match, []store.Delivery) {
		for i := range fresh {
			if fresh[i].ID != "solo" {
				fresh[i].Cluster = "event"
			}
		}
		return nil, nil
	})
	stories := []story.Story{walrus("first", now.Add(-50*time.Hour)), walrus("copy1", now.Add(-49*time.Hour)),
		walrus("copy2", now.Add(-time.Hour)), walrus("solo", now.Add(-2*time.Hour))}
	if _, err := e.st.Ingest(t.Context(), 0, stories, plan); err != nil {
		t.Fatal(err)
	}
	p, err := e.svc.Preview(t.Context(), "walrus", now.AddDate(0, 0, -29), 2)
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != 4 || p.Alerts != 2 || len(p.Stories) != 2 || !p.HeldSince.Equal(now.Add(-50*time.Hour)) {
		t.Fatalf("preview: total %d, alerts %d, %d stories, held since %v", p.Total, p.Alerts, len(p.Stories), p.HeldSince)
	}
	// The event counts on the day of its first copy.
	perDay := map[string]int{}
	for _, d := range p.PerDay {
		perDay[d.Day] = d.Count
	}
	if perDay["2022-09-22"] != 1 || perDay["2022-09-24"] != 1 || perDay["2022-09-23"] != 0 {
		t.Errorf("per day %v", perDay)
	}
}

// TestExplainSaysWhereItWent: the "why / why not" of a story names the
// deliveries, the copies of its event, and why a match sent nothing.
func TestExplainSaysWhereItWent(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	for _, r := range []store.Rule{
		{Name: "walrus", Query: "walrus", Notify: []string{"console"}},
		{Name: "walrus-daily", Query: "walrus", Notify: []string{"console"}, Digest: "daily"},
		{Name: "seal", Query: "seal", Notify: []string{"console"}},
	} {
		if _, err := e.svc.AddRule(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	plan := storetest.Plan(func(fresh []story.Story) ([]store.Match, []store.Delivery) {
		var ms []store.Match
		var ds []store.Delivery
		for i := range fresh {
			st := &fresh[i]
			ms = append(ms, store.Match{StoryID: st.ID, Rule: "walrus", Terms: []string{"walrus"}},
				store.Match{StoryID: st.ID, Rule: "walrus-daily", Terms: []string{"walrus"}})
			switch st.ID {
			case "a", "b":
				st.Cluster = "ev"
				d := store.Delivery{Target: "console", StoryID: st.ID, DedupKey: st.ID, Cluster: "ev", Rules: []string{"walrus"}}
				if st.ID == "b" {
					d.Kind, d.Status = store.KindFollowUp, store.StatusFolded
				}
				ds = append(ds, d)
			}
		}
		return ms, ds
	})
	at := now.Add(-time.Hour)
	if _, err := e.st.Ingest(ctx, 0, []story.Story{walrus("a", at), walrus("b", at.Add(time.Minute)), walrus("c", at)}, plan); err != nil {
		t.Fatal(err)
	}
	ex, err := e.svc.Explain(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if len(ex.Deliveries) != 1 || ex.Deliveries[0].Target != "console" || ex.Cluster != "ev" ||
		len(ex.AlsoReportedBy) != 1 || ex.AlsoReportedBy[0].ID != "b" {
		t.Fatalf("explain a: deliveries %+v, cluster %q, also %v", ex.Deliveries, ex.Cluster, ex.AlsoReportedBy)
	}
	verdict := func(ex service.Explanation, rule string) service.RuleExplanation {
		i := slices.IndexFunc(ex.Rules, func(r service.RuleExplanation) bool { return r.Rule.Name == rule })
		if i < 0 {
			t.Fatalf("no verdict of %s", rule)
		}
		return ex.Rules[i]
	}
	if v := verdict(ex, "walrus"); !v.Matched || v.Recorded.IsZero() || len(v.Outcome) != 1 || v.Outcome[0] != "An alert waits to go to console." {
		t.Errorf("walrus on a: %+v", v)
	}
	if v := verdict(ex, "walrus-daily"); len(v.Outcome) != 1 || !strings.Contains(v.Outcome[0], "daily digest") {
		t.Errorf("walrus-daily on a: %+v", v.Outcome)
	}
	if v := verdict(ex, "seal"); v.Matched || len(v.Outcome) != 0 {
		t.Errorf("seal on a: %+v", v)
	}
	ex, err = e.svc.Explain(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	if v := verdict(ex, "walrus"); len(v.Outcome) != 1 || !strings.HasPrefix(v.Outcome[0], "Folded: console already had an alert about this event") {
		t.Errorf("walrus on b: %+v", v.Outcome)
	}
	ex, err = e.svc.Explain(ctx, "c")
	if err != nil {
		t.Fatal(err)
	}
	if v := verdict(ex, "walrus"); len(v.Outcome) != 1 || !strings.Contains(v.Outcome[0], "backfill") || len(ex.AlsoReportedBy) != 0 {
		t.Errorf("walrus on c: %+v", v.Outcome)
	}
}

func targets(t *testing.T) config.Targets {
	t.Helper()
	cfg, err := config.Parse("t.toml", []byte(strings.Join([]string{
		`[[notifiers]]`, `name = "console"`, `type = "console"`,
		`[[notifiers]]`, `name = "team-slack"`, `type = "slack"`, `token = "xoxb-1"`,
	}, "\n")), nil, registry.ConfigTypes())
	if err != nil {
		t.Fatal(err)
	}
	return registry.Targets(cfg)
}

// TestSendTest: a test alert is a health message, checked as a rule's
// target is, and never deduplicated.
func TestSendTest(t *testing.T) {
	e := newEnv(t, func(o *service.Options) { o.Targets = targets(t) })
	ctx := t.Context()
	for range 2 {
		d, err := e.svc.SendTest(ctx, " team-slack:#ops ")
		if err != nil || d.ID == 0 || d.Status != store.StatusPending {
			t.Fatalf("SendTest: %+v, %v", d, err)
		}
	}
	ds, err := e.st.Deliveries(ctx, store.DeliveryQuery{Target: "team-slack:#ops"})
	if err != nil || len(ds) != 2 || ds[0].Kind != store.KindHealth || ds[0].Text != service.TestAlertText {
		t.Fatalf("queued: %+v, %v", ds, err)
	}
	if _, err := e.svc.SendTest(ctx, "team-slack"); !errors.Is(err, service.ErrInvalid) || !strings.Contains(err.Error(), "needs a channel") {
		t.Errorf("SendTest without a channel: %v", err)
	}
	choices, known, err := e.svc.TargetChoices(ctx)
	if err != nil || len(choices) != 2 || choices[1].Channel != config.RequiredChannel || !slices.Equal(known, []string{"team-slack:#ops"}) {
		t.Errorf("TargetChoices: %+v, %v, %v", choices, known, err)
	}
	ns, err := e.svc.Notifiers(ctx)
	if err != nil || len(ns) != 2 || len(ns[1].Targets) != 1 || ns[1].Targets[0].Pending != 2 {
		t.Errorf("Notifiers: %+v, %v", ns, err)
	}
}

// TestImportSourceDoesNotFetch: an OPML entry is stored without a fetch
// (here one that could not be fetched), named by the outline or the host.
func TestImportSourceDoesNotFetch(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	src, err := e.svc.ImportSource(ctx, "https://feeds.example.invalid/rss", "  Example   news ", "opml")
	if err != nil || src.Name != "Example news" || src.Origin != store.OriginAPI || src.AddedBy != "opml" {
		t.Fatalf("import: %+v, %v", src, err)
	}
	if again, err := e.svc.ImportSource(ctx, "https://other.example.invalid/rss", "example NEWS", "opml"); err != nil || again.Name != "example NEWS (2)" {
		t.Fatalf("a taken name: %+v, %v", again, err)
	}
	if host, err := e.svc.ImportSource(ctx, "https://third.example.invalid/rss", "", "opml"); err != nil || host.Name != "third.example.invalid" {
		t.Fatalf("no name: %+v, %v", host, err)
	}
	if _, err := e.svc.ImportSource(ctx, "https://feeds.example.invalid/rss", "x", "opml"); !errors.Is(err, store.ErrExists) {
		t.Errorf("the same URL again: %v", err)
	}
	if _, err := e.svc.ImportSource(ctx, "http://127.0.0.1/feed", "local", "opml"); !errors.Is(err, service.ErrInvalid) {
		t.Errorf("a private address: %v", err)
	}
}
