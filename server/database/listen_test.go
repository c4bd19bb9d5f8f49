package database_test

import (
	"context"
	"testing"
	"time"

	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/testdb"
)

// A notification committed on the pool reaches the listener, and a
// listener whose connection is cut says so and comes back.
func TestListenDeliversAndReconnects(t *testing.T) {
	db := testdb.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan string, 10)
	ups, downs := make(chan struct{}, 10), make(chan struct{}, 10)
	ready := db.Listen(ctx, "baton_test", database.Listener{
		Notify: func(p string) { got <- p },
		Up:     func() { ups <- struct{}{} },
		Down:   func() { downs <- struct{}{} },
	}, testdb.Log(t))
	<-ready
	<-ups
	for i := range 3 {
		start := time.Now()
		if _, err := db.Pool.Exec(ctx, "SELECT pg_notify('baton_test', 'hello')"); err != nil {
			t.Fatal(err)
		}
		select {
		case p := <-got:
			if p != "hello" {
				t.Fatalf("payload %q", p)
			}
			t.Logf("notification %d arrived after %v", i, time.Since(start))
		case <-time.After(5 * time.Second):
			t.Fatal("no notification within 5 s")
		}
	}
	if _, err := db.Pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	for name, ch := range map[string]chan struct{}{"down": downs, "up again": ups} {
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Fatalf("listener never reported %s", name)
		}
	}
}
