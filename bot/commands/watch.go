package commands

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/wirewatch/wirewatch/schedule"
	"github.com/wirewatch/wirewatch/service"
	"github.com/wirewatch/wirewatch/store"
)

// watchAdd answers /watch add QUERY [digest:…]: a chat rule whose alerts go
// to this channel, in force for the very next story. The channel sees it.
func (c *Core) watchAdd(ctx context.Context, req Request) Reply {
	if c.adminOnlyRules && !req.Admin {
		return failReply("Only admins can add rules here.")
	}
	a, err := ParseArgs(req.Args)
	if err == nil {
		err = checkOptions(a, "/watch add", "digest")
	}
	if err != nil {
		return badArgs(err)
	}
	if a.Text == "" {
		r := usage("watch", false)
		r.Error = true
		r.Text = "Give the query to watch for.\n" + r.Text
		return r
	}
	rule, err := c.svc.AddRule(ctx, store.Rule{
		Query:   a.Text,
		Notify:  []string{req.Target()},
		Digest:  a.Options["digest"],
		Origin:  store.OriginChat,
		Author:  req.User,
		Channel: req.Target(),
	})
	if rule.ID == 0 {
		return c.failure(req, err, a.Text)
	}
	r := Reply{
		Text: fmt.Sprintf("%s added rule %s: %s\n%s. Pause or remove it with /watch pause %s or /watch remove %s.",
			who(req), rule.Name, canonical(rule.Query), modeSentence(rule), rule.Name, rule.Name),
	}
	if err != nil {
		c.logger.Error("rule stored but not in force", "rule", rule.Name, "err", err)
		r.Footer = "The rule is stored but could not be put in force yet; it will be after a restart."
	}
	return r
}

// canonical returns a query in the rules package's canonical form.
func canonical(query string) string {
	q, err := service.ParseQuery(query)
	if err != nil {
		return query
	}
	return q.String()
}

// modeSentence says how a new rule's matches arrive.
func modeSentence(r store.Rule) string {
	switch r.Digest {
	case "":
		return "New stories that match are posted here as they arrive"
	case schedule.Hourly:
		return "Matches are gathered in an hourly digest posted here"
	case schedule.Daily, schedule.Weekly:
		return "Matches are gathered in a " + r.Digest + " digest posted here"
	}
	return "Matches are gathered in a digest posted here on the schedule " + r.Digest
}

// mode is a rule's mode in a list: "instant", "digest daily" or "paused".
func mode(r store.Rule) string {
	switch {
	case r.Paused:
		return "paused"
	case r.Digest != "":
		return "digest " + r.Digest
	}
	return "instant"
}

// inChannel reports whether a rule sends to the request's channel, by id or,
// for rules from the configuration file, by name.
func inChannel(r store.Rule, req Request) bool {
	if slices.Contains(r.Notify, req.Target()) {
		return true
	}
	if req.ChannelName == "" {
		return false
	}
	return slices.Contains(r.Notify, req.Notifier+":#"+req.ChannelName) ||
		slices.Contains(r.Notify, req.Notifier+":"+req.ChannelName)
}

// watchList answers /watch list: this channel's rules.
func (c *Core) watchList(ctx context.Context, req Request) Reply {
	infos, err := c.svc.Rules(ctx)
	if err != nil {
		return c.failure(req, err, "")
	}
	r := Reply{Ephemeral: true}
	for _, info := range infos {
		if !inChannel(info.Rule, req) {
			continue
		}
		parts := []string{mode(info.Rule), plural(info.Matches7d, "match", "matches") + " in 7 days"}
		if info.Origin == store.OriginConfig {
			parts = append(parts, "(config file, read-only)")
		} else if info.Author != "" {
			parts = append(parts, "by "+info.Author)
		}
		r.Items = append(r.Items, Item{Title: info.Name + ": " + info.Query, Detail: strings.Join(parts, " · ")})
	}
	if len(r.Items) == 0 {
		r.Text = "No rules send to this channel yet. Add one with /watch add QUERY."
		return r
	}
	r.Text = fmt.Sprintf("%s send to this channel:", upperFirst(plural(len(r.Items), "rule", "rules")))
	if len(r.Items) == 1 {
		r.Text = "1 rule sends to this channel:"
	}
	capItems(&r)
	return r
}

