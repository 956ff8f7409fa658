package config

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// decoder turns a decoded TOML document into a Config, collecting every
// problem it finds instead of stopping at the first.
type decoder struct {
	file  string
	env   func(string) (string, bool)
	lines *lineIndex
	errs  Errors
	// rulesOnly is set by ParseRules: rules' targets and sources are not
	// checked against notifiers and sources, and notify is optional.
	rulesOnly bool
	// types are the notifier types entries may have.
	types []NotifierType
}

// errorf records a problem with the value at p, on p's line.
func (d *decoder) errorf(p keyPath, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: d.lines.line(p), Key: p.String(), Msg: fmt.Sprintf(format, args...)})
}

// table is one TOML table being read, with the keys it may hold.
type table struct {
	d    *decoder
	path keyPath
	m    map[string]any
}

// table returns the table at p, reporting every key in it that is not one of
// known. An absent value is an empty table; a value that is not a table is
// reported and read as an empty table.
func (d *decoder) table(p keyPath, v any, known []string) *table {
	t := &table{d: d, path: p}
	switch v := v.(type) {
	case nil:
	case map[string]any:
		t.m = v
	default:
		d.errorf(p, "must be a table, not %s", typeName(v))
	}
	keys := make([]string, 0, len(t.m))
	for k := range t.m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if slices.Contains(known, k) {
			continue
		}
		kp := p.key(k)
		msg := fmt.Sprintf("unknown key %q", kp.String())
		if s := closest(k, known); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		d.errs = append(d.errs, &Error{File: d.file, Line: d.lines.line(kp), Msg: msg})
	}
	return t
}

// tables returns the tables of the array of tables at p ([[name]] or an
// array of inline tables).
func (d *decoder) tables(p keyPath, v any, known []string) []*table {
	if v == nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		name := ""
		if len(p) > 0 {
			name = p[len(p)-1].name
		}
		d.errorf(p, "must be an array of tables, written [[%s]]", name)
		return nil
	}
	ts := make([]*table, len(list))
	for i, e := range list {
		ts[i] = d.table(p.elem(i), e, known)
	}
	return ts
}

// only returns t limited to keys.
func (t *table) only(keys []string) *table {
	m := make(map[string]any, len(keys))
	for _, k := range keys {
		if v, ok := t.m[k]; ok {
			m[k] = v
		}
	}
	return &table{d: t.d, path: t.path, m: m}
}

// has reports whether the table sets key.
func (t *table) has(key string) bool {
	_, ok := t.m[key]
	return ok
}

// at returns the path of key in t.
func (t *table) at(key string) keyPath { return t.path.key(key) }

// line returns the line of key, or of the table when key is absent.
func (t *table) line(key string) int { return t.d.lines.line(t.at(key)) }

// str returns the string at key with environment variables expanded. ok is
// false when the key is absent or its value is wrong, which is reported.
func (t *table) str(key string) (s string, ok bool) {
	v, present := t.m[key]
	if !present {
		return "", false
	}
	return t.d.expandString(t.at(key), v)
}

// expandString checks that v is a string and expands it.
func (d *decoder) expandString(p keyPath, v any) (string, bool) {
	s, isString := v.(string)
	if !isString {
		d.errorf(p, "must be a string, not %s", typeName(v))
		return "", false
	}
	s, problems := expand(s, d.env)
	for _, msg := range problems {
		d.errorf(p, "%s", msg)
	}
	return s, len(problems) == 0
}

// element is one string of an array, with its path for messages.
type element struct {
	value string
	path  keyPath
}

// strs returns the array of strings at key, each expanded. Elements with a
// problem are reported and left out. ok is false when the key is absent or
// is not an array.
func (t *table) strs(key string) (elems []element, ok bool) {
	v, present := t.m[key]
	if !present {
		return nil, false
	}
	p := t.at(key)
	list, isList := v.([]any)
	if !isList {
		t.d.errorf(p, "must be an array of strings, not %s", typeName(v))
		return nil, false
	}
	for i, e := range list {
		ep := p.elem(i)
		if s, ok := t.d.expandString(ep, e); ok {
			elems = append(elems, element{value: s, path: ep})
		}
	}
	return elems, true
}

// int returns the integer at key, which must be at least min.
func (t *table) int(key string, min int) (n int, ok bool) {
	v, present := t.m[key]
	if !present {
		return 0, false
	}
	i, isInt := v.(int64)
	if !isInt {
		t.d.errorf(t.at(key), "must be an integer, not %s", typeName(v))
		return 0, false
	}
	if i < int64(min) {
		if min == 0 {
			t.d.errorf(t.at(key), "must not be negative, got %d", i)
		} else {
			t.d.errorf(t.at(key), "must be at least %d, got %d", min, i)
		}
		return 0, false
	}
	if i > math.MaxInt32 {
		t.d.errorf(t.at(key), "%d is too large", i)
		return 0, false
	}
	return int(i), true
}

