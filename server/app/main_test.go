package app

import (
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/baton-course/baton/server/accounts"
	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/testdb"
)

func TestMain(m *testing.M) {
	// The crash-recovery test re-runs this binary as a real Baton process.
	if os.Getenv("BATON_TEST_RUN_SERVER") == "1" {
		os.Exit(Command(nil))
	}
	os.Exit(testdb.Main(m))
}

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// testLog shows the server's warnings and errors in the test's own output.
func testLog(t testing.TB) *slog.Logger { return testdb.Log(t) }

func testConfig(t testing.TB) Config {
	t.Helper()
	cfg, err := LoadConfig(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	// Sign-ups and sign-ins are most of these tests' CPU at the real
	// argon2id cost (under -race); the tests that measure hashing use it.
	cfg.HashCost = accounts.CheapHashCost
	return cfg
}

func newTestDB(t testing.TB) *database.DB { return testdb.New(t) }
