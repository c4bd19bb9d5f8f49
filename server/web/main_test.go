package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"testing"

	"github.com/baton-course/baton/server/accounts"
	"github.com/baton-course/baton/server/app"
	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/testdb"
	"github.com/baton-course/baton/server/web"
	"github.com/baton-course/baton/server/web/webtest"
)

func TestMain(m *testing.M) {
	code := testdb.Main(m)
	if testing.Verbose() {
		fmt.Printf("openapi.json: %d responses validated\n", webtest.Validated())
	}
	os.Exit(code)
}

// testLog shows the server's warnings and errors in the test's own output.
func testLog(t testing.TB) *slog.Logger { return testdb.Log(t) }

func testConfig(t testing.TB) app.Config {
	t.Helper()
	cfg, err := app.LoadConfig(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	// Sign-ups and sign-ins are most of these tests' CPU at the real
	// argon2id cost (under -race); the tests that measure hashing use it.
	cfg.HashCost = accounts.CheapHashCost
	return cfg
}

// testServer is the real router with the areas behind it, for tests that
// look past the HTTP surface.
type testServer struct {
	*web.Server
	svc *app.Services
}

// newTestServer builds the real router on a fresh migrated database.
func newTestServer(t testing.TB) (*testServer, *database.DB) {
	t.Helper()
	db := newTestDB(t)
	return buildServer(t, testConfig(t), db), db
}

// buildServer builds every area and the router with cfg on db.
func buildServer(t testing.TB, cfg app.Config, db *database.DB) *testServer {
	t.Helper()
	svc, err := app.Build(context.Background(), cfg, db, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	return &testServer{Server: svc.Web, svc: svc}
}

func newTestDB(t testing.TB) *database.DB { return testdb.New(t) }

type response = webtest.Response

func call(t testing.TB, h http.Handler, method, path string, body any, header ...string) response {
	t.Helper()
	return webtest.Call(t, h, method, path, body, header...)
}

func callWith(t testing.TB, h http.Handler, adjust func(*http.Request), method, path string, body any) response {
	t.Helper()
	return webtest.CallWith(t, h, adjust, method, path, body)
}

func assertProblem(t testing.TB, r response, status int) map[string]any {
	t.Helper()
	return webtest.AssertProblem(t, r, status)
}