// bool returns the boolean at key.
func (t *table) bool(key string) (b, ok bool) {
	v, present := t.m[key]
	if !present {
		return false, false
	}
	b, isBool := v.(bool)
	if !isBool {
		t.d.errorf(t.at(key), "must be true or false, not %s", typeName(v))
		return false, false
	}
	return b, true
}

// fraction returns the number at key, which must be above 0 and at most 1.
func (t *table) fraction(key string) (float64, bool) {
	v, present := t.m[key]
	if !present {
		return 0, false
	}
	var f float64
	switch n := v.(type) {
	case float64:
		f = n
	case int64:
		f = float64(n)
	default:
		t.d.errorf(t.at(key), "must be a number such as 0.4, not %s", typeName(v))
		return 0, false
	}
	if !(f > 0 && f <= 1) {
		t.d.errorf(t.at(key), "must be above 0 and at most 1, got %g", f)
		return 0, false
	}
	return f, true
}

// duration returns the positive Go duration ("90s", "5m") at key.
func (t *table) duration(key string) (time.Duration, bool) {
	v, present := t.m[key]
	if !present {
		return 0, false
	}
	p := t.at(key)
	if _, isString := v.(string); !isString {
		t.d.errorf(p, `must be a duration string such as "90s" or "5m", not %s`, typeName(v))
		return 0, false
	}
	s, ok := t.d.expandString(p, v)
	if !ok {
		return 0, false
	}
	dur, err := time.ParseDuration(strings.TrimSpace(s))
	switch {
	case err != nil:
		t.d.errorf(p, `invalid duration %q: use a Go duration such as "90s", "5m" or "1h"`, s)
		return 0, false
	case dur <= 0:
		t.d.errorf(p, "must be positive, got %q", s)
		return 0, false
	}
	return dur, true
}

// sizeUnits are the units a size may carry, in bytes.
var sizeUnits = []struct {
	name string
	n    int64
}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}

// size returns the positive size at key: an integer of bytes, or a string
// such as "10MiB", "512KiB" or "4096".
func (t *table) size(key string) (int64, bool) {
	v, present := t.m[key]
	if !present {
		return 0, false
	}
	p := t.at(key)
	if n, isInt := v.(int64); isInt {
		if n <= 0 {
			t.d.errorf(p, "must be positive, got %d", n)
			return 0, false
		}
		return n, true
	}
	if _, isString := v.(string); !isString {
		t.d.errorf(p, `must be a size such as "10MiB" or a number of bytes, not %s`, typeName(v))
		return 0, false
	}
	s, ok := t.d.expandString(p, v)
	if !ok {
		return 0, false
	}
	n, err := parseSize(s)
	if err != nil {
		t.d.errorf(p, "invalid size %q: %v", s, err)
		return 0, false
	}
	return n, true
}

// parseSize reads "10MiB", "512 KiB", "100B" or "4096".
func parseSize(s string) (int64, error) {
	num := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range sizeUnits {
		if rest, found := strings.CutSuffix(num, u.name); found {
			num, mult = strings.TrimSpace(rest), u.n
			break
		}
	}
	if num == "" || strings.TrimLeft(num, "0123456789") != "" {
		return 0, fmt.Errorf(`use a number of bytes or a number with KiB, MiB or GiB, such as "10MiB"`)
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("too large")
	}
	if n == 0 {
		return 0, fmt.Errorf("must be positive")
	}
	return n * mult, nil
}

// httpURL checks that s is an absolute http or https URL with a host.
// Its messages never quote s, which may carry a secret.
func httpURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("must be an http:// or https:// URL with a host")
	}
	return nil
}

// sourceURL checks a source's URL: http or https with a host, or file.
// Its messages do not quote the URL either: feed URLs may carry API keys.
func sourceURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		var reason error = err
		if ue, ok := err.(*url.Error); ok {
			reason = ue.Err
		}
		return fmt.Errorf("invalid URL: %w", reason)
	}
	switch u.Scheme {
	case "http", "https":
		if u.Hostname() == "" {
			return fmt.Errorf("%s URL without a host", u.Scheme)
		}
	case "file":
		if u.Path == "" && u.Opaque == "" {
			return fmt.Errorf("file URL without a path")
		}
	case "":
		return fmt.Errorf("URL without a scheme: use http://, https:// or file://")
	default:
		return fmt.Errorf("unsupported URL scheme %q: use http, https or file", u.Scheme)
	}
	return nil
}

// typeName names a decoded TOML value's type for messages.
func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	case time.Time, toml.LocalDate, toml.LocalDateTime, toml.LocalTime:
		return "a date or time"
	default:
		return fmt.Sprintf("a %T", v)
	}
}

// closest returns the candidate nearest to s when it is near enough to be
// what was meant, or "".
func closest(s string, candidates []string) string {
	best, bestDist := "", math.MaxInt
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(s), strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	limit := max(1, len(s)/3)
	if bestDist > limit {
		return ""
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b, in
// bytes: insertions, deletions, substitutions and swaps of neighbours each
// count one, so "dialy" is one from "daily".
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return math.MaxInt
	}
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
