package service

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/store"
)

// TargetChoices returns the configured notifiers (none when the service
// has no TargetChecker) and the targets already in use — by rules, or with
// deliveries — that the checker accepts, sorted, for people to pick from.
func (s *Service) TargetChoices(ctx context.Context) ([]config.TargetChoice, []string, error) {
	if s.o.Targets == nil {
		return nil, nil, nil
	}
	rules, err := s.o.Store.Rules(ctx)
	if err != nil {
		return nil, nil, err
	}
	states, err := s.o.Store.Targets(ctx)
	if err != nil {
		return nil, nil, err
	}
	var known []string
	add := func(t string) {
		if !slices.Contains(known, t) && s.o.Targets.Check(t) == nil {
			known = append(known, t)
		}
	}
	for _, r := range rules {
		for _, t := range r.Notify {
			add(t)
		}
	}
	for _, st := range states {
		add(st.Target)
	}
	slices.Sort(known)
	return s.o.Targets.Choices(), known, nil
}

// NotifierHealth is one configured notifier and what its targets did.
type NotifierHealth struct {
	config.TargetChoice
	// Targets are the states of its targets that have had deliveries.
	Targets []store.TargetState
}

// Notifiers returns every configured notifier with the health of its
// targets, then targets of notifiers no longer configured (Notifier
// empty, Type "not configured").
func (s *Service) Notifiers(ctx context.Context) ([]NotifierHealth, error) {
	states, err := s.o.Store.Targets(ctx)
	if err != nil {
		return nil, err
	}
	var out []NotifierHealth
	if s.o.Targets != nil {
		for _, c := range s.o.Targets.Choices() {
			out = append(out, NotifierHealth{TargetChoice: c})
		}
	}
	for _, st := range states {
		name, _, _ := strings.Cut(st.Target, ":")
		i := slices.IndexFunc(out, func(n NotifierHealth) bool { return n.Notifier == name })
		if i < 0 {
			out = append(out, NotifierHealth{TargetChoice: config.TargetChoice{Notifier: name, Type: "not configured"}})
			i = len(out) - 1
		}
		out[i].Targets = append(out[i].Targets, st)
	}
	return out, nil
}

// TestAlertText is the text of a test alert.
const TestAlertText = "Test alert from wirewatch: this target works."

// SendTest queues a test alert to target, checked as a rule's target is:
// a health-kind delivery, not deduplicated, so that it can be sent as
// often as people ask. It returns the queued row.
func (s *Service) SendTest(ctx context.Context, target string) (store.Delivery, error) {
	target = strings.TrimSpace(target)
	clean, err := checkTargets([]string{target}, s.o.Targets)
	if err != nil {
		return store.Delivery{}, err
	}
	ds, err := s.o.Store.Enqueue(ctx, []store.Delivery{{Target: clean[0], Kind: store.KindHealth, Text: TestAlertText}})
	if err != nil {
		return store.Delivery{}, fmt.Errorf("queue a test alert to %s: %w", clean[0], err)
	}
	return ds[0], nil
}
