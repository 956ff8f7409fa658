package config_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/config"
)

func TestParseRulesExampleConfig(t *testing.T) {
	data, err := os.ReadFile("../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := config.ParseRules("config.example.toml", data, envOf(nil))
	if err != nil {
		t.Fatalf("the example's rules must load with an empty environment:\n%v", err)
	}
	c, err := config.Parse("config.example.toml", data, envOf(nil), types)
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 5 || len(c.Rules) != 5 {
		t.Fatalf("got %d rules (Parse: %d), want 5", len(rules), len(c.Rules))
	}
	for i, r := range rules {
		want := c.Rules[i]
		if r.Name != want.Name || r.Query != want.Query || r.Line != want.Line || r.QueryLine != want.QueryLine ||
			!reflect.DeepEqual(r.Notify, want.Notify) || r.Digest != want.Digest || r.FollowUps != want.FollowUps ||
			r.MinSources != want.MinSources || r.Window != want.Window {
			t.Errorf("rule %d:\ngot  %+v\nwant %+v", i, r, want)
		}
	}
	if rules[0].Name != "nvidia-china-export" || rules[0].Line < 1 || rules[0].QueryLine != rules[0].Line+2 {
		t.Errorf("first rule %+v", rules[0])
	}
}

func TestParseRulesAlone(t *testing.T) {
	data := doc(
		`# Rules for wirewatch match, with no notifiers or sources.`, // 1
		`[[rules]]`,                        // 2
		`name = "nvidia"`,                  // 3
		`query = "nvidia AND ${QQ}"`,       // 4
		`notify = ["ops", "slack:#chips"]`, // 5
		`sources = ["Reuters"]`,            // 6
		`min_sources = 2`,                  // 7
		``,                                 // 8
		`[[rules]]`,                        // 9
		`query = 'tsmc'`,                   // 10
		`name = "tsmc"`,                    // 11
		`digest = "daily"`,                 // 12
	)
	rules, err := config.ParseRules("r.toml", data, envOf(map[string]string{"QQ": "(china OR beijing)"}))
	if err != nil {
		t.Fatal(err)
	}
	want := []config.Rule{
		{Name: "nvidia", Query: "nvidia AND (china OR beijing)",
			Notify:  []config.Target{{Notifier: "ops"}, {Notifier: "slack", Channel: "#chips"}},
			Sources: []string{"Reuters"}, FollowUps: config.FollowUpsThread, MinSources: 2, Window: config.DefaultSurgeWindow,
			Line: 2, QueryLine: 4},
		{Name: "tsmc", Query: "tsmc", Digest: "daily", FollowUps: config.FollowUpsThread, MinSources: 1, Line: 9, QueryLine: 10},
	}
	if !reflect.DeepEqual(rules, want) {
		t.Errorf("got\n%+v\nwant\n%+v", rules, want)
	}
}

func TestParseRulesIgnoresOtherTables(t *testing.T) {
	data := doc(
		`colour = "red"`,                     // 1: unknown top-level key
		`[fetch]`,                            // 2
		`interval = "soon"`,                  // 3: invalid, not read
		`[[notifiers]]`,                      // 4
		`name = "hook"`,                      // 5
		`type = "webhook"`,                   // 6
		`url = "${HOOK_URL}"`,                // 7: unset, not read
		`[http]`,                             // 8
		`listen = "0.0.0.0:80"`,              // 9: no tokens, not read
		`[[rules]]`,                          // 10
		`name = "r"`,                         // 11
		`query = "x"`,                        // 12
		`notify = ["nope", "hook:#channel"]`, // 13: need not name notifiers
		`[widgets]`,                          // 14
		`size = 3`,                           // 15
	)
	rules, err := config.ParseRules("r.toml", data, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 1 || rules[0].Name != "r" || rules[0].Line != 10 || rules[0].QueryLine != 12 {
		t.Errorf("got %+v", rules)
	}
	if _, err := config.Parse("r.toml", data, envOf(nil), types); err == nil {
		t.Error("Parse accepted the file; the test means it to be an invalid configuration")
	}
}

func TestParseRulesErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  []byte
		env  map[string]string
		want []string
	}{
		{"missing variable", doc(`[[rules]]`, `name = "r"`, `query = "nvidia AND ${QQ}"`), nil,
			[]string{`r.toml:3: rules[0].query: environment variable "QQ" is not set`}},
		{"missing variable in a name", doc(`[[rules]]`, `query = "x"`, `name = "${RULE}"`), nil,
			[]string{`r.toml:3: rules[0].name: environment variable "RULE" is not set`}},
		{"unknown key", doc(`[[rules]]`, `name = "r"`, `query = "x"`, `bogus = 1`), nil,
			[]string{`r.toml:4: unknown key "rules[0].bogus"`}},
		{"unknown key in second rule", doc(
			`[[rules]]`, `name = "a"`, `query = "x"`,
			`[[rules]]`, `name = "b"`, `query = "y"`, `quer = "z"`), nil,
			[]string{`r.toml:7: unknown key "rules[1].quer"; did you mean "query"?`}},
		{"unknown key in inline rule", doc(`rules = [`, `  {name = "a", query = "x"},`, `  {name = "b", query = "y", bogus = 1},`, `]`), nil,
			[]string{`r.toml:3: unknown key "rules[1].bogus"`}},
		{"missing name and query", doc(`[[notifiers]]`, `name = "c"`, `[[rules]]`, `digest = "daily"`), nil,
			[]string{
				`r.toml:3: rules[0].name: missing (every rule needs a name)`,
				`r.toml:3: rules[0].query: missing (every rule needs a query)`,
			}},
		{"empty query", doc(`[[rules]]`, `name = "r"`, `query = " "`), nil,
			[]string{`r.toml:3: rules[0].query: must not be empty`}},
		{"query not a string", doc(`[[rules]]`, `name = "r"`, `query = 5`), nil,
			[]string{`r.toml:3: rules[0].query: must be a string, not an integer`}},
		{"duplicate name", doc(`[[rules]]`, `name = "r"`, `query = "x"`, `[[rules]]`, `name = "r"`, `query = "y"`), nil,
			[]string{`r.toml:5: rules[1].name: duplicate rule name "r" (first at line 2)`}},
		{"invalid values", doc(`[[rules]]`, `name = "r"`, `query = "x"`, `digest = "dayly"`, `notify = [":x"]`, `min_sources = 0`), nil,
			[]string{
				`r.toml:4: rules[0].digest: unknown digest "dayly"; did you mean "daily"?`,
				`r.toml:5: rules[0].notify[0]: target ":x" names no notifier`,
				`r.toml:6: rules[0].min_sources: must be at least 1, got 0`,
			}},
		{"rules not an array of tables", doc(`[rules]`, `name = "r"`), nil,
			[]string{`r.toml:1: rules: must be an array of tables, written [[rules]]`}},
		{"syntax error", doc(`[[rules]]`, `name = "r`), nil,
			[]string{`r.toml:2: basic strings cannot have new lines`}},
		{"no rules tables", doc(`[[notifiers]]`, `name = "console"`, `type = "console"`), nil,
			[]string{`r.toml: no [[rules]] tables`}},
		{"empty file", nil, nil,
			[]string{`r.toml: no [[rules]] tables`}},
		{"empty rules array", doc(`rules = []`), nil,
			[]string{`r.toml: no [[rules]] tables`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rules, err := config.ParseRules("r.toml", tt.doc, envOf(tt.env))
			if err == nil {
				t.Fatalf("no error (rules %+v), want %q", rules, tt.want)
			}
			if rules != nil {
				t.Errorf("rules %+v together with an error", rules)
			}
			var es config.Errors
			if !errors.As(err, &es) {
				t.Fatalf("error is %T, want Errors", err)
			}
			got := strings.Split(err.Error(), "\n")
			if len(got) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%s", len(got), len(tt.want), err)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("error %d:\ngot  %s\nwant %s…", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestLoadRules(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rules.toml")
	if err := os.WriteFile(path, doc(`[[rules]]`, `name = "r"`, `query = "${WIREWATCH_TEST_QQ}"`, `window = "3h"`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("WIREWATCH_TEST_QQ", "nvidia")
	rules, err := config.LoadRules(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 1 || rules[0].Query != "nvidia" || rules[0].Window != 3*time.Hour {
		t.Errorf("got %+v", rules)
	}
	_, err = config.LoadRules(filepath.Join(dir, "missing.toml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}
}
