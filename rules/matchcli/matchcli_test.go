package matchcli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/wirewatch/wirewatch/rules"
)

func named(t *testing.T, pairs ...string) []NamedQuery {
	t.Helper()
	var out []NamedQuery
	for i := 0; i < len(pairs); i += 2 {
		q, err := rules.Parse(pairs[i+1])
		if err != nil {
			t.Fatalf("Parse(%q): %v", pairs[i+1], err)
		}
		out = append(out, NamedQuery{Name: pairs[i], Query: q})
	}
	return out
}

func run(t *testing.T, rs []NamedQuery, input string) (stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := Run(context.Background(), rs, strings.NewReader(input), &out, &errOut); err != nil {
		t.Fatalf("Run: %v", err)
	}
	return out.String(), errOut.String()
}

func TestRun(t *testing.T) {
	rs := named(t,
		"nvidia-china", `nvidia AND (china OR beijing)`,
		"export", `export*`,
		"reuters", `site:reuters.com OR source:reuters`,
		"tech", `category:tech`,
	)
	input := `{"id":"s1","title":"Nvidia faces new China export rules","summary":"Beijing responds","url":"https://www.reuters.com/x","source":"Reuters","author":"A","categories":["Tech"],"published":"2026-11-28T09:00:00Z"}
{"id":"s2","title":"Nothing here"}
{"id":"s3","summary":"Exports of <chips> & more"}
`
	stdout, stderr := run(t, rs, input)
	want := `{"story":"s1","rule":"nvidia-china","terms":["nvidia","china","beijing"]}
{"story":"s1","rule":"export","terms":["export*"]}
{"story":"s1","rule":"reuters","terms":["site:reuters.com","reuters"]}
{"story":"s1","rule":"tech","terms":["tech"]}
{"story":"s3","rule":"export","terms":["export*"]}
`
	if stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout, want)
	}
	if stderr != "" {
		t.Errorf("stderr = %q, want nothing", stderr)
	}
}

// TestRunTermForms pins how terms are reported (SPEC: lower-cased, a phrase as
// its words joined by one space): the query's normalised words, a prefix with
// its '*', a regular expression lower-cased.
func TestRunTermForms(t *testing.T) {
	rs := named(t,
		"us", `U.S.`,
		"hyphen", `export-control`,
		"hyphen-upper", `Export-Control`,
		"phrase", `"U.S. export"`,
		"regex", `/NVIDIA/`,
		"spaces", `"Export   Control"`,
		"prefix", `Export*`,
		"accents", `Zürich`,
		"field", `title:H20`,
		"near", `U.S. NEAR/3 Export-Control`,
		"site", `site:Reuters.com`,
	)
	input := `{"id":"s1","title":"U.S. export-control rules for NVIDIA H20 in Zurich","url":"https://www.reuters.com/x"}` + "\n"
	stdout, stderr := run(t, rs, input)
	want := `{"story":"s1","rule":"us","terms":["u s"]}
{"story":"s1","rule":"hyphen","terms":["export control"]}
{"story":"s1","rule":"hyphen-upper","terms":["export control"]}
{"story":"s1","rule":"phrase","terms":["u s export"]}
{"story":"s1","rule":"regex","terms":["/nvidia/"]}
{"story":"s1","rule":"spaces","terms":["export control"]}
{"story":"s1","rule":"prefix","terms":["export*"]}
{"story":"s1","rule":"accents","terms":["zurich"]}
{"story":"s1","rule":"field","terms":["h20"]}
{"story":"s1","rule":"near","terms":["u s","export control"]}
{"story":"s1","rule":"site","terms":["site:reuters.com"]}
`
	if stdout != want || stderr != "" {
		t.Errorf("stdout:\n%s\nwant:\n%s\nstderr: %q", stdout, want, stderr)
	}
}

