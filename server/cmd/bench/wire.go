package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// wire is the load generator's HTTP/1.1 client: keep-alive connections it
// writes requests to and reads responses from itself, with no goroutines of
// its own. Go's http.Transport costs about as much CPU per request as the
// server's handler on these cores (two goroutines per connection and the
// hand-offs between them), and the generator shares the cores with what it
// measures, like pgbench does with PostgreSQL; this keeps its share small.
type wire struct {
	timeout time.Duration
	mu      sync.Mutex
	idle    map[string][]*wireConn // by host:port
	maxIdle int
}

type wireConn struct {
	c net.Conn
	r *bufio.Reader
}

func newWire(maxIdle int, timeout time.Duration) *wire {
	return &wire{timeout: timeout, idle: map[string][]*wireConn{}, maxIdle: maxIdle}
}

// wireResponse is a response read whole.
type wireResponse struct {
	status     int
	body       []byte
	retryAfter time.Duration // a 429's or 503's Retry-After, in seconds
}

// roundTrip sends one request and reads its whole response.
func (t *wire) roundTrip(ctx context.Context, method, rawURL string, header map[string]string, body []byte) (wireResponse, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return wireResponse{}, err
	}
	if u.Scheme != "http" {
		return wireResponse{}, errors.New("wire: only http:// URLs")
	}
	// A connection idle since the server closed it fails at once; such a
	// request was never received, so it is sent again on a fresh one.
	for try := 0; ; try++ {
		wc, reused, err := t.get(ctx, u.Host)
		if err != nil {
			return wireResponse{}, err
		}
		res, keep, err := t.exchange(ctx, wc, method, u, header, body)
		if err == nil {
			if keep {
				t.put(u.Host, wc)
			} else {
				_ = wc.c.Close()
			}
			return res, nil
		}
		_ = wc.c.Close()
		if !reused || try > 0 || ctx.Err() != nil || !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return wireResponse{}, err
		}
	}
}

func (t *wire) get(ctx context.Context, host string) (*wireConn, bool, error) {
	t.mu.Lock()
	if idle := t.idle[host]; len(idle) > 0 {
		wc := idle[len(idle)-1]
		t.idle[host] = idle[:len(idle)-1]
		t.mu.Unlock()
		return wc, true, nil
	}
	t.mu.Unlock()
	d := net.Dialer{Timeout: 10 * time.Second}
	c, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, false, err
	}
	return &wireConn{c: c, r: bufio.NewReaderSize(c, 16<<10)}, false, nil
}

func (t *wire) put(host string, wc *wireConn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.idle[host]) >= t.maxIdle {
		_ = wc.c.Close()
		return
	}
	t.idle[host] = append(t.idle[host], wc)
}

func (t *wire) exchange(ctx context.Context, wc *wireConn, method string, u *url.URL, header map[string]string, body []byte) (wireResponse, bool, error) {
	deadline := time.Now().Add(t.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = wc.c.SetDeadline(deadline)
	// The whole request in one write: one syscall, no partial writes to check.
	req := make([]byte, 0, 256+len(body))
	req = append(req, method...)
	req = append(req, ' ')
	req = append(req, u.RequestURI()...)
	req = append(req, " HTTP/1.1\r\nHost: "...)
	req = append(req, u.Host...)
	req = append(req, "\r\n"...)
	for k, v := range header {
		req = append(req, k...)
		req = append(req, ": "...)
		req = append(req, v...)
		req = append(req, "\r\n"...)
	}
	if body != nil || method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch {
		req = append(req, "Content-Length: "...)
		req = strconv.AppendInt(req, int64(len(body)), 10)
		req = append(req, "\r\n"...)
	}
	req = append(req, "\r\n"...)
	req = append(req, body...)
	if _, err := wc.c.Write(req); err != nil {
		return wireResponse{}, false, err
	}
	res, err := http.ReadResponse(wc.r, nil)
	if err != nil {
		return wireResponse{}, false, err
	}
	out, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if err != nil {
		return wireResponse{}, false, err
	}
	wr := wireResponse{status: res.StatusCode, body: out}
	if secs, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && secs > 0 {
		wr.retryAfter = time.Duration(secs) * time.Second
	}
	return wr, !res.Close, nil
}

// closeIdle closes the connections kept for the next request.
func (t *wire) closeIdle() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for host, idle := range t.idle {
		for _, wc := range idle {
			_ = wc.c.Close()
		}
		delete(t.idle, host)
	}
}
