package notify

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/baton-course/baton/server/problem"
	"github.com/baton-course/baton/server/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// A learner lists and marks only their own notifications.
func TestNotificationsAreOwn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	s := New(db.Gorm, nil)
	ann, _ := testdb.User(t, db, "learner", "Ann")
	ben, _ := testdb.User(t, db, "learner", "Ben")
	for _, uid := range []string{ann, ann, ben} {
		if err := db.Gorm.Exec(`INSERT INTO notifications (user_id, kind, title, body, link) VALUES (?, 'assignment_overdue', 'Overdue', 'b', '/')`, uid).Error; err != nil {
			t.Fatal(err)
		}
	}
	mine, err := s.List(ctx, ann, false)
	if err != nil || len(mine) != 2 {
		t.Fatalf("%v %+v", err, mine)
	}
	bens, _ := s.List(ctx, ben, false)
	var p *problem.Error
	if err := s.MarkRead(ctx, ann, bens[0].ID); !errors.As(err, &p) || p.Code != problem.NotFound {
		t.Fatalf("marking another's notification: %v", err)
	}
	if err := s.MarkRead(ctx, ann, "nope"); !errors.As(err, &p) || p.Code != problem.NotFound {
		t.Fatalf("bad id: %v", err)
	}
	if err := s.MarkRead(ctx, ann, mine[0].ID); err != nil {
		t.Fatal(err)
	}
	if unread, _ := s.List(ctx, ann, true); len(unread) != 1 {
		t.Fatalf("unread after one read: %+v", unread)
	}
	if err := s.MarkAllRead(ctx, ann); err != nil {
		t.Fatal(err)
	}
	if unread, _ := s.List(ctx, ann, true); len(unread) != 0 {
		t.Fatalf("unread after all read: %+v", unread)
	}
	if unread, _ := s.List(ctx, ben, true); len(unread) != 1 {
		t.Fatalf("ben's were touched: %+v", unread)
	}
}
