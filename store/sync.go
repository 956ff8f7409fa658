package store

import (
	"fmt"
	"sort"
)

// ConfigItem is a source or rule of the configuration file, as a config
// sync sees it: its name, and what is missing that it needs ("" when
// complete).
type ConfigItem struct {
	Name    string
	Missing string // e.g. "name and url are required"
}

// SyncPlan is how a store makes its config-file sources or rules match the
// file, by name.
type SyncPlan struct {
	// Add are the file's items the store does not have, Keep those it has
	// as config items (to update when changed), both in file order.
	Add, Keep []string
	// Drop are stored config items the file no longer has, sorted.
	Drop []string
}

// PlanSync checks the file's items (kind "source" or "rule") against the
// stored ones (name → origin): an incomplete item, a name given twice, or a
// name a chat or API item already has is an error naming it.
func PlanSync(kind string, items []ConfigItem, stored map[string]string) (SyncPlan, error) {
	var p SyncPlan
	seen := map[string]bool{}
	for _, it := range items {
		if it.Missing != "" {
			return SyncPlan{}, fmt.Errorf("%s %q: %s", kind, it.Name, it.Missing)
		}
		if seen[it.Name] {
			return SyncPlan{}, fmt.Errorf("%s %q: named twice", kind, it.Name)
		}
		seen[it.Name] = true
		origin, ok := stored[it.Name]
		switch {
		case !ok:
			p.Add = append(p.Add, it.Name)
		case origin != OriginConfig:
			return SyncPlan{}, fmt.Errorf("%s %q: %w as a %s %s", kind, it.Name, ErrExists, origin, kind)
		default:
			p.Keep = append(p.Keep, it.Name)
		}
	}
	for name, origin := range stored {
		if origin == OriginConfig && !seen[name] {
			p.Drop = append(p.Drop, name)
		}
	}
	sort.Strings(p.Drop)
	return p, nil
}

// SourceItems are config sources as PlanSync takes them.
func SourceItems(sources []Source) []ConfigItem {
	out := make([]ConfigItem, len(sources))
	for i, s := range sources {
		out[i] = ConfigItem{Name: s.Name}
		if s.Name == "" || s.URL == "" {
			out[i].Missing = "name and url are required"
		}
	}
	return out
}

// RuleItems are config rules as PlanSync takes them.
func RuleItems(rules []Rule) []ConfigItem {
	out := make([]ConfigItem, len(rules))
	for i, r := range rules {
		out[i] = ConfigItem{Name: r.Name}
		if r.Name == "" || r.Query == "" {
			out[i].Missing = "name and query are required"
		}
	}
	return out
}
