package main

import (
	"errors"
	"io/fs"

	"github.com/spf13/cobra"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/rules/matchcli"
)

func newMatchCmd() *cobra.Command {
	var rulesFile, query string
	cmd := &cobra.Command{
		Use:   "match",
		Short: "Match stories (JSON Lines on stdin) against rules",
		Long: `match reads stories as JSON Lines on standard input and writes one line per
matching (story, rule) pair: {"story":ID,"rule":NAME,"terms":[...]}.
Rules come from a TOML file with [[rules]] tables (a full config works), or
from --query, as a rule named "query".`,
		Example: `  echo '{"id":"s1","title":"Nvidia faces new China export rules"}' | wirewatch match --query 'nvidia AND (china OR beijing)'
  wirewatch match --rules config.example.toml < stories.jsonl`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			byQuery := cmd.Flags().Changed("query")
			if (rulesFile == "") == !byQuery {
				return usagef("match needs exactly one of --rules FILE or --query 'QUERY'")
			}
			var named []matchcli.NamedQuery
			if byQuery {
				q, err := rules.Parse(query)
				if err != nil {
					return usagef("rule \"query\": %w", err)
				}
				named = append(named, matchcli.NamedQuery{Name: "query", Query: q})
			} else {
				var err error
				if named, err = readRules(rulesFile); err != nil {
					return err
				}
			}
			return matchcli.Run(cmd.Context(), named, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&rulesFile, "rules", "", "TOML file with [[rules]] tables (name, query)")
	cmd.Flags().StringVar(&query, "query", "", "one query, matched as the rule \"query\"")
	return cmd
}

// readRules reads the [[rules]] tables of a TOML file (a full configuration
// works): keys checked, ${NAME} expanded, each query parsed.
func readRules(path string) ([]matchcli.NamedQuery, error) {
	rs, err := config.LoadRules(path)
	if err != nil {
		return nil, usageError{err: err, bare: !errors.Is(err, fs.ErrNotExist)}
	}
	named := make([]matchcli.NamedQuery, 0, len(rs))
	for _, r := range rs {
		q, err := rules.Parse(r.Query)
		if err != nil {
			return nil, usagef("rule %q: %w", r.Name, err)
		}
		named = append(named, matchcli.NamedQuery{Name: r.Name, Query: q})
	}
	return named, nil
}
