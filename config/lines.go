package config

import (
	"sort"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// step is one part of a key path: a key, or an index into an array when index >= 0.
type step struct {
	name  string
	index int
}

// keyPath names a value in the document, such as sources[2].url.
type keyPath []step

// key returns the path of the key name inside the table at p.
func (p keyPath) key(name string) keyPath {
	return append(p[:len(p):len(p)], step{name: name, index: -1})
}

// elem returns the path of element i of the array at p.
func (p keyPath) elem(i int) keyPath {
	return append(p[:len(p):len(p)], step{index: i})
}

// String returns the path as users write it: sources[2].url.
func (p keyPath) String() string {
	var b strings.Builder
	for _, s := range p {
		if s.index >= 0 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.index))
			b.WriteByte(']')
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		if isBareKey(s.name) {
			b.WriteString(s.name)
		} else {
			b.WriteString(strconv.Quote(s.name))
		}
	}
	return b.String()
}

// id is the path as a map key; unlike String it cannot confuse a quoted key
// holding dots or brackets with a path.
func (p keyPath) id() string {
	var b strings.Builder
	for _, s := range p {
		if s.index >= 0 {
			b.WriteByte(1)
			b.WriteString(strconv.Itoa(s.index))
		} else {
			b.WriteByte(0)
			b.WriteString(s.name)
		}
	}
	return b.String()
}

func isBareKey(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// lineIndex knows the line of every key, table header and array element of a
// document, by path. It is built from go-toml's parser so that its paths
// agree with the decoded document: the third [[sources]] table is sources[2].
type lineIndex struct {
	starts []int          // offset at which each line starts
	lines  map[string]int // keyPath.id() → line
	arrays map[string]int // keyPath.id() of an array of tables → tables so far
}

// newLineIndex indexes data, which must be a document go-toml has accepted.
// Should the parser still fail, what was indexed so far is kept: lookups
// fall back to the nearest enclosing table.
func newLineIndex(data []byte) *lineIndex {
	x := &lineIndex{
		starts: []int{0},
		lines:  make(map[string]int),
		arrays: make(map[string]int),
	}
	for i, c := range data {
		if c == '\n' {
			x.starts = append(x.starts, i+1)
		}
	}
	var p unstable.Parser
	p.Reset(data)
	var current keyPath
	for p.NextExpression() {
		expr := p.Expression()
		switch expr.Kind {
		case unstable.KeyValue:
			x.keyValue(current, expr)
		case unstable.Table:
			names, line := x.keyOf(expr)
			if len(names) == 0 {
				continue
			}
			current = x.resolve(names, line)
			x.lines[current.id()] = line
		case unstable.ArrayTable:
			names, line := x.keyOf(expr)
			if len(names) == 0 {
				continue
			}
			array := x.resolve(names[:len(names)-1], line).key(names[len(names)-1])
			n := x.arrays[array.id()]
			x.arrays[array.id()] = n + 1
			x.setOnce(array, line)
			current = array.elem(n)
			x.lines[current.id()] = line
		}
	}
	return x
}

// keyOf returns the parts of a node's key and the line of its first part.
func (x *lineIndex) keyOf(n *unstable.Node) ([]string, int) {
	var names []string
	line := 0
	it := n.Key()
	for it.Next() {
		k := it.Node()
		if line == 0 {
			line = x.lineAt(k.Raw)
		}
		names = append(names, string(k.Data))
	}
	return names, line
}

// resolve returns the path of a table header's key, going into the last
// table of every array of tables on the way, as TOML does.
func (x *lineIndex) resolve(names []string, line int) keyPath {
	var p keyPath
	for _, name := range names {
		p = p.key(name)
		if n, ok := x.arrays[p.id()]; ok && n > 0 {
			p = p.elem(n - 1)
		}
		x.setOnce(p, line)
	}
	return p
}

// keyValue indexes a key = value expression inside the table at base.
func (x *lineIndex) keyValue(base keyPath, kv *unstable.Node) {
	names, line := x.keyOf(kv)
	if len(names) == 0 {
		return
	}
	p := base
	for _, name := range names {
		p = p.key(name)
		x.setOnce(p, line)
	}
	x.lines[p.id()] = line
	x.value(p, kv.Value(), line)
}

// value indexes the contents of inline tables and arrays.
func (x *lineIndex) value(p keyPath, v *unstable.Node, line int) {
	switch v.Kind {
	case unstable.InlineTable:
		it := v.Children()
		for it.Next() {
			if c := it.Node(); c.Kind == unstable.KeyValue {
				x.keyValue(p, c)
			}
		}
	case unstable.Array:
		i := 0
		it := v.Children()
		for it.Next() {
			c := it.Node()
			if c.Kind == unstable.Comment {
				continue
			}
			el := p.elem(i)
			l := line
			if c.Raw.Length > 0 {
				l = x.lineAt(c.Raw)
			}
			x.lines[el.id()] = l
			x.value(el, c, l)
			i++
		}
	}
}

func (x *lineIndex) setOnce(p keyPath, line int) {
	if _, ok := x.lines[p.id()]; !ok {
		x.lines[p.id()] = line
	}
}

// lineAt returns the 1-based line of the start of r.
func (x *lineIndex) lineAt(r unstable.Range) int {
	return sort.Search(len(x.starts), func(i int) bool { return x.starts[i] > int(r.Offset) })
}

// line returns the line of p, or of the nearest enclosing table or array
// whose line is known; 0 when none is.
func (x *lineIndex) line(p keyPath) int {
	for i := len(p); i > 0; i-- {
		if l, ok := x.lines[p[:i].id()]; ok {
			return l
		}
	}
	return 0
}
