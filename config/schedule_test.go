package config_test

import (
	"strings"
	"testing"

	"github.com/wirewatch/wirewatch/config"
)

// TestDigestsReadAsTheServiceReadsThem checks that the file takes a digest
// setting as a rule made in chat or through the API does: words in any case,
// stored in lower case, cron specs with single spaces.
func TestDigestsReadAsTheServiceReadsThem(t *testing.T) {
	for in, want := range map[string]string{"Daily": "daily", "WEEKLY": "weekly", "hourly": "hourly",
		"0  9 * * 1-5": "0 9 * * 1-5", "@every 2h": "@every 2h"} {
		c, err := config.Parse("t.toml", with(`digest = "`+in+`"`), envOf(nil), types)
		if err != nil {
			t.Fatalf("digest %q: %v", in, err)
		}
		if got := c.Rules[0].Digest; got != want {
			t.Errorf("digest %q read as %q, want %q", in, got, want)
		}
	}
}

// TestScheduleRefusals checks what the schedule package refuses, at its line.
func TestScheduleRefusals(t *testing.T) {
	source := func(spec string) []byte {
		return doc(`[[sources]]`, `name = "a"`, `url = "https://a.example/"`, `schedule = "`+spec+`"`)
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"zone without a spec", source("TZ=UTC"), `t.toml:4: sources[0].schedule: empty cron spec`},
		{"never runs", source("0 0 30 2 *"), `t.toml:4: sources[0].schedule: invalid cron spec "0 0 30 2 *": no date matches it`},
		{"every zero", source("@every 0s"), `t.toml:4: sources[0].schedule: invalid cron spec "@every 0s": @every needs a period of at least 1s`},
		{"unknown word without a near one", with(`digest = "fortnightly"`), `t.toml:8: rules[0].digest: unknown digest "fortnightly": use hourly, daily, weekly`},
		{"unknown zone", with(`timezone = "Mars/Base"`), `t.toml:8: rules[0].timezone: unknown time zone "Mars/Base": use an IANA name such as "Europe/Berlin" or "UTC"`},
	}
	for _, tt := range tests {
		_, err := config.Parse("t.toml", tt.data, envOf(nil), types)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}
