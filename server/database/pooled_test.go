package database_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/testdb"
)

// BATON_DIRECT_DATABASE_URL must reach the very database behind the
// pooler: a direct URL naming another database (a staging one on the same
// server, say) would take the migrations and the LISTEN connection there,
// so migrations would never reach the served database and revocations
// notified in it would never arrive. Opening refuses it.
func TestOpenPooledRefusesAnotherDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	served, other := testdb.URL(t), testdb.URL(t)

	db, err := database.OpenPooled(ctx, served, served, 5*time.Second)
	if err != nil {
		t.Fatalf("the same database: %v", err)
	}
	_ = db.Close()

	db, err = database.OpenPooled(ctx, served, other, 5*time.Second)
	if err == nil {
		_ = db.Close()
		t.Fatal("a direct URL naming another database was accepted")
	}
	if !strings.Contains(err.Error(), "BATON_DIRECT_DATABASE_URL") {
		t.Errorf("error %q does not name BATON_DIRECT_DATABASE_URL", err)
	}
}