// watchChange answers /watch remove|pause|resume ID, for the rule's author or
// an admin. The channel sees the change.
func (c *Core) watchChange(ctx context.Context, req Request) Reply {
	ref := strings.TrimSpace(req.Args)
	if ref == "" {
		return failReply("Which rule? Give its id, as in /watch %s w12; /watch list shows them.", req.Sub)
	}
	rule, err := c.svc.FindRule(ctx, ref)
	if notFound(err) {
		return failReply("There is no rule %s. /watch list shows this channel's rules.", ref)
	}
	if err != nil {
		return c.failure(req, err, "")
	}
	if rule.Origin == store.OriginConfig {
		return failReply("Rule %s is %s.", rule.Name, service.ErrReadOnly)
	}
	if !req.Admin && (req.User == "" || rule.Author != req.User) {
		return failReply("Only the rule's author or an admin can %s rule %s.", req.Sub, rule.Name)
	}
	var verb string
	switch req.Sub {
	case "remove":
		err, verb = c.svc.DeleteRule(ctx, rule.ID), "removed"
	case "pause", "resume":
		paused := req.Sub == "pause"
		if rule.Paused == paused {
			state := map[bool]string{true: "paused", false: "active"}[paused]
			return Reply{Ephemeral: true, Text: fmt.Sprintf("Rule %s is already %s.", rule.Name, state)}
		}
		_, err = c.svc.UpdateRule(ctx, rule.ID, service.RulePatch{Paused: &paused})
		verb = map[bool]string{true: "paused", false: "resumed"}[paused]
	}
	if err != nil {
		if notFound(err) {
			return failReply("There is no rule %s any more.", ref)
		}
		return c.failure(req, err, "")
	}
	return Reply{Text: fmt.Sprintf("%s %s rule %s: %s", who(req), verb, rule.Name, rule.Query)}
}

// watchTest answers /watch test QUERY [since:…]: how many stored stories of
// the last 7 days match, and the newest few.
func (c *Core) watchTest(ctx context.Context, req Request) Reply {
	a, err := ParseArgs(req.Args)
	if err == nil {
		err = checkOptions(a, "/watch test", "since")
	}
	if err != nil {
		return badArgs(err)
	}
	if a.Text == "" {
		r := usage("watch", false)
		r.Error = true
		r.Text = "Give the query to test.\n" + r.Text
		return r
	}
	now := c.svc.Now()
	since := now.Add(-testSince)
	if v, ok := a.Options["since"]; ok {
		if since, err = ParseSince(v, now); err != nil {
			return badArgs(err)
		}
	}
	p, err := c.svc.Preview(ctx, a.Text, since, testSample)
	if err != nil {
		return c.failure(req, err, a.Text)
	}
	span := window(since, now)
	r := Reply{Ephemeral: true}
	q := canonical(a.Text)
	switch {
	case p.Total == 0:
		r.Text = fmt.Sprintf("No stored story of %s matches %s. A rule with it would alert on new stories only.", span, q)
	case p.Truncated:
		r.Text = fmt.Sprintf("At least %s of %s %s %s. The newest:", plural(p.Total, "story", "stories"), span, matchVerb(p.Total), q)
	default:
		r.Text = fmt.Sprintf("%s of %s %s %s. The newest:", upperFirst(plural(p.Total, "story", "stories")), span, matchVerb(p.Total), q)
	}
	for _, h := range p.Stories {
		r.Items = append(r.Items, storyItem(h))
	}
	if p.Truncated {
		r.Footer = fmt.Sprintf("Counted over the newest %d candidate stories only.", p.Scanned)
	}
	return r
}
