package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"testing"

	"gorm.io/gorm"

	"github.com/baton-course/baton/server/audit"
	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

var errRollback = errors.New("roll back")

// An entry commits or rolls back with the transaction it was appended in,
// whether that is GORM's or pgx's.
func TestAppendJoinsTheCallersTransaction(t *testing.T) {
	t.Parallel()
	db, ctx := testdb.New(t), context.Background()
	var actor string
	if err := db.Pool.QueryRow(ctx, `INSERT INTO users (email, name, password_hash) VALUES ('a@example.com', 'Ada', 'x') RETURNING id`).Scan(&actor); err != nil {
		t.Fatal(err)
	}
	viaGorm := func(action string, commit bool) {
		err := db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := audit.Append(ctx, database.GormExec(tx), audit.Entry{ActorID: actor, Action: action, Subject: "s:1",
				Details: map[string]any{"n": 1}}); err != nil {
				return err
			}
			if !commit {
				return errRollback
			}
			return nil
		})
		if err != nil && !errors.Is(err, errRollback) {
			t.Fatal(err)
		}
	}
	viaPgx := func(action string, commit bool) {
		tx, err := db.Pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx) //nolint:errcheck // after Commit it is a no-op
		if err := audit.Append(ctx, database.PgxExec(tx), audit.Entry{ActorID: actor, Action: action, Subject: "s:2"}); err != nil {
			t.Fatal(err)
		}
		if commit {
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	viaGorm("gorm.kept", true)
	viaGorm("gorm.dropped", false)
	viaPgx("pgx.kept", true)
	viaPgx("pgx.dropped", false)

	events, err := audit.List(ctx, db.Gorm, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action)
		if e.ActorEmail == nil || *e.ActorEmail != "a@example.com" {
			t.Errorf("%s: actor email %v", e.Action, e.ActorEmail)
		}
	}
	if want := []string{"pgx.kept", "gorm.kept"}; !slices.Equal(actions, want) {
		t.Fatalf("events %v, want %v (newest first)", actions, want)
	}
	var details map[string]int
	if err := json.Unmarshal(events[1].Details, &details); err != nil || details["n"] != 1 {
		t.Fatalf("details %s: %v", events[1].Details, err)
	}
	if string(events[0].Details) != "{}" {
		t.Fatalf("no details are stored as %s, want {}", events[0].Details)
	}
}

func TestListPages(t *testing.T) {
	t.Parallel()
	db, ctx := testdb.New(t), context.Background()
	x := database.PgxExec(db.Pool)
	for range audit.MaxLimit + 5 {
		if err := audit.Append(ctx, x, audit.Entry{Action: "a", Subject: "s"}); err != nil {
			t.Fatal(err)
		}
	}
	page := func(before int64, limit int) []audit.Event {
		t.Helper()
		events, err := audit.List(ctx, db.Gorm, before, limit)
		if err != nil {
			t.Fatal(err)
		}
		return events
	}
	if n := len(page(0, 0)); n != audit.DefaultLimit {
		t.Fatalf("default page %d", n)
	}
	if n := len(page(0, audit.MaxLimit+1)); n != audit.DefaultLimit {
		t.Fatalf("over the maximum: %d", n)
	}
	first := page(0, 3)
	next := page(first[2].ID, 3)
	if len(first) != 3 || next[0].ID != first[2].ID-1 || first[0].ActorID != nil {
		t.Fatalf("pages %+v then %+v", first, next)
	}
}