func TestRunRuleOrderAndDuplicateNames(t *testing.T) {
	rs := named(t, "b", "china", "a", "nvidia", "b", "chips")
	stdout, _ := run(t, rs, `{"id":"s1","title":"Nvidia chips for China"}`)
	want := `{"story":"s1","rule":"b","terms":["china"]}
{"story":"s1","rule":"a","terms":["nvidia"]}
{"story":"s1","rule":"b","terms":["chips"]}
`
	if stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout, want)
	}
}

func TestRunBadLines(t *testing.T) {
	rs := named(t, "q", "nvidia")
	input := "{\"id\":\"s1\",\"title\":\"Nvidia\"}\n" +
		"\n" +
		"{\"id\":\"s2\",\"title\":\n" + // line 3: not valid JSON
		"{\"title\":\"Nvidia without id\"}\n" + // line 4
		"{\"id\":\"s5\",\"title\":5}\n" + // line 5: wrong type
		"[1,2]\n" + // line 6
		"{\"id\":\"s7\",\"title\":\"nvidia\"}\r\n" + // CRLF
		"{\"id\":\"s8\",\"title\":\"NVIDIA at the end\"}" // no final newline
	stdout, stderr := run(t, rs, input)
	wantOut := `{"story":"s1","rule":"q","terms":["nvidia"]}
{"story":"s7","rule":"q","terms":["nvidia"]}
{"story":"s8","rule":"q","terms":["nvidia"]}
`
	if stdout != wantOut {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout, wantOut)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	wantErr := []string{"line 3: invalid JSON: ", `line 4: invalid story: no "id"`, "line 5: invalid story: ", "line 6: invalid story: "}
	if len(lines) != len(wantErr) {
		t.Fatalf("stderr:\n%s\nwant %d lines", stderr, len(wantErr))
	}
	for i, w := range wantErr {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("stderr line %d = %q, want prefix %q", i+1, lines[i], w)
		}
	}
}

func TestRunLongLines(t *testing.T) {
	rs := named(t, "q", "needle")
	long := strings.Repeat("hay ", 100_000) // 400 KB, far past a Scanner's 64 KiB
	// Rules see the first 32 KiB of the content only, so the needle is in
	// the title, after the long content on the line.
	input := `{"id":"s1","content":"` + long + `","title":"needle"}` + "\n" + `{"id":"s2","title":"needle"}` + "\n"
	stdout, stderr := run(t, rs, input)
	want := `{"story":"s1","rule":"q","terms":["needle"]}
{"story":"s2","rule":"q","terms":["needle"]}
`
	if stdout != want || stderr != "" {
		t.Errorf("stdout:\n%s\nstderr: %q", stdout, stderr)
	}
}

func TestRunTooLongLine(t *testing.T) {
	rs := named(t, "q", "needle")
	input := `{"id":"s1","content":"` + strings.Repeat("x", MaxLine) + `"}` + "\n" + `{"id":"s2","title":"needle"}` + "\n"
	stdout, stderr := run(t, rs, input)
	if want := `{"story":"s2","rule":"q","terms":["needle"]}` + "\n"; stdout != want {
		t.Errorf("stdout = %q, want %q", stdout, want)
	}
	if !strings.HasPrefix(stderr, "line 1: longer than") {
		t.Errorf("stderr = %q", stderr)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestRunIOErrors(t *testing.T) {
	rs := named(t, "q", "nvidia")
	err := Run(context.Background(), rs, strings.NewReader(`{"id":"s1","title":"nvidia"}`), failingWriter{}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Run to a failing writer = %v, want the write error", err)
	}
	err = Run(context.Background(), rs, failingReader{}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "broken pipe") {
		t.Errorf("Run from a failing reader = %v, want the read error", err)
	}
	err = Run(context.Background(), rs, strings.NewReader("not json\n"), io.Discard, failingWriter{})
	if err == nil {
		t.Errorf("Run with a failing error writer = nil, want an error")
	}
}

func TestRunCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := Run(ctx, named(t, "q", "nvidia"), strings.NewReader(`{"id":"s1","title":"nvidia"}`), io.Discard, io.Discard)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
}
