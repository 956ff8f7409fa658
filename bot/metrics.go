package bot

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wirewatch/wirewatch/store"
)

// Metrics are the runtime's Prometheus instruments. Rule names are not used as
// labels: a deployment may hold a hundred thousand rules.
type Metrics struct {
	Fetches       *prometheus.CounterVec   // source, result: ok | not_modified | error
	FetchDuration *prometheus.HistogramVec // source
	Stories       *prometheus.CounterVec   // source: new stories stored
	Matches       prometheus.Counter
	Deliveries    *prometheus.CounterVec // notifier, result: sent | failed | retried | duplicate
	// Rules is the number of rules in force in this process: after a change
	// elsewhere it catches up within seconds.
	Rules prometheus.Gauge
	// RegexBudget counts (story, rule) pairs a rule did not match because
	// the story's regular expression budget ran out (the rule is named in
	// the log and on the dashboard).
	RegexBudget prometheus.Counter
}

// NewMetrics creates the instruments and registers them, with an outbox depth
// gauge read from st at scrape time, on reg.
func NewMetrics(reg prometheus.Registerer, st store.Store) *Metrics {
	m := &Metrics{
		Fetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wirewatch_fetches_total", Help: "Source fetches by outcome.",
		}, []string{"source", "result"}),
		FetchDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "wirewatch_fetch_duration_seconds", Help: "Time to fetch and parse a source.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
		}, []string{"source"}),
		Stories: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wirewatch_stories_ingested_total", Help: "New stories stored, by source.",
		}, []string{"source"}),
		Matches: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wirewatch_matches_total", Help: "Rule matches on new stories.",
		}),
		Deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wirewatch_deliveries_total", Help: "Delivery attempts by notifier and outcome.",
		}, []string{"notifier", "result"}),
		Rules: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "wirewatch_rules", Help: "Rules in force in this process.",
		}),
		RegexBudget: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wirewatch_rule_regex_budget_exceeded_total",
			Help: "Rule evaluations given up because a story's regular expression budget ran out.",
		}),
	}
	depth := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "wirewatch_outbox_depth", Help: "Pending deliveries in the outbox.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := st.OutboxDepth(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	})
	reg.MustRegister(m.Fetches, m.FetchDuration, m.Stories, m.Matches, m.Deliveries, m.Rules, m.RegexBudget, depth)
	return m
}
