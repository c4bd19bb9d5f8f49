package app

import (
	"context"
	"testing"
	"time"
)

// TestPruneJobRuns: the daily prune is a River periodic job that also runs
// when the queue starts, so stale rows go even on instances redeployed more
// often than daily (accounts.TestPrune tests what it deletes).
func TestPruneJobRuns(t *testing.T) {
	db := newTestDB(t)
	s, err := Build(context.Background(), testConfig(t), db, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if err := db.Gorm.Exec(`INSERT INTO login_throttle (key, failures, window_started_at) VALUES ('address:192.0.2.1', 3, now() - interval '3 days')`).Error; err != nil {
		t.Fatal(err)
	}
	if err := s.StartJobs(context.Background()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var left int64
		db.Gorm.Raw(`SELECT count(*) FROM login_throttle`).Scan(&left)
		if left == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the stale throttle row is still there 30 s after the job queue started")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
