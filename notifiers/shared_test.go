package notifiers_test

import (
	"strings"
	"testing"

	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

// TestSharedExplainsAFollowUp: a follow-up that joined by its names and
// numbers says which, in the payload and the message heading; a copy and a
// first alert say nothing of it.
func TestSharedExplainsAFollowUp(t *testing.T) {
	st := &story.Story{ID: "s2", Title: "Tarrant to shed roughly 900 jobs", Source: "Wichita Eagle",
		ClusterWhy: []string{"Tarrant", "900", "Wichita\n<@here>"}}
	a := &notifiers.Alert{Kind: store.KindFollowUp, Rules: []string{"r"}, Target: "hook", Story: st}
	p := notifiers.NewPayload(a)
	if len(p.Shared) != 3 || p.Shared[0] != "Tarrant" {
		t.Errorf("payload shared = %q, want the story's ClusterWhy", p.Shared)
	}
	m := notifiers.Compose(a)
	if want := "Also reported by Wichita Eagle (same Tarrant, 900, Wichita <@here>)"; m.Heading != want {
		t.Errorf("heading %q, want %q", m.Heading, want)
	}
	if strings.ContainsAny(notifiers.SharedText(st), "\n\r") {
		t.Errorf("SharedText spans lines: %q", notifiers.SharedText(st))
	}
	a.Kind = store.KindAlert
	if p := notifiers.NewPayload(a); p.Shared != nil {
		t.Errorf("a first alert carries shared %q", p.Shared)
	}
	if notifiers.SharedText(&story.Story{}) != "" {
		t.Error("a story joined as a copy has a shared text")
	}
}
