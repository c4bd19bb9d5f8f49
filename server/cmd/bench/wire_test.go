package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The generator's own HTTP client reads what net/http's server writes:
// fixed-length and chunked bodies and a Retry-After, on a connection kept alive between
// requests, and sends a request again on a fresh connection when the server
// closed an idle one.
func TestWireRoundTrips(t *testing.T) {
	var conns atomic.Int32
	big := strings.Repeat("lesson ", 4000) // past the server's buffer: chunked
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/small":
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"got":"` + string(body) + `","auth":"` + r.Header.Get("Authorization") + `"}`))
		case "/big":
			_, _ = io.WriteString(w, big)
		case "/missing":
			w.Header().Set("Retry-After", "3")
			http.Error(w, "busy", http.StatusServiceUnavailable)
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	w := newWire(4, 5*time.Second)
	ctx := context.Background()
	res, err := w.roundTrip(ctx, http.MethodPost, srv.URL+"/small", map[string]string{"Authorization": "Bearer t"}, []byte("hi"))
	status, body := res.status, res.body
	if err != nil || status != 200 || string(body) != `{"got":"hi","auth":"Bearer t"}` {
		t.Fatalf("POST: %d %q %v", status, body, err)
	}
	res, err = w.roundTrip(ctx, http.MethodGet, srv.URL+"/big", nil, nil)
	status, body = res.status, res.body
	if err != nil || status != 200 || string(body) != big {
		t.Fatalf("chunked GET: %d, %d bytes, %v", status, len(body), err)
	}
	res, err = w.roundTrip(ctx, http.MethodGet, srv.URL+"/missing", nil, nil)
	if err != nil || res.status != http.StatusServiceUnavailable || res.retryAfter != 3*time.Second {
		t.Fatalf("503: %+v %v", res, err)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for three requests in a row, want one kept alive", n)
	}
	srv.CloseClientConnections() // the server drops the idle connection
	res, err = w.roundTrip(ctx, http.MethodPost, srv.URL+"/small", nil, []byte("again"))
	status, body = res.status, res.body
	if err != nil || status != 200 || !strings.Contains(string(body), "again") {
		t.Fatalf("after the server closed the idle connection: %d %q %v", status, body, err)
	}
}
