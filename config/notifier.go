package config

import (
	"encoding"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// NotifierType is what the configuration knows of one type of notifier: the
// keys of its [[notifiers]] entries and what its targets look like. Each
// notifier package defines its own; the registry (notifiers/registry) hands
// the list to Load and Parse, so this package names no notifier.
type NotifierType struct {
	// Name is the value of type = "…".
	Name string
	// Settings returns a pointer to a new, zero settings struct of the type.
	// Its exported fields tagged `toml:"key"` are the keys the type takes
	// besides the common ones (see Notifier); the tag may add options after
	// the key: required, nonempty (a string, secret or each element of a
	// list must not be blank), http (an http:// or https:// URL with a host)
	// and min=N (an integer's least value; the default is 0). A field may be
	// a string, a Secret, a bool, an int, a time.Duration, a []string, or a
	// type whose pointer implements encoding.TextUnmarshaler. When the struct
	// has a method Check(*Problems), it is called after its fields are read.
	Settings func() any
	// Channel says whether and how a target of the type names a channel.
	Channel Channel
}

// ChannelUse says whether targets of a notifier type name a channel.
type ChannelUse int

// Uses of a channel in targets.
const (
	// NoChannel: the target is the notifier's name alone ("hook").
	NoChannel ChannelUse = iota
	// OptionalChannel: "name" uses the notifier's default, "name:channel" another.
	OptionalChannel
	// RequiredChannel: every target names a channel ("team-slack:#ai-policy").
	RequiredChannel
)

// Channel is how targets of a notifier type name a channel.
type Channel struct {
	// Use says whether a channel is taken or needed.
	Use ChannelUse
	// Example is a channel as people write it ("#channel", "CHANNEL_ID"),
	// for messages.
	Example string
	// Check, when set, says what is wrong with a channel. Its message is
	// shown as it is, so it says what a channel should look like.
	Check func(channel string) error
}

// Problems collects what a settings struct's Check method finds wrong. Each
// problem is reported at the line of its key.
type Problems struct {
	t    *table
	kind string
}

// Errorf reports a problem with key. The message must not quote a secret.
func (p *Problems) Errorf(key, format string, args ...any) {
	p.t.d.errorf(p.t.at(key), format, args...)
}

// Has reports whether the entry sets key, telling an empty value from a
// missing one.
func (p *Problems) Has(key string) bool { return p.t.has(key) }

// Type returns the notifier type being checked, for messages.
func (p *Problems) Type() string { return p.kind }

// checker is a settings struct that checks itself.
type checker interface{ Check(*Problems) }

// Keys every [[notifiers]] entry may hold, whatever its type.
var commonNotifierKeys = []string{"name", "type", "max_per_hour", "pace"}

// settingField is one tagged field of a settings struct.
type settingField struct {
	key                     string
	index                   int
	required, nonempty, url bool
	min                     int
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// settingFields lists the tagged fields of the struct s points to. It
// panics on a tag it does not understand or a field type it cannot read:
// that is a mistake in a notifier package, found by its first test.
func settingFields(s any) []settingField {
	rt := reflect.TypeOf(s)
	if rt == nil || rt.Kind() != reflect.Pointer || rt.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("config: notifier settings must be a pointer to a struct, not %v", rt))
	}
	rt = rt.Elem()
	var out []settingField
	for i := range rt.NumField() {
		sf := rt.Field(i)
		tag, ok := sf.Tag.Lookup("toml")
		if !ok || !sf.IsExported() {
			continue
		}
		parts := strings.Split(tag, ",")
		f := settingField{key: parts[0], index: i}
		for _, opt := range parts[1:] {
			switch {
			case opt == "required":
				f.required = true
			case opt == "nonempty":
				f.nonempty = true
			case opt == "http":
				f.url = true
			case strings.HasPrefix(opt, "min="):
				n, err := strconv.Atoi(strings.TrimPrefix(opt, "min="))
				if err != nil {
					panic(fmt.Sprintf("config: %s.%s: bad min in tag %q", rt.Name(), sf.Name, tag))
				}
				f.min = n
			default:
				panic(fmt.Sprintf("config: %s.%s: unknown tag option %q", rt.Name(), sf.Name, opt))
			}
		}
		if !readable(sf.Type) {
			panic(fmt.Sprintf("config: %s.%s: cannot read a %v from TOML", rt.Name(), sf.Name, sf.Type))
		}
		out = append(out, f)
	}
	return out
}

