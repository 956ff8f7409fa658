package commands

import (
	"context"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wirewatch/wirewatch/store"
)

// Complete suggests values for a partially typed option: for /watch remove,
// pause and resume, this channel's chat and API rules whose id or query
// contains partial (any case; only active rules for pause, only paused ones
// for resume); for /sources remove, the names of sources not from the
// configuration file that contain partial. At most 25 suggestions, each
// labelled in at most 100 characters. Other commands have none.
func (c *Core) Complete(ctx context.Context, req Request, partial string) []Choice {
	req = normalize(req)
	needle := strings.ToLower(strings.TrimSpace(partial))
	switch {
	case req.Command == "watch" && (req.Sub == "remove" || req.Sub == "pause" || req.Sub == "resume"):
		infos, err := c.svc.Rules(ctx)
		if err != nil {
			c.logger.Error("autocomplete failed", "command", req.Command, "sub", req.Sub, "err", err)
			return nil
		}
		var out []Choice
		for _, info := range infos {
			r := info.Rule
			if r.Origin == store.OriginConfig || !inChannel(r, req) ||
				req.Sub == "pause" && r.Paused || req.Sub == "resume" && !r.Paused {
				continue
			}
			if !strings.Contains(strings.ToLower(r.Name), needle) && !strings.Contains(strings.ToLower(r.Query), needle) {
				continue
			}
			out = append(out, Choice{Name: cut(r.Name+" — "+r.Query, maxChoiceName), Value: r.Name})
			if len(out) == maxChoices {
				break
			}
		}
		return out
	case req.Command == "sources" && req.Sub == "remove":
		srcs, err := c.svc.Sources(ctx)
		if err != nil {
			c.logger.Error("autocomplete failed", "command", req.Command, "sub", req.Sub, "err", err)
			return nil
		}
		var out []Choice
		for _, s := range srcs {
			if s.Origin == store.OriginConfig || !strings.Contains(strings.ToLower(s.Name), needle) {
				continue
			}
			value := s.Name
			if utf8.RuneCountInString(value) > maxChoiceName {
				value = strconv.FormatInt(s.ID, 10)
			}
			out = append(out, Choice{Name: cut(s.Name, maxChoiceName), Value: value})
			if len(out) == maxChoices {
				break
			}
		}
		return out
	}
	return nil
}
