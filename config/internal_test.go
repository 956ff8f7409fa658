package config

import (
	"strings"
	"testing"
)

// doc joins lines into a document, so that a test's line numbers can be
// read off its slice: the first string is line 1.
func doc(lines ...string) []byte {
	return []byte(strings.Join(lines, "\n") + "\n")
}

// envOf returns an environment holding vars.
func envOf(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

func TestSizes(t *testing.T) {
	for in, want := range map[string]int64{
		"10MiB": 10 << 20, "512KiB": 512 << 10, "1 GiB": 1 << 30, "4096": 4096, "100B": 100,
	} {
		got, err := parseSize(in)
		if err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "10MB", "1.5MiB", "-1", "0", "10 KiB B", "99999999999999999999"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) accepted", in)
		}
	}
}

func TestExpand(t *testing.T) {
	env := envOf(map[string]string{"A": "x", "EMPTY": "", "META": `"] = 1\n[evil]`, "NEST": "${A}"})
	tests := []struct {
		in, want string
		problems int
	}{
		{"plain", "plain", 0},
		{"${A}", "x", 0},
		{"Bearer ${A}!", "Bearer x!", 0},
		{"${A}${A}", "xx", 0},
		{"${EMPTY}", "", 0},
		{"$${A}", "${A}", 0},
		{"$$${A}", "$${A}", 0}, // read left to right: "$", then "$${"
		{"cost $5 and $A", "cost $5 and $A", 0},
		{"${NEST}", "${A}", 0},
		{"${META}", `"] = 1\n[evil]`, 0},
		{"${MISSING}", "", 1},
		{"${MISSING} ${ALSO}", "", 2},
		{"${", "", 1},
		{"${}", "", 1},
		{"${a-b}", "", 1},
		{"trailing $", "trailing $", 0},
	}
	for _, tt := range tests {
		got, problems := expand(tt.in, env)
		if got != tt.want || len(problems) != tt.problems {
			t.Errorf("expand(%q) = %q, %q; want %q with %d problems", tt.in, got, problems, tt.want, tt.problems)
		}
	}
}

func TestLineIndex(t *testing.T) {
	data := doc(
		`[[sources]]`,                    // 1
		`name = "a"`,                     // 2
		`[[sources]]`,                    // 3
		`name = "b"`,                     // 4
		`[[sources]]`,                    // 5
		`name = "c"`,                     // 6
		``,                               // 7
		`url = "https://c.example/"`,     // 8
		`[fetch]`,                        // 9
		`interval = "5m"`,                // 10
		`[[rules]]`,                      // 11
		`notify = [`,                     // 12
		`  "a", # first`,                 // 13
		`  "b",`,                         // 14
		`]`,                              // 15
		`x = { y = 1, z = [{ w = 2 }] }`, // 16
		`[rules.sub]`,                    // 17
		`k = 1`,                          // 18
	)
	x := newLineIndex(data)
	src := keyPath(nil).key("sources")
	rule := keyPath(nil).key("rules").elem(0)
	for _, tt := range []struct {
		p    keyPath
		want int
	}{
		{src.elem(2).key("url"), 8},
		{src.elem(2), 5},
		{src.elem(1).key("name"), 4},
		{src.elem(1).key("url"), 3}, // absent: its table's header
		{keyPath(nil).key("fetch").key("interval"), 10},
		{keyPath(nil).key("fetch").key("timeout"), 9},
		{rule.key("notify").elem(1), 14},
		{rule.key("x").key("z").elem(0).key("w"), 16},
		{rule.key("sub").key("k"), 18},
		{keyPath(nil).key("nothing"), 0},
	} {
		if got := x.line(tt.p); got != tt.want {
			t.Errorf("line(%s) = %d, want %d", tt.p, got, tt.want)
		}
	}
}