func readable(t reflect.Type) bool {
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		return true
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int:
		return true
	case reflect.Int64:
		return t == reflect.TypeFor[time.Duration]()
	case reflect.Slice:
		return t.Elem().Kind() == reflect.String
	}
	return false
}

// settingKeys returns the keys of a notifier type's settings.
func settingKeys(typ NotifierType) []string {
	var keys []string
	for _, f := range settingFields(typ.Settings()) {
		keys = append(keys, f.key)
	}
	return keys
}

// settings reads the keys of a notifier entry that its type takes into a
// new settings struct of the type, and checks it.
func (d *decoder) settings(t *table, typ NotifierType) any {
	s := typ.Settings()
	rv := reflect.ValueOf(s).Elem()
	for _, f := range settingFields(s) {
		if !t.has(f.key) {
			if f.required {
				d.errorf(t.at(f.key), "missing (required for %s notifiers)", typ.Name)
			}
			continue
		}
		t.setting(f, rv.Field(f.index))
	}
	if c, ok := s.(checker); ok {
		c.Check(&Problems{t: t, kind: typ.Name})
	}
	return s
}

// setting reads the value of f's key into v. Messages never quote a
// string's value: it may be a secret.
func (t *table) setting(f settingField, v reflect.Value) {
	p := t.at(f.key)
	if u, ok := v.Addr().Interface().(encoding.TextUnmarshaler); ok {
		if s, ok := t.str(f.key); ok {
			if err := u.UnmarshalText([]byte(s)); err != nil {
				t.d.errorf(p, "%v", err)
			}
		}
		return
	}
	switch {
	case v.Type() == reflect.TypeFor[time.Duration]():
		if d, ok := t.duration(f.key); ok {
			v.SetInt(int64(d))
		}
	case v.Kind() == reflect.String:
		s, ok := t.str(f.key)
		if !ok {
			return
		}
		switch {
		case f.nonempty && strings.TrimSpace(s) == "":
			t.d.errorf(p, "must not be empty")
		case f.url:
			if err := httpURL(s); err != nil {
				t.d.errorf(p, "%v", err)
			}
		}
		v.SetString(s)
	case v.Kind() == reflect.Bool:
		if b, isBool := t.m[f.key].(bool); isBool {
			v.SetBool(b)
		} else {
			t.d.errorf(p, "must be true or false, not %s", typeName(t.m[f.key]))
		}
	case v.Kind() == reflect.Int:
		if n, ok := t.int(f.key, f.min); ok {
			v.SetInt(int64(n))
		}
	case v.Kind() == reflect.Slice:
		elems, _ := t.strs(f.key)
		list := reflect.MakeSlice(v.Type(), 0, len(elems))
		for _, e := range elems {
			if f.nonempty && strings.TrimSpace(e.value) == "" {
				t.d.errorf(e.path, "must not be empty")
				continue
			}
			if f.url {
				if err := httpURL(e.value); err != nil {
					t.d.errorf(e.path, "%v", err)
					continue
				}
			}
			list = reflect.Append(list, reflect.ValueOf(e.value).Convert(v.Type().Elem()))
		}
		v.Set(list)
	}
}

// Pace is at most N messages per Per to one target. The zero Pace is off:
// messages go as fast as they come.
type Pace struct {
	N   int
	Per time.Duration
}

// Off reports whether the pace lets every message through at once.
func (p Pace) Off() bool { return p.N <= 0 || p.Per <= 0 }

