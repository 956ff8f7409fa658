package commands

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode"

	"github.com/wirewatch/wirewatch/service"
	"github.com/wirewatch/wirewatch/store"
)

// sourcesList answers /sources list: every source with its health, failing
// ones first. Source URLs are not shown: they may carry API keys.
func (c *Core) sourcesList(ctx context.Context, req Request) Reply {
	srcs, err := c.svc.Sources(ctx)
	if err != nil {
		return c.failure(req, err, "")
	}
	if len(srcs) == 0 {
		return Reply{Ephemeral: true, Text: "There are no sources yet. An admin can add one with /sources add URL."}
	}
	sort.SliceStable(srcs, func(i, j int) bool {
		a, b := srcs[i].State.Failures, srcs[j].State.Failures
		if (a > 0) != (b > 0) {
			return a > 0
		}
		if a != b {
			return a > b
		}
		return strings.ToLower(srcs[i].Name) < strings.ToLower(srcs[j].Name)
	})
	now := c.svc.Now()
	failing := 0
	r := Reply{Ephemeral: true}
	for _, s := range srcs {
		st := s.State
		var parts []string
		if s.Paused {
			parts = append(parts, "paused")
		}
		if st.LastFetch.IsZero() {
			parts = append(parts, "not fetched yet")
		} else {
			parts = append(parts, "last fetch "+ago(st.LastFetch, now))
		}
		if st.Failures > 0 {
			failing++
			f := "failing: " + plural(st.Failures, "failure", "failures") + " in a row"
			if !st.LastSuccess.IsZero() {
				f += ", last success " + ago(st.LastSuccess, now)
			}
			parts = append(parts, f)
		}
		if st.LastError != "" {
			parts = append(parts, "last error: "+cut(st.LastError, 200))
		}
		parts = append(parts, plural(s.Stories7d, "story", "stories")+" in 7 days")
		switch {
		case s.Origin == store.OriginConfig:
			parts = append(parts, "config file")
		case s.AddedBy != "":
			parts = append(parts, "added by "+s.AddedBy)
		}
		r.Items = append(r.Items, Item{Title: s.Name, Detail: strings.Join(parts, " · ")})
	}
	r.Text = fmt.Sprintf("%s, %d failing:", upperFirst(plural(len(srcs), "source", "sources")), failing)
	capItems(&r)
	return r
}

// sourcesAdd answers /sources add URL [name:"…"], for admins: the feed is
// fetched once through the private-address guard before it is stored.
func (c *Core) sourcesAdd(ctx context.Context, req Request) Reply {
	if !req.Admin {
		return failReply("Only admins can add sources.")
	}
	a, err := ParseArgs(req.Args)
	if err == nil {
		err = checkOptions(a, "/sources add", "name")
	}
	if err != nil {
		return badArgs(err)
	}
	url := strings.Trim(a.Text, "<>") // Slack wraps links in angle brackets
	if i := strings.IndexByte(url, '|'); i >= 0 && strings.HasPrefix(a.Text, "<") {
		url = url[:i]
	}
	if url == "" || strings.IndexFunc(url, unicode.IsSpace) >= 0 {
		return failReply("Give one feed URL, as in /sources add https://example.com/feed.xml name:\"Example\".")
	}
	src, err := c.svc.AddSource(ctx, url, a.Options["name"], req.User, store.OriginChat)
	if src.ID == 0 {
		var ie *service.InvalidError
		switch {
		case errors.As(err, &ie) && ie.Field == "url":
			return failReply("Cannot add that source: %s", ie.Reason)
		case errors.Is(err, store.ErrExists):
			return failReply("Cannot add that source: %s", err.Error())
		}
		return c.failure(req, err, "")
	}
	r := Reply{Ephemeral: true, Text: fmt.Sprintf(
		"Added source %s (id %d). Its first fetch is on its way; stories published from now on are matched and alerted.",
		src.Name, src.ID)}
	if err != nil {
		c.logger.Error("source stored but not scheduled", "source", src.Name, "err", err)
		r.Footer = "The source is stored but could not be scheduled yet; it will be after a restart."
	}
	return r
}

// sourcesRemove answers /sources remove NAME, for admins.
func (c *Core) sourcesRemove(ctx context.Context, req Request) Reply {
	if !req.Admin {
		return failReply("Only admins can remove sources.")
	}
	ref := strings.TrimSpace(straightQuotes(req.Args))
	if len(ref) >= 2 && ref[0] == '"' && ref[len(ref)-1] == '"' {
		ref = strings.TrimSpace(ref[1 : len(ref)-1])
	}
	if ref == "" {
		return failReply("Which source? Give its name, as in /sources remove Reuters; /sources list shows them.")
	}
	src, err := c.svc.FindSource(ctx, ref)
	if notFound(err) {
		return failReply("There is no source %s. /sources list shows them.", ref)
	}
	if err != nil {
		return c.failure(req, err, "")
	}
	if src.Origin == store.OriginConfig {
		return failReply("Source %s is %s.", src.Name, service.ErrReadOnly)
	}
	if err := c.svc.RemoveSource(ctx, src.Name); err != nil {
		if notFound(err) {
			return failReply("There is no source %s any more.", ref)
		}
		return c.failure(req, err, "")
	}
	return Reply{Ephemeral: true, Text: fmt.Sprintf("Removed source %s. Its stories stay until they are pruned.", src.Name)}
}
