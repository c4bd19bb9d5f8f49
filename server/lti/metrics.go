package lti

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Collectors are the grade queue's figures for /metrics: scores waiting for
// the platform, and those of them that failed at least once (in backoff).
func (s *Service) Collectors() []prometheus.Collector {
	count := func(where string) func() float64 {
		return func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			var n int64
			if err := s.db.WithContext(ctx).Raw(`SELECT count(*) FROM lti_scores WHERE sent_at IS NULL AND ` + where).Scan(&n).Error; err != nil {
				return -1
			}
			return float64(n)
		}
	}
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "baton_lti_scores_pending",
			Help: "LTI scores (AGS) waiting to be posted to their platform.",
		}, count("true")),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "baton_lti_scores_failing",
			Help: "LTI scores whose posting failed at least once and waits for its next try (last_error says why).",
		}, count("last_error IS NOT NULL")),
	}
}
