package postgres_test

import (
	"testing"

	"github.com/marquee-recsys/marquee/ports/porttest"
)

func TestAnalyticsQuery(t *testing.T) {
	t.Parallel()
	porttest.AnalyticsQuery(t, func(t *testing.T) porttest.Analytics { return openTestDB(t).Analytics() })
}
