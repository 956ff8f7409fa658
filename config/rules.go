package config

import (
	"fmt"
	"os"
)

// LoadRules reads path and calls ParseRules with the process environment.
// A file that cannot be read is returned as a wrapped *fs.PathError, so
// errors.Is(err, fs.ErrNotExist) reports a missing file.
func LoadRules(path string) ([]Rule, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read rules: %w", err)
	}
	return ParseRules(path, data, os.LookupEnv)
}

// ParseRules reads the [[rules]] tables of a TOML file — a full configuration or a file of rules
// alone — for `wirewatch match`. Every [[rules]] table is checked strictly (known keys only, name and
// query required, ${NAME} expanded from env with a missing variable named), with FILE:LINE errors;
// other tables and top-level keys are not validated (notify targets need not name notifiers).
//
// Values are checked as Parse checks them, except that notify is optional
// and its targets and the rule's sources are not looked up, since the file
// need not define notifiers or sources. Defaults are applied as by Parse,
// except Timezone, which is empty unless the rule sets it: [alerts] is not
// read. env is as for Parse; problems are returned, in line order, as
// Errors, including a file with no [[rules]] tables.
func ParseRules(file string, data []byte, env func(string) (string, bool)) ([]Rule, error) {
	d, doc, err := newDecoder(file, data, env)
	if err != nil {
		return nil, err
	}
	d.rulesOnly = true
	root := &table{d: d, m: doc}
	rules := d.rules(root, &Config{File: file})
	if err := d.result(); err != nil {
		return nil, err
	}
	if len(rules) == 0 {
		return nil, Errors{{File: file, Msg: "no [[rules]] tables"}}
	}
	return rules, nil
}
