package notifiertest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// AssertNoSecretLeak fails the test unless err is non-nil and neither its text
// nor that of any error it wraps holds a secret, as written or URL-escaped.
func AssertNoSecretLeak(t testing.TB, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("want an error, got nil")
	}
	var texts []string
	for _, e := range chain(err) {
		texts = append(texts, e.Error(), fmt.Sprintf("%+v", e), fmt.Sprintf("%#v", e))
	}
	for _, s := range secrets {
		if s == "" {
			t.Fatal("AssertNoSecretLeak: empty secret")
		}
		forms := []string{s, url.PathEscape(s), url.QueryEscape(s)}
		for _, text := range texts {
			for _, f := range forms {
				if strings.Contains(text, f) {
					t.Errorf("error leaks secret %q: %s", s, text)
					break
				}
			}
		}
	}
}

// chain returns err and every error it wraps, depth first.
func chain(err error) []error {
	var out []error
	var walk func(error, int)
	walk = func(e error, depth int) {
		if e == nil || depth > 64 {
			return
		}
		out = append(out, e)
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap(), depth+1)
		case interface{ Unwrap() []error }:
			for _, inner := range u.Unwrap() {
				walk(inner, depth+1)
			}
		}
	}
	walk(err, 0)
	return out
}

// JSONEq fails the test unless want and got are the same JSON value: object
// key order and spacing do not matter, numbers compare by value. The failure
// lists each difference by its path ($.story.summary) and shows both values.
func JSONEq(t testing.TB, want, got string) {
	t.Helper()
	w, err := decodeJSON(want)
	if err != nil {
		t.Fatalf("JSONEq: want is not JSON: %v\n%s", err, want)
	}
	g, err := decodeJSON(got)
	if err != nil {
		t.Errorf("JSONEq: got is not JSON: %v\n%s", err, got)
		return
	}
	var diffs []string
	diffJSON("$", w, g, &diffs)
	if len(diffs) > 0 {
		t.Errorf("JSON differs:\n  %s\nwant: %s\ngot:  %s", strings.Join(diffs, "\n  "), compact(want), compact(got))
	}
}

func decodeJSON(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("more than one value")
	}
	return v, nil
}

func diffJSON(path string, want, got any, diffs *[]string) {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			break
		}
		keys := make([]string, 0, len(w)+len(g))
		for k := range w {
			keys = append(keys, k)
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			p := path + "." + k
			wv, inW := w[k]
			gv, inG := g[k]
			switch {
			case !inG:
				*diffs = append(*diffs, fmt.Sprintf("%s: missing, want %s", p, show(wv)))
			case !inW:
				*diffs = append(*diffs, fmt.Sprintf("%s: unexpected %s", p, show(gv)))
			default:
				diffJSON(p, wv, gv, diffs)
			}
		}
		return
	case []any:
		g, ok := got.([]any)
		if !ok {
			break
		}
		for i := range max(len(w), len(g)) {
			p := fmt.Sprintf("%s[%d]", path, i)
			switch {
			case i >= len(g):
				*diffs = append(*diffs, fmt.Sprintf("%s: missing, want %s", p, show(w[i])))
			case i >= len(w):
				*diffs = append(*diffs, fmt.Sprintf("%s: unexpected %s", p, show(g[i])))
			default:
				diffJSON(p, w[i], g[i], diffs)
			}
		}
		return
	case json.Number:
		if g, ok := got.(json.Number); ok && sameNumber(w, g) {
			return
		}
	default:
		if want == got {
			return
		}
	}
	*diffs = append(*diffs, fmt.Sprintf("%s: want %s, got %s", path, show(want), show(got)))
}

func sameNumber(a, b json.Number) bool {
	if a == b {
		return true
	}
	af, errA := a.Float64()
	bf, errB := b.Float64()
	return errA == nil && errB == nil && af == bf
}

func show(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSpace(buf.String())
}

func compact(s string) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(s)); err != nil {
		return s
	}
	return buf.String()
}
