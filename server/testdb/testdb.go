// Package testdb gives tests a real PostgreSQL: one embedded cluster per test
// process, a template database migrated once, and a fresh clone of it for
// every test, so tests are isolated and can run in parallel.
package testdb

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/embeddedpg"
)

const template = "baton_template"

var (
	once     sync.Once
	cluster  *embeddedpg.Cluster
	dir      string
	startErr error
	cloneMu  sync.Mutex
	seq      atomic.Int64
)

// Main runs a package's tests and then stops the shared cluster. Use it as
// func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }.
func Main(m *testing.M) int {
	code := m.Run()
	if cluster != nil {
		cluster.Stop()
	}
	if dir != "" {
		_ = os.RemoveAll(dir)
	}
	return code
}

// Cluster starts the shared cluster on first use and returns it.
func Cluster(t testing.TB) *embeddedpg.Cluster {
	t.Helper()
	once.Do(func() { startErr = start() })
	if startErr != nil {
		t.Fatalf("test PostgreSQL: %v", startErr)
	}
	return cluster
}

func start() error {
	var err error
	if dir, err = os.MkdirTemp("", "baton-test-"); err != nil {
		return err
	}
	ctx := context.Background()
	// Durability is not under test here; turning it off makes the many
	// CREATE DATABASE calls and writes of a test run much faster.
	cluster, err = embeddedpg.Start(ctx, embeddedpg.Options{Dir: dir, Settings: map[string]string{
		"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", "max_connections": "300",
	}})
	if err != nil {
		return err
	}
	admin, err := database.Open(ctx, cluster.URL("postgres"), 10*time.Second)
	if err != nil {
		return err
	}
	defer admin.Close()
	if _, err := admin.SQL.ExecContext(ctx, "CREATE DATABASE "+template); err != nil {
		return err
	}
	tmpl, err := database.Open(ctx, cluster.URL(template), 10*time.Second)
	if err != nil {
		return err
	}
	// The template must have no open connections when it is cloned.
	defer tmpl.Close()
	return database.Migrate(ctx, tmpl, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// URL creates a fresh migrated database for this test, dropped when it ends.
func URL(t testing.TB) string {
	t.Helper()
	c := Cluster(t)
	name := fmt.Sprintf("t_%d_%d", os.Getpid(), seq.Add(1))
	ctx := context.Background()
	admin, err := database.Open(ctx, c.URL("postgres"), 10*time.Second)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	defer admin.Close()
	cloneMu.Lock()
	_, err = admin.SQL.ExecContext(ctx, "CREATE DATABASE "+name+" TEMPLATE "+template)
	cloneMu.Unlock()
	if err != nil {
		t.Fatalf("testdb: clone template: %v", err)
	}
	t.Cleanup(func() {
		admin, err := database.Open(ctx, c.URL("postgres"), 10*time.Second)
		if err != nil {
			return
		}
		defer admin.Close()
		_, _ = admin.SQL.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return c.URL(name)
}

// New opens a pool on a fresh migrated database, closed when the test ends.
func New(t testing.TB) *database.DB {
	t.Helper()
	db, err := database.Open(context.Background(), URL(t), 10*time.Second)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}
