package scaletest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/embeddedpg"
)

// TestPooledDatabase opens Baton's pool through PgBouncer in transaction
// mode: the migrations run (their session locks on the direct URL), the
// pool uses cache_describe, concurrent transactions of many statements
// with typed and JSON values succeed however PgBouncer interleaves server
// connections, and a notification committed through the pooler reaches a
// listener, whose LISTEN holds only on a direct connection.
func TestPooledDatabase(t *testing.T) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "baton-pooled-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o711); err != nil {
		t.Fatal(err)
	}
	primary, err := embeddedpg.Start(ctx, embeddedpg.Options{Dir: filepath.Join(dir, "primary"), Settings: map[string]string{"fsync": "off"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(primary.Stop)
	if err := createDatabase(ctx, primary); err != nil {
		t.Fatal(err)
	}
	bouncer, err := startBouncer(ctx, filepath.Join(dir, "pgbouncer"), primary)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bouncer.Stop)

	db, err := database.OpenPooled(ctx, bouncer.URL(), primary.URL("baton"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if !db.Pooled() || db.Pool.Config().ConnConfig.DefaultQueryExecMode != pgx.QueryExecModeCacheDescribe {
		t.Fatalf("pooled %v, query mode %v", db.Pooled(), db.Pool.Config().ConnConfig.DefaultQueryExecMode)
	}
	if err := database.Migrate(ctx, db, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}

	listenCtx, stopListening := context.WithCancel(ctx)
	defer stopListening()
	got := make(chan string, 10)
	<-db.Listen(listenCtx, "baton_pooled", database.Listener{Notify: func(p string) { got <- p }, Up: func() {}, Down: func() {}}, slog.New(slog.NewTextHandler(io.Discard, nil)))

	if _, err := db.Pool.Exec(ctx, `CREATE TABLE pooled_probe (id int PRIMARY KEY, doc jsonb NOT NULL, at timestamptz NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for w := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				id := w*100 + i
				tx, err := db.Pool.Begin(ctx)
				if err != nil {
					errs <- err
					return
				}
				_, err = tx.Exec(ctx, `INSERT INTO pooled_probe (id, doc, at) VALUES ($1, $2, $3)`, id, map[string]any{"w": w, "i": i}, time.Now())
				if err == nil {
					var doc map[string]any
					err = tx.QueryRow(ctx, `SELECT doc FROM pooled_probe WHERE id = $1`, id).Scan(&doc)
					if err == nil && doc["i"] != float64(i) {
						err = fmt.Errorf("read back %v", doc)
					}
				}
				if err != nil {
					_ = tx.Rollback(ctx)
					errs <- err
					return
				}
				if err := tx.Commit(ctx); err != nil {
					errs <- err
					return
				}
				// Outside a transaction each statement may land on another
				// server connection.
				var n int
				if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM pooled_probe WHERE id <= $1`, id).Scan(&n); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var rows int
	if err := db.Gorm.Raw(`SELECT count(*) FROM pooled_probe`).Scan(&rows).Error; err != nil || rows != 32*20 {
		t.Fatalf("rows %d (%v)", rows, err)
	}

	if _, err := db.Pool.Exec(ctx, `SELECT pg_notify('baton_pooled', 'through the pooler')`); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-got:
		if p != "through the pooler" {
			t.Fatalf("payload %q", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no notification within 5 s")
	}
}
