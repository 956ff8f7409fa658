// Package matchcli is the logic of `wirewatch match`: stories in as JSON
// Lines, matches out as JSON Lines, through the same rules.Engine the bot uses.
// It sits beside the road (no store, no notifiers): a way to try rules on
// stories by hand or in scripts. The command's flag handling lives in
// cmd/wirewatch.
package matchcli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/story"
)

// NamedQuery is one rule to match: its name and parsed query.
type NamedQuery struct {
	Name  string
	Query *rules.Query
}

// MaxLine is the longest input line read; a longer one is reported and
// skipped, so that one bad line cannot exhaust memory.
const MaxLine = 16 << 20

// input is a story as `wirewatch match` reads it.
type input struct {
	ID         *string  `json:"id"`
	Title      string   `json:"title"`
	Summary    string   `json:"summary"`
	Content    string   `json:"content"`
	URL        string   `json:"url"`
	Source     string   `json:"source"`
	Author     string   `json:"author"`
	Categories []string `json:"categories"`
	Published  string   `json:"published"`
}

// output is one matching (story, rule) pair.
type output struct {
	Story string   `json:"story"`
	Rule  string   `json:"rule"`
	Terms []string `json:"terms"`
}

// Run reads stories as JSON Lines from in and writes {"story":ID,"rule":NAME,"terms":[...]}
// lines to out, stories in input order, then rules in the order given. A line
// that is not valid JSON is reported on errOut with its line number ("line 3:
// invalid JSON: ...") and skipped, as is a story without an id; so is a rule
// that did not match a story because the regular expression budget ran out. Returns an
// error only for I/O failure (or when ctx is done).
func Run(ctx context.Context, named []NamedQuery, in io.Reader, out, errOut io.Writer) error {
	e := rules.NewEngine()
	for i, r := range named {
		// Keyed by position, so that two rules of one name are both kept.
		e.Set(strconv.Itoa(i), r.Query)
	}
	e.Flush()
	m := e.NewMatcher()

	br := bufio.NewReaderSize(in, 64<<10)
	bw := bufio.NewWriter(out)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	report := func(line int, format string, args ...any) error {
		if _, err := fmt.Fprintf(errOut, "line %d: "+format+"\n", append([]any{line}, args...)...); err != nil {
			return fmt.Errorf("write errors: %w", err)
		}
		return nil
	}
	var buf []byte
	for line := 1; ; line++ {
		if err := ctx.Err(); err != nil {
			bw.Flush()
			return err
		}
		if br.Buffered() == 0 {
			// About to wait for input: let a reader of a pipe see what
			// matched so far.
			if err := bw.Flush(); err != nil {
				return fmt.Errorf("write matches: %w", err)
			}
		}
		data, tooLong, readErr := readLine(br, &buf)
		if readErr != nil && readErr != io.EOF {
			bw.Flush()
			return fmt.Errorf("read stories: %w", readErr)
		}
		if tooLong {
			if err := report(line, "longer than %d bytes; skipped", MaxLine); err != nil {
				return err
			}
		} else if len(bytes.TrimSpace(data)) > 0 {
			if err := matchLine(m, named, line, data, enc, report); err != nil {
				return err
			}
		}
		if readErr == io.EOF {
			break
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write matches: %w", err)
	}
	return nil
}

// readLine reads one line, without its end, reusing *buf. A line longer than
// MaxLine is read to its end and dropped (tooLong). err is io.EOF on the last
// line.
func readLine(br *bufio.Reader, buf *[]byte) (line []byte, tooLong bool, err error) {
	*buf = (*buf)[:0]
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(*buf)+len(chunk) > MaxLine+1 {
				tooLong, *buf = true, (*buf)[:0]
			} else {
				*buf = append(*buf, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return bytes.TrimSuffix(*buf, []byte("\n")), tooLong, err
	}
}

// matchLine decodes one story and writes its matches.
func matchLine(m *rules.Matcher, named []NamedQuery, line int, data []byte, enc *json.Encoder, report func(int, string, ...any) error) error {
	var in input
	if err := json.Unmarshal(data, &in); err != nil {
		var syntaxErr *json.SyntaxError
		if errors.As(err, &syntaxErr) {
			return report(line, "invalid JSON: %v", err)
		}
		return report(line, "invalid story: %v", err)
	}
	if in.ID == nil || *in.ID == "" {
		return report(line, `invalid story: no "id"`)
	}
	s := story.Story{ID: *in.ID, Title: in.Title, Summary: in.Summary, Content: in.Content, URL: in.URL,
		Source: in.Source, Author: in.Author, Categories: in.Categories}
	for _, match := range m.Match(&s) {
		i, _ := strconv.Atoi(match.Rule)
		terms := match.Terms
		if terms == nil {
			terms = []string{}
		}
		if err := enc.Encode(output{Story: s.ID, Rule: named[i].Name, Terms: terms}); err != nil {
			return fmt.Errorf("write matches: %w", err)
		}
	}
	for _, r := range m.OverBudget() {
		i, _ := strconv.Atoi(r)
		if err := report(line, "story %q: rule %q not decided: its regular expressions ran out of the %v budget per story", s.ID, named[i].Name, rules.DefaultRegexBudget); err != nil {
			return err
		}
	}
	return nil
}
