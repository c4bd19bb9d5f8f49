package testdb

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/baton-course/baton/server/database"
)

// Log shows a server's warnings and errors in the test's own output.
func Log(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// FreeAddr is a loopback address nothing listens on right now: for a server
// to start on, or a peer that is down.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// User inserts an account straight into db (its password hash is a dummy:
// it cannot sign in) with a verified email and returns its id and email.
// Domain tests that need someone to act for use it instead of the accounts
// area.
func User(t testing.TB, db *database.DB, role, name string) (id, email string) {
	t.Helper()
	email = fmt.Sprintf("user%d@example.com", seq.Add(1))
	if err := db.Pool.QueryRow(context.Background(),
		`INSERT INTO users (email, name, role, password_hash, email_verified_at) VALUES ($1, $2, $3, 'x', now()) RETURNING id`,
		email, name, role).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id, email
}
