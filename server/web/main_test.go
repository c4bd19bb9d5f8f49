package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/baton-course/baton/server/app"
	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/testdb"
	"github.com/baton-course/baton/server/web"
)

func TestMain(m *testing.M) {
	code := testdb.Main(m)
	if testing.Verbose() {
		fmt.Printf("openapi.json: %d responses validated\n", validatedResponses.Load())
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

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %q: %v", r.Body, err)
	}
}

// call sends one request through the real router. body is sent as-is when it
// is a string, otherwise encoded as JSON.
func call(t testing.TB, h http.Handler, method, path string, body any, header ...string) response {
	t.Helper()
	return callWith(t, h, func(r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
	}, method, path, body)
}

// callWith is call with a hook to adjust the request before it is sent.
func callWith(t testing.TB, h http.Handler, adjust func(*http.Request), method, path string, body any) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = strings.NewReader(string(enc))
	}
	req := httptest.NewRequest(method, path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	adjust(req)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	checkResponseAgainstSpec(t, req, rec.Code, rec.Header(), rec.Body.Bytes())
	return response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

// assertProblem checks that r is an RFC 9457 problem with the given status.
func assertProblem(t testing.TB, r response, status int) map[string]any {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body %s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("content type %q, want application/problem+json", ct)
	}
	var doc map[string]any
	r.json(t, &doc)
	for _, k := range []string{"type", "title", "status", "detail"} {
		if _, ok := doc[k]; !ok {
			t.Fatalf("problem lacks %q: %s", k, r.Body)
		}
	}
	if int(doc["status"].(float64)) != status {
		t.Fatalf("problem status %v, want %d", doc["status"], status)
	}
	return doc
}