// String returns the pace as written: "5/5s", or "off".
func (p Pace) String() string {
	if p.Off() {
		return "off"
	}
	return strconv.Itoa(p.N) + "/" + shortDuration(p.Per)
}

// ParsePace reads a pace: "N/DURATION" ("1/1s", "5/5s", "20/1m") or "off".
func ParsePace(s string) (Pace, error) {
	s = strings.TrimSpace(s)
	if s == "off" {
		return Pace{}, nil
	}
	bad := fmt.Errorf(`invalid pace %q: want messages per period such as "1/1s" or "20/1m", or "off"`, s)
	num, per, ok := strings.Cut(s, "/")
	if !ok {
		return Pace{}, bad
	}
	n, err := strconv.Atoi(strings.TrimSpace(num))
	if err != nil || n < 1 || n > 10_000 {
		return Pace{}, bad
	}
	d, err := time.ParseDuration(strings.TrimSpace(per))
	if err != nil || d <= 0 || d > 24*time.Hour {
		return Pace{}, bad
	}
	return Pace{N: n, Per: d}, nil
}

// Targets checks targets written at run time — in chat, on the dashboard,
// through the API — against the configured notifiers, as the targets in the
// file are checked.
type Targets struct {
	// Notifiers are the configured notifiers.
	Notifiers []Notifier
	// Types are the notifier types, as handed to Parse.
	Types []NotifierType
}

// Check returns why target ("notifier" or "notifier:channel") cannot be
// used, or nil.
func (ts Targets) Check(target string) error {
	tg, err := ParseTarget(target)
	if err != nil {
		return err
	}
	return checkTarget(tg, ts.Notifiers, ts.Types)
}

// TargetChoice is a configured notifier as a rule editor offers it.
type TargetChoice struct {
	// Notifier is the notifier's name, Type its type.
	Notifier, Type string
	// Channel says whether targets of it name a channel.
	Channel ChannelUse
	// Example is a channel as people write it ("#channel"), when it takes one.
	Example string
}

// Choices returns the configured notifiers, in file order, for people to
// pick targets from.
func (ts Targets) Choices() []TargetChoice {
	out := make([]TargetChoice, 0, len(ts.Notifiers))
	for _, n := range ts.Notifiers {
		c := TargetChoice{Notifier: n.Name, Type: n.Type}
		if j := slices.IndexFunc(ts.Types, func(t NotifierType) bool { return t.Name == n.Type }); j >= 0 {
			c.Channel, c.Example = ts.Types[j].Channel.Use, ts.Types[j].Channel.Example
		}
		out = append(out, c)
	}
	return out
}

// checkTarget checks that tg names a configured notifier and that its
// channel fits the notifier's type.
func checkTarget(tg Target, notifiers []Notifier, types []NotifierType) error {
	i := slices.IndexFunc(notifiers, func(n Notifier) bool { return n.Name == tg.Notifier })
	if i < 0 {
		return unknownError("notifier", tg.Notifier, notifierNames(notifiers))
	}
	n := notifiers[i]
	j := slices.IndexFunc(types, func(t NotifierType) bool { return t.Name == n.Type })
	if j < 0 {
		return nil // the notifier's unknown type has been reported
	}
	ch := types[j].Channel
	switch {
	case ch.Use == RequiredChannel && tg.Channel == "":
		return fmt.Errorf("%s notifier %q needs a channel: write %q", n.Type, n.Name, n.Name+":"+ch.Example)
	case ch.Use == NoChannel && tg.Channel != "":
		return fmt.Errorf("%s notifier %q takes no channel: write %q", n.Type, n.Name, n.Name)
	case tg.Channel != "" && ch.Check != nil:
		return ch.Check(tg.Channel)
	}
	return nil
}

// unknownError reports a reference to a name that is not defined.
func unknownError(what, name string, names []string) error {
	msg := fmt.Sprintf("unknown %s %q", what, name)
	if s := closest(name, names); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	return fmt.Errorf("%s", msg)
}
