package commands

import (
	"context"
	"fmt"
)

// news answers /news QUERY [since:…]: the newest stored stories that match,
// to the caller only.
func (c *Core) news(ctx context.Context, req Request) Reply {
	a, err := ParseArgs(req.Args)
	if err == nil {
		err = checkOptions(a, "/news", "since")
	}
	if err != nil {
		return badArgs(err)
	}
	if a.Text == "" {
		r := usage("news", false)
		r.Error = true
		r.Text = "Give a query to look for.\n" + r.Text
		return r
	}
	now := c.svc.Now()
	since := now.Add(-c.newsSince)
	if v, ok := a.Options["since"]; ok {
		if since, err = ParseSince(v, now); err != nil {
			return badArgs(err)
		}
	}
	res, err := c.svc.SearchResults(ctx, a.Text, since, newsLimit)
	if err != nil {
		return c.failure(req, err, a.Text)
	}
	r := Reply{Ephemeral: true}
	span := window(since, now)
	switch n := len(res.Hits); {
	case n == 0:
		r.Text = fmt.Sprintf("No stored story of %s matches %s.", span, a.Text)
	case n < newsLimit && !res.Truncated:
		r.Text = fmt.Sprintf("%s of %s %s %s:", upperFirst(plural(n, "story", "stories")), span, matchVerb(n), a.Text)
	default:
		r.Text = fmt.Sprintf("The newest stories of %s that match %s:", span, a.Text)
	}
	for _, h := range res.Hits {
		r.Items = append(r.Items, storyItem(h))
	}
	if res.Truncated {
		r.Footer = fmt.Sprintf("Searched the newest %d candidate stories only; older ones may match too. Narrow the query or use since:.", res.Scanned)
	}
	return r
}

func matchVerb(n int) string {
	if n == 1 {
		return "matches"
	}
	return "match"
}
