package commands

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// optionKeys are the options a command's text may carry, as "key:value" or
// key:"quoted value". Any other "word:" is part of the query (title:,
// site:, …).
var optionKeys = []string{"digest", "since", "name"}

// Args is a command's text split into its options and the rest.
type Args struct {
	// Text is the rest — a query, an id, a URL — trimmed, with the options
	// and the spaces after them taken out.
	Text string
	// Options are the options found, by lower-case key, quotes removed.
	Options map[string]string
}

// ParseArgs splits a command's text into options and the rest. An option is
// a known key (digest, since, name; any case) followed by ':' at the start of
// a word (after white space or at the start) outside quotes and regular
// expressions, so "since:7d" is an option while `"since:7d"`, `/since:7d/`,
// `title:(since:7d)` and `-since:7d` are query text. No option key is a
// field of the rule language, so nothing a query can mean is lost. A value
// runs to the next space or parenthesis, or is quoted: name:"Some Name".
// Curly double quotes count as straight ones, in the query too, as some
// keyboards and chat clients type them.
func ParseArgs(s string) (Args, error) {
	s = straightQuotes(s)
	a := Args{Options: map[string]string{}}
	var rest strings.Builder
	afterSpace := true // at the start, or right after white space
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case unicode.IsSpace(r):
			rest.WriteString(s[i : i+n])
			i += n
			afterSpace = true
			continue
		case r == '(' || r == ')':
			rest.WriteRune(r)
			i++
		case r == '"':
			end := len(s)
			if j := strings.IndexByte(s[i+1:], '"'); j >= 0 {
				end = i + 1 + j + 1
			}
			rest.WriteString(s[i:end])
			i = end
		case r == '/':
			end := regexEnd(s, i)
			rest.WriteString(s[i:end])
			i = end
		default:
			if afterSpace {
				if key, ok := optionAt(s[i:]); ok {
					end, value, err := optionValue(s, i+len(key)+1, key)
					if err != nil {
						return Args{}, err
					}
					if _, dup := a.Options[key]; dup {
						return Args{}, fmt.Errorf("%s: given twice", key)
					}
					a.Options[key] = value
					i = end
					for i < len(s) {
						r, n := utf8.DecodeRuneInString(s[i:])
						if !unicode.IsSpace(r) {
							break
						}
						i += n
					}
					afterSpace = true
					continue
				}
			}
			end := wordEnd(s, i)
			rest.WriteString(s[i:end])
			i = end
		}
		afterSpace = false
	}
	a.Text = strings.TrimSpace(rest.String())
	return a, nil
}

// straightQuotes turns curly double quotes into straight ones.
func straightQuotes(s string) string {
	if !strings.ContainsAny(s, "“”„‟") {
		return s
	}
	return strings.NewReplacer("“", `"`, "”", `"`, "„", `"`, "‟", `"`).Replace(s)
}

// regexEnd returns where the regular expression starting with the '/' at i
// ends, as the rules package reads it: after the next '/' not escaped by a
// backslash, or at the end of s.
func regexEnd(s string, i int) int {
	j := i + 1
	for j < len(s) && s[j] != '/' {
		if s[j] == '\\' && j+1 < len(s) {
			j++
		}
		j++
	}
	return min(j+1, len(s))
}

// wordEnd returns where the word starting at i ends, as the rules package
// reads it: at white space, a parenthesis or a quote, or after "field:".
func wordEnd(s string, i int) int {
	j := i
	for j < len(s) {
		r, n := utf8.DecodeRuneInString(s[j:])
		if unicode.IsSpace(r) || r == '(' || r == ')' || r == '"' {
			break
		}
		if r == ':' && j > i && isLetters(s[i:j]) {
			return j + 1
		}
		j += n
	}
	if j == i {
		return i + 1
	}
	return j
}

// isLetters reports whether s is ASCII letters only.
func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return s != ""
}

// optionAt returns the option key that s starts with, followed by ':'.
func optionAt(s string) (string, bool) {
	for _, k := range optionKeys {
		if len(s) > len(k) && s[len(k)] == ':' && strings.EqualFold(s[:len(k)], k) {
			return k, true
		}
	}
	return "", false
}

// optionValue reads the value of option key starting at i: quoted, or up to
// the next white space, parenthesis or quote. It returns where the value ends.
func optionValue(s string, i int, key string) (int, string, error) {
	if i < len(s) && s[i] == '"' {
		j := strings.IndexByte(s[i+1:], '"')
		if j < 0 {
			return 0, "", fmt.Errorf(`%s: the quote opened after "%s:" is not closed`, key, key)
		}
		v := strings.TrimSpace(s[i+1 : i+1+j])
		if v == "" {
			return 0, "", fmt.Errorf("%s: the value in quotes is empty", key)
		}
		return i + 1 + j + 1, v, nil
	}
	j := i
	for j < len(s) {
		r, n := utf8.DecodeRuneInString(s[j:])
		if unicode.IsSpace(r) || r == '(' || r == ')' || r == '"' {
			break
		}
		j += n
	}
	if j == i {
		return 0, "", fmt.Errorf("%s: needs a value right after the colon, as in %s", key, optionExample(key))
	}
	return j, s[i:j], nil
}

func optionExample(key string) string {
	switch key {
	case "digest":
		return `digest:daily or digest:"0 9 * * 1-5"`
	case "since":
		return "since:7d"
	}
	return `name:"Some Name"`
}

// maxSince is the longest look back a since: option may ask for.
const maxSince = 10 * 366 * 24 * time.Hour

// errSince says what a since: value may be.
var errSince = errors.New("since: want a number of days (7d), hours (12h) or weeks (2w), a duration such as 90m, or a date such as 2026-11-01")

// ParseSince reads a since: option — "7d", "12h", "2w", a Go duration such as
// "90m" or "1h30m", or a date "2026-11-01" (UTC) — as the time it goes back
// to from now.
func ParseSince(v string, now time.Time) (time.Time, error) {
	v = strings.TrimSpace(v)
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		if t.After(now) {
			return time.Time{}, errors.New("since: that date is in the future")
		}
		return t, nil
	}
	var d time.Duration
	if n := len(v); n >= 2 && (v[n-1] == 'd' || v[n-1] == 'w') {
		k, err := strconv.ParseUint(v[:n-1], 10, 32)
		if err != nil {
			return time.Time{}, errSince
		}
		unit := 24 * time.Hour
		if v[n-1] == 'w' {
			unit *= 7
		}
		if k > uint64(maxSince/unit) {
			return time.Time{}, fmt.Errorf("since: at most %d days back", maxSince/(24*time.Hour))
		}
		d = time.Duration(k) * unit
	} else {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			return time.Time{}, errSince
		}
	}
	if d <= 0 {
		return time.Time{}, errors.New("since: must go back some time, as in since:7d")
	}
	if d > maxSince {
		return time.Time{}, fmt.Errorf("since: at most %d days back", maxSince/(24*time.Hour))
	}
	return now.Add(-d), nil
}
