package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notifiers/registry"
	"github.com/wirewatch/wirewatch/rules"
)

func newCheckCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Validate a configuration file and summarise it",
		Long: `check reads the configuration, validates every key and every rule query,
and prints a short summary. Problems are printed as FILE:LINE: message and the
exit status is 2.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), cfg.Summary())
			return nil
		},
	}
	addConfigFlag(cmd, &path)
	return cmd
}

func addConfigFlag(cmd *cobra.Command, path *string) {
	cmd.Flags().StringVarP(path, "config", "c", "", "configuration file (default $WIREWATCH_CONFIG, then wirewatch.toml)")
}

// configPath applies the documented defaults for --config.
func configPath(flag string) string {
	if flag != "" {
		return flag
	}
	if env := os.Getenv("WIREWATCH_CONFIG"); env != "" {
		return env
	}
	return "wirewatch.toml"
}

// loadConfig loads and validates the configuration, rule queries included.
// Every problem is a usage error (exit 2).
func loadConfig(flag string) (*config.Config, error) {
	path := configPath(flag)
	cfg, err := config.Load(path, registry.ConfigTypes())
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, usagef("configuration file %s not found (use --config FILE or set WIREWATCH_CONFIG)", path)
		}
		return nil, usageError{err: err, bare: true}
	}
	var errs []error
	for _, r := range cfg.Rules {
		if _, err := rules.Parse(r.Query); err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: rule %q: query %w", cfg.File, r.QueryLine, r.Name, err))
		}
	}
	if len(errs) > 0 {
		return nil, usageError{err: errors.Join(errs...), bare: true}
	}
	return cfg, nil
}
