package database_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// Several instances starting at once must all succeed, and the schema must be
// applied exactly once.
func TestConcurrentMigrate(t *testing.T) {
	c := testdb.Cluster(t)
	ctx := context.Background()
	admin, err := database.Open(ctx, c.URL("postgres"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.SQL.Exec("CREATE DATABASE concurrent_migrate"); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := database.Open(ctx, c.URL("concurrent_migrate"), 5*time.Second)
			if err != nil {
				errs <- err
				return
			}
			defer db.Close()
			errs <- database.Migrate(ctx, db.SQL, log)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	db, err := database.Open(ctx, c.URL("concurrent_migrate"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var applied, distinct int
	if err := db.SQL.QueryRow(`SELECT count(*), count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0`).Scan(&applied, &distinct); err != nil {
		t.Fatal(err)
	}
	if applied == 0 || applied != distinct {
		t.Fatalf("%d migrations recorded, %d distinct", applied, distinct)
	}
}
