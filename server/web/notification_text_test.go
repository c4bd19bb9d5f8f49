package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/baton-course/baton/server/mail"
	"github.com/baton-course/baton/server/mailtest"
)

// Reminder text names the module as plain text (no escaped quotes) and
// carries no time: the due date travels as due_at for the app to show in
// the viewer's zone, and the email states it with its zone named.
func TestReminderTextIsPlainAndTimeTravelsApart(t *testing.T) {
	w := newWorld(t)
	w.db.Gorm.Exec("DELETE FROM notifications")
	due := time.Now().Add(-26 * time.Hour).UTC().Truncate(time.Second)
	assign(t, w.h, w.manager, map[string]any{"module": "ceo-myth", "due_at": due.Format(time.RFC3339), "user_ids": []string{w.other.ID}})
	if _, err := w.s.svc.Notify.Reminders(context.Background(), time.Now(), true); err != nil {
		t.Fatal(err)
	}

	var ns []struct {
		Kind, Title, Body string
		DueAt             *time.Time `json:"due_at"`
	}
	call(t, w.h, "GET", "/api/notifications", nil, w.other.auth()...).JSON(t, &ns)
	var overdue int
	for _, n := range ns {
		if strings.Contains(n.Title+n.Body, `\`) {
			t.Errorf("escaped text: %q / %q", n.Title, n.Body)
		}
		if strings.Contains(n.Body, "UTC") || strings.Contains(n.Body, due.Format("15:04")) {
			t.Errorf("the in-app text carries a time, which the viewer would read in the wrong zone: %q", n.Body)
		}
		if n.Kind != "assignment_overdue" || !strings.Contains(n.Body, `“The "CEO of the product" myth”`) {
			continue
		}
		overdue++
		if n.DueAt == nil || !n.DueAt.Equal(due) {
			t.Errorf("due_at %v, want %v", n.DueAt, due)
		}
	}
	if overdue != 1 {
		t.Fatalf("want one overdue reminder naming the module, got %+v", ns)
	}

	mp := mailtest.Start(t)
	sender, err := mail.New(mail.Config{Addr: mp.SMTPAddr, From: "baton@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.svc.Notify.SendPendingEmails(context.Background(), sender); err != nil {
		t.Fatal(err)
	}
	mp.WaitFor(t, 1, 10*time.Second)
	var found bool
	for _, m := range mp.Messages(t) {
		if !strings.HasPrefix(m.Subject, "Overdue: ") {
			continue
		}
		found = true
		if want := "Due: " + due.Format("Monday 2 January 2006, 15:04") + " UTC"; !strings.Contains(m.Text, want) {
			t.Errorf("email %q lacks %q", m.Text, want)
		}
		if strings.Contains(m.Text, `\"`) {
			t.Errorf("email has escaped quotes: %q", m.Text)
		}
	}
	if !found {
		t.Fatal("no overdue email")
	}
}
