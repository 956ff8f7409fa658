package config

import (
	"fmt"
	"strings"
)

// expand replaces every ${NAME} in s with the value of the environment
// variable NAME, and $${ with a literal ${. Any other $ is kept as it is.
// NAME is a letter or underscore followed by letters, digits and underscores.
// Values are inserted as they are, never expanded again, and expansion works
// on decoded string values, so a value cannot add keys to the document.
//
// The problems it returns never quote s, which may be a secret: only the
// names of unset variables.
func expand(s string, env func(string) (string, bool)) (string, []string) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	var problems []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c != '$':
			b.WriteByte(c)
			i++
		case strings.HasPrefix(s[i:], "$${"):
			b.WriteString("${")
			i += 3
		case strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				problems = append(problems, `"${" without a closing "}" (write "$${" for a literal "${")`)
				return "", problems
			}
			name := s[i+2 : i+2+end]
			i += 2 + end + 1
			if !isEnvName(name) {
				problems = append(problems, `invalid variable name in "${...}": use letters, digits and _ (write "$${" for a literal "${")`)
				continue
			}
			v, ok := env(name)
			if !ok {
				problems = append(problems, fmt.Sprintf("environment variable %q is not set", name))
				continue
			}
			b.WriteString(v)
		default:
			b.WriteByte(c)
			i++
		}
	}
	if len(problems) > 0 {
		return "", problems
	}
	return b.String(), nil
}

func isEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}
