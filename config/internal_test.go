package config

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
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

// settingsUnderTest has a field of every kind a notifier's settings may have.
type settingsUnderTest struct {
	Name    string        `toml:"name_key,required,nonempty"`
	Token   Secret        `toml:"token,nonempty"`
	URL     string        `toml:"url,http"`
	Flag    bool          `toml:"flag"`
	Count   int           `toml:"count,min=2"`
	Every   time.Duration `toml:"every"`
	List    []string      `toml:"list,nonempty"`
	Custom  upper         `toml:"custom"`
	Ignored string
}

func (s *settingsUnderTest) Check(p *Problems) {
	if s.Count == 3 {
		p.Errorf("count", "three is not allowed for %s notifiers", p.Type())
	}
}

// upper is a setting that reads its own text: upper-case letters only.
type upper string

func (u *upper) UnmarshalText(b []byte) error {
	if strings.ToUpper(string(b)) != string(b) {
		return fmt.Errorf("must be upper case, got %q", b)
	}
	*u = upper(b)
	return nil
}

func TestSettingsDecoding(t *testing.T) {
	typ := NotifierType{Name: "probe", Settings: func() any { return new(settingsUnderTest) }}
	base := []string{`[[notifiers]]`, `name = "p"`, `type = "probe"`}
	c, err := Parse("t.toml", doc(append(base, `name_key = "n"`, `token = "${T}"`, `url = "https://x.example/"`, `flag = true`,
		`count = 5`, `every = "90s"`, `list = ["a", "b"]`, `custom = "ABC"`)...), envOf(map[string]string{"T": "tok"}), []NotifierType{typ})
	if err != nil {
		t.Fatal(err)
	}
	want := &settingsUnderTest{Name: "n", Token: "tok", URL: "https://x.example/", Flag: true, Count: 5, Every: 90 * time.Second,
		List: []string{"a", "b"}, Custom: "ABC"}
	if got := c.Notifiers[0].Settings.(*settingsUnderTest); !reflect.DeepEqual(got, want) {
		t.Errorf("settings %+v, want %+v", got, want)
	}
	_, err = Parse("t.toml", doc(append(base, `token = " "`, `url = "x.example"`, `flag = "yes"`, `count = 3`,
		`list = ["a", ""]`, `custom = "abc"`, `Ignored = "x"`, `every = 5`)...), nil, []NotifierType{typ})
	wantErrs := []string{
		`t.toml:1: notifiers[0].name_key: missing (required for probe notifiers)`,
		`t.toml:4: notifiers[0].token: must not be empty`,
		`t.toml:5: notifiers[0].url: must be an http:// or https:// URL with a host`,
		`t.toml:6: notifiers[0].flag: must be true or false, not a string`,
		`t.toml:7: notifiers[0].count: three is not allowed for probe notifiers`,
		`t.toml:8: notifiers[0].list[1]: must not be empty`,
		`t.toml:9: notifiers[0].custom: must be upper case, got "abc"`,
		`t.toml:10: unknown key "notifiers[0].Ignored"`,
		`t.toml:11: notifiers[0].every: must be a duration string`,
	}
	got := strings.Split(err.Error(), "\n")
	if len(got) != len(wantErrs) {
		t.Fatalf("errors:\n%v\nwant:\n%s", err, strings.Join(wantErrs, "\n"))
	}
	for i := range got {
		if !strings.HasPrefix(got[i], wantErrs[i]) {
			t.Errorf("error %d: %s\nwant %s…", i, got[i], wantErrs[i])
		}
	}
	if _, err := Parse("t.toml", doc(append(base, `name_key = "n"`, `count = 1`)...), nil, []NotifierType{typ}); err == nil ||
		!strings.Contains(err.Error(), "count: must be at least 2, got 1") {
		t.Errorf("min=2: %v", err)
	}
}

func TestSettingFieldsRefuseWhatTheyCannotRead(t *testing.T) {
	for _, s := range []any{
		struct{}{},
		&struct {
			F float64 `toml:"f"`
		}{},
		&struct {
			F string `toml:"f,sometimes"`
		}{},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("settingFields(%T) did not panic", s)
				}
			}()
			settingFields(s)
		}()
	}
}

func TestParsePace(t *testing.T) {
	for in, want := range map[string]Pace{"1/1s": {1, time.Second}, " 5 / 5s ": {5, 5 * time.Second}, "20/1m": {20, time.Minute}, "off": {}} {
		got, err := ParsePace(in)
		if err != nil || got != want {
			t.Errorf("ParsePace(%q) = %v, %v; want %v", in, got, err, want)
		}
		if in == "20/1m" && got.String() != "20/1m" {
			t.Errorf("String() = %q", got.String())
		}
	}
	for _, in := range []string{"", "5", "0/1s", "-1/1s", "1/0s", "1/-1s", "x/1s", "1/soon", "1/48h", "99999/1s"} {
		if _, err := ParsePace(in); err == nil {
			t.Errorf("ParsePace(%q) accepted", in)
		}
	}
}

// FuzzParsePace checks that no input makes ParsePace panic and that what it
// accepts prints back as itself.
func FuzzParsePace(f *testing.F) {
	for _, s := range []string{"1/1s", "5/5s", "off", "20/1m", "1/1h30m", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePace(s)
		if err != nil {
			return
		}
		again, err := ParsePace(p.String())
		if err != nil || again != p {
			t.Errorf("ParsePace(%q) = %v, which reads back as %v, %v", s, p, again, err)
		}
	})
}
