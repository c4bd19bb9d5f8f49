package app

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/mail"
	"github.com/baton-course/baton/server/mailtest"
	"github.com/baton-course/baton/server/notify"
	"github.com/baton-course/baton/server/testdb"
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

// TestManagerNoticesOnTwoInstances runs the job queue of two instances on
// one database, their clock three days on from the demo data (its overdue
// module then four days late) and past the week's digest moment: the demo
// manager gets one digest and one escalation per overdue learner, in-app
// and by email, however many runs the two make.
func TestManagerNoticesOnTwoInstances(t *testing.T) {
	url := testdb.URL(t)
	mp := mailtest.Start(t)
	now := time.Now().Add(73 * time.Hour) // past 4 days late, however long seeding takes
	cfg := testConfig(t)
	cfg.Demo, cfg.ReminderInterval = true, time.Second
	cfg.SMTP = mail.Config{Addr: mp.SMTPAddr, From: "Baton <baton@example.com>"}
	cfg.DigestAt = notify.DigestSchedule{Weekday: now.UTC().Weekday()} // due since midnight UTC
	var (
		db     *database.DB
		module string
	)
	for range 2 {
		pool, err := database.Open(context.Background(), url, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = pool.Close() })
		db = pool
		s, err := Build(context.Background(), cfg, pool, testLog(t))
		if err != nil {
			t.Fatal(err)
		}
		s.clock = func() time.Time { return now }
		m, _ := s.Course.Module(demoAssignments[0].module)
		module = "“" + m.Title + "”"
		if err := s.StartJobs(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
	}
	var manager struct{ ID, Email string }
	db.Gorm.Raw(`SELECT id, email FROM users WHERE email = ?`, demoAccounts[0].email).Scan(&manager)
	count := func(q string, args ...any) int {
		var n int
		if err := db.Pool.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Three runs done, and every queued mail sent.
	waitFor(t, "three runs of the reminder job", 60*time.Second, func() bool {
		return count(`SELECT count(*) FROM river_job WHERE kind = 'assignment_reminders' AND state = 'completed'`) >= 3 &&
			count(`SELECT count(*) FROM notifications WHERE email_status = 'pending'`) == 0
	})
	if n := count(`SELECT count(*) FROM notifications WHERE user_id = $1 AND kind = $2`, manager.ID, notify.KindDigest); n != 1 {
		t.Errorf("%d digests", n)
	}
	if n := count(`SELECT count(*) FROM notifications WHERE user_id = $1 AND kind = $2`, manager.ID, notify.KindEscalation); n != 2 {
		t.Errorf("%d escalations, want Ben's and Chloé's", n)
	}
	var subjects []string
	for _, m := range mp.Messages(t) {
		if m.To[0].Address == manager.Email {
			subjects = append(subjects, m.Subject)
			if strings.HasPrefix(m.Subject, "Your team this week") &&
				(!strings.Contains(m.Text, "Ana Lima finished") || !strings.Contains(m.Text, "Ben Carter: ") || !strings.Contains(m.Text, "days overdue")) {
				t.Errorf("digest mail:\n%s", m.Text)
			}
		}
	}
	slices.Sort(subjects)
	want := []string{"Ben Carter is 4 days overdue on " + module, "Chloé Dubois is 4 days overdue on " + module, "Your team this week: " + demoTeamName}
	if !slices.Equal(subjects, want) {
		t.Errorf("the manager's mail: %q, want %q", subjects, want)
	}
}
