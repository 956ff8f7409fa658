package config

import (
	"strconv"
	"strings"
)

// Error is one problem in a configuration file, printed as "FILE:LINE: key: message".
// Messages never contain the value of a secret.
type Error struct {
	File string // the file as named to Parse or Load
	Line int    // 1-based; 0 when unknown
	Key  string // the key at fault, such as "sources[2].url"; empty when Msg names it
	Msg  string
}

// Error returns "FILE:LINE: key: message", leaving out the parts that are unknown.
func (e *Error) Error() string {
	var b strings.Builder
	file := e.File
	if file == "" {
		file = "config"
	}
	b.WriteString(file)
	if e.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in one configuration file, in line order.
type Errors []*Error

// Error returns the problems one per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems, so that errors.As finds an *Error.
func (es Errors) Unwrap() []error {
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e
	}
	return errs
}
