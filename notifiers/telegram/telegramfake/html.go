package telegramfake

import (
	"fmt"
	"html"
	"regexp"
	"strings"
)

// tags are the elements Telegram's HTML parse mode knows.
var tags = map[string]bool{
	"b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true, "s": true, "strike": true,
	"del": true, "span": true, "tg-spoiler": true, "a": true, "tg-emoji": true, "code": true, "pre": true,
	"blockquote": true,
}

// entityRE matches the character references Telegram accepts: the four
// named ones and numeric ones.
var entityRE = regexp.MustCompile(`^&(lt|gt|amp|quot|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});`)

// tagRE matches a start or end tag; an a tag takes an href in double quotes.
var tagRE = regexp.MustCompile(`^<(/?)([a-z-]+)((?:\s+[a-z-]+="[^"<>]*")*)\s*>`)

// ParseHTML reads text as Telegram's HTML parse mode does and returns what
// a person sees. Like Telegram it refuses an unknown tag, an unclosed or
// badly nested one, and a "<" or "&" that starts neither a tag nor an entity.
func ParseHTML(text string) (string, error) {
	var visible strings.Builder
	var open []string
	for i := 0; i < len(text); {
		switch text[i] {
		case '<':
			m := tagRE.FindStringSubmatch(text[i:])
			if m == nil {
				return "", fmt.Errorf("unsupported start tag at byte offset %d", i)
			}
			name := m[2]
			if !tags[name] {
				return "", fmt.Errorf("unsupported start tag %q at byte offset %d", name, i)
			}
			if m[1] == "/" {
				if len(open) == 0 || open[len(open)-1] != name {
					return "", fmt.Errorf("unmatched end tag at byte offset %d, expected </%s>", i, last(open))
				}
				open = open[:len(open)-1]
			} else {
				if name == "a" && !strings.Contains(m[3], `href="`) {
					return "", fmt.Errorf("a tag without href at byte offset %d", i)
				}
				open = append(open, name)
			}
			i += len(m[0])
		case '&':
			m := entityRE.FindString(text[i:])
			if m == "" {
				return "", fmt.Errorf("unsupported entity at byte offset %d", i)
			}
			visible.WriteString(html.UnescapeString(m))
			i += len(m)
		case '>':
			return "", fmt.Errorf("unexpected '>' at byte offset %d", i)
		default:
			visible.WriteByte(text[i])
			i++
		}
	}
	if len(open) > 0 {
		return "", fmt.Errorf("can't find end tag corresponding to start tag %q", open[len(open)-1])
	}
	return visible.String(), nil
}

func last(open []string) string {
	if len(open) == 0 {
		return ""
	}
	return open[len(open)-1]
}
