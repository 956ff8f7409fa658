package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wirewatch/wirewatch/config"
)

func run(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = execute(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExitCodes(t *testing.T) {
	bad := writeFile(t, "bad.toml", "[fetch]\nintervall = \"5m\"\n")
	badQuery := writeFile(t, "q.toml", "[[notifiers]]\nname = \"console\"\ntype = \"console\"\n\n[[rules]]\nname = \"r\"\nquery = 'nvidia (china'\nnotify = [\"console\"]\n")
	tests := []struct {
		name    string
		args    []string
		code    int
		wantErr string
	}{
		{"version", []string{"version"}, 0, ""},
		{"example config checks", []string{"check", "--config", "../../config.example.toml"}, 0, ""},
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"unknown flag", []string{"check", "--nope"}, 2, "unknown flag"},
		{"missing config", []string{"check", "--config", "/nonexistent/wirewatch.toml"}, 2, "not found"},
		{"unknown key with line", []string{"check", "--config", bad}, 2, bad + ":2:"},
		{"bad rule query with line and column", []string{"check", "--config", badQuery}, 2, badQuery + ":7: rule \"r\": query column 8: unbalanced parenthesis"},
		{"match needs a rule source", []string{"match"}, 2, "exactly one of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := run(t, "", tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.code, stderr)
			}
			if !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("stderr %q does not contain %q", stderr, tt.wantErr)
			}
		})
	}
}

func TestConfigErrorsAreFileLineMessageLines(t *testing.T) {
	bad := writeFile(t, "two.toml", "[storage]\nfoo = 1\n\n[[rules]]\nname = \"r\"\nquery = \"x\"\nnotify = [\"nope\"]\n")
	code, _, stderr := run(t, "", "check", "--config", bad)
	if code != 2 {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) < 2 {
		t.Fatalf("want one line per problem, got %q", stderr)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, bad+":") {
			t.Errorf("line %q does not start with FILE:LINE:", l)
		}
	}
}

func TestConfigFlagDefaultsToEnvironment(t *testing.T) {
	t.Setenv("WIREWATCH_CONFIG", "../../config.example.toml")
	if code, out, stderr := run(t, "", "check"); code != 0 || !strings.Contains(out, "config.example.toml") {
		t.Fatalf("check without --config: exit %d, out %q, err %q", code, out, stderr)
	}
}

func TestMatchCommand(t *testing.T) {
	rulesFile := writeFile(t, "rules.toml", `
[[rules]]
name = "nvidia-china"
query = 'nvidia AND (china OR beijing) -"stock price"'
notify = ["console"]

[[rules]]
name = "export"
query = 'export*'
`)
	stdin := `{"id":"s1","title":"Nvidia faces Beijing export curbs"}
not json
{"id":"s2","title":"Nvidia stock price rises in China"}
{"id":"s3","summary":"Exports of wheat"}
`
	code, out, stderr := run(t, stdin, "match", "--rules", rulesFile)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := `{"story":"s1","rule":"nvidia-china","terms":["nvidia","beijing"]}
{"story":"s1","rule":"export","terms":["export*"]}
{"story":"s3","rule":"export","terms":["export*"]}
`
	if out != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
	}
	if !strings.Contains(stderr, "line 2") {
		t.Errorf("bad JSON line not reported with its number: %q", stderr)
	}

	code, _, stderr = run(t, "", "match", "--query", "")
	if code != 2 || !strings.Contains(stderr, `rule "query": column 1: empty query`) {
		t.Errorf("empty --query: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = run(t, "", "match", "--query", "title:(h20 OR")
	if code != 2 || !strings.Contains(stderr, `rule "query"`) || !strings.Contains(stderr, "column") {
		t.Errorf("invalid --query: exit %d, stderr %q", code, stderr)
	}
	t.Setenv("WW_QUERY", "nvidia")
	envRules := writeFile(t, "env.toml", "[[rules]]\nname = \"from-env\"\nquery = \"${WW_QUERY}\"\n")
	code, out, stderr = run(t, `{"id":"e1","title":"Nvidia news"}`+"\n", "match", "--rules", envRules)
	if code != 0 || out != `{"story":"e1","rule":"from-env","terms":["nvidia"]}`+"\n" {
		t.Errorf("${NAME} in --rules: exit %d, out %q, err %q", code, out, stderr)
	}
	unknown := writeFile(t, "unknown.toml", "[[rules]]\nname = \"r\"\nquery = \"nvidia\"\nbogus = 1\n")
	code, _, stderr = run(t, "", "match", "--rules", unknown)
	if code != 2 || !strings.HasPrefix(stderr, unknown+":4:") {
		t.Errorf("unknown key in --rules: exit %d, stderr %q, want %s:4: …", code, stderr, unknown)
	}
	bad := writeFile(t, "bad.toml", "[[rules]]\nname = \"broken\"\nquery = \"titel:nvidia\"\n")
	code, _, stderr = run(t, "", "match", "--rules", bad)
	if code != 2 || !strings.Contains(stderr, `rule "broken"`) || !strings.Contains(stderr, "column 1") {
		t.Errorf("invalid rule in file: exit %d, stderr %q", code, stderr)
	}
}

// TestClusterOptions: [cluster] reaches the judge as its options.
func TestClusterOptions(t *testing.T) {
	for _, tt := range []struct {
		in   config.Cluster
		want float64
	}{
		{config.Cluster{ByFacts: true, FactsThreshold: 0.45}, 0.45},
		{config.Cluster{ByFacts: false, FactsThreshold: 0.45}, -1},
	} {
		if got := clusterOptions(tt.in); got.FactsThreshold != tt.want || got.Window != 0 {
			t.Errorf("clusterOptions(%+v) = %+v, want FactsThreshold %v", tt.in, got, tt.want)
		}
	}
}
