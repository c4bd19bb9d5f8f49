// Package mailtest gives tests a real SMTP server: a Mailpit process on
// loopback ports, with its HTTP API to read what it received.
//
// Mailpit is built once per machine with `go install` into the user cache
// directory, not declared as a tool in go.mod: as a tool its whole
// dependency graph would join the application's module graph, where minimal
// version selection could raise versions the server itself builds with. The
// build needs the Go module proxy the first time only; Mailpit itself runs
// offline (no version check, no reverse DNS, no relay) and keeps its
// database in the test's temporary directory.
package mailtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Version is the Mailpit release the tests run against.
const Version = "v1.33.1"

// Server is one running Mailpit.
type Server struct {
	// SMTPAddr is the host:port Mailpit accepts mail on. It accepts any
	// credentials, and none, also without TLS.
	SMTPAddr string
	api      string
	client   *http.Client
}

// Address is a mailbox as Mailpit decoded it.
type Address struct {
	Name    string
	Address string
}

// Message is a received mail, its headers decoded.
type Message struct {
	ID       string
	From     Address
	To       []Address
	Subject  string
	Username string // the SMTP user it was sent as, if it authenticated
	Text     string // the plain-text body
}

// Start runs a Mailpit for the test and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := binary(t)
	// A port chosen free can be taken before Mailpit binds it; try again
	// with other ports then.
	var lastErr error
	for range 3 {
		s, err := start(t, bin)
		if err == nil {
			return s
		}
		lastErr = err
	}
	t.Fatalf("mailtest: start Mailpit: %v", lastErr)
	return nil
}

func start(t testing.TB, bin string) (*Server, error) {
	smtpAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	httpAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	dir := t.TempDir()
	cmd := exec.Command(bin, // #nosec G204 -- the Mailpit this package built, fixed flags
		"--smtp", smtpAddr, "--listen", httpAddr,
		"--database", filepath.Join(dir, "mailpit.db"),
		"--smtp-auth-accept-any", "--smtp-auth-allow-insecure",
		"--smtp-disable-rdns", "--disable-version-check", "--block-remote-css-and-fonts",
		"--quiet")
	// A clean environment: no MP_* setting of the machine leaks in, and
	// anything Mailpit writes besides its database lands in dir.
	cmd.Env = []string{"HOME=" + dir, "TMPDIR=" + dir}
	cmd.Dir = dir
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	s := &Server{SMTPAddr: smtpAddr, api: "http://" + httpAddr, client: &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{}, // no proxy from the environment
	}}
	deadline := time.Now().Add(30 * time.Second)
	for !s.ready() {
		select {
		case <-exited:
			return nil, fmt.Errorf("mailpit exited: %s", out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("mailpit not ready after 30s: %s", out.String())
		}
	}
	t.Cleanup(stop)
	return s, nil
}

// ready reports whether both the API and the SMTP listener answer.
func (s *Server) ready() bool {
	resp, err := s.client.Get(s.api + "/readyz")
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false
	}
	conn, err := net.DialTimeout("tcp", s.SMTPAddr, time.Second)
	if err != nil {
		return false
	}
	_ = conn.Close()
	return true
}

// Count is how many messages Mailpit holds.
func (s *Server) Count(t testing.TB) int {
	t.Helper()
	var page struct {
		Total int `json:"total"`
	}
	s.get(t, "/api/v1/messages?limit=1", &page)
	return page.Total
}

// Messages returns every message received, oldest first, each read in full.
func (s *Server) Messages(t testing.TB) []Message {
	t.Helper()
	var page struct {
		Messages []struct{ ID string }
	}
	s.get(t, "/api/v1/messages?limit=1000", &page)
	out := make([]Message, 0, len(page.Messages))
	for i := len(page.Messages) - 1; i >= 0; i-- { // the API lists newest first
		var m Message
		s.get(t, "/api/v1/message/"+url.PathEscape(page.Messages[i].ID), &m)
		out = append(out, m)
	}
	return out
}

// Raw returns a message's source as it arrived over SMTP.
func (s *Server) Raw(t testing.TB, id string) string {
	t.Helper()
	return string(s.fetch(t, "/api/v1/message/"+url.PathEscape(id)+"/raw"))
}

// WaitFor waits until Mailpit holds at least n messages and returns them all;
// the test fails if that takes longer than timeout.
func (s *Server) WaitFor(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for s.Count(t) < n {
		if time.Now().After(deadline) {
			t.Fatalf("mailtest: %d messages after %s, want %d", s.Count(t), timeout, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return s.Messages(t)
}

func (s *Server) get(t testing.TB, path string, v any) {
	t.Helper()
	if err := json.Unmarshal(s.fetch(t, path), v); err != nil {
		t.Fatalf("mailtest: decode %s: %v", path, err)
	}
}

func (s *Server) fetch(t testing.TB, path string) []byte {
	t.Helper()
	resp, err := s.client.Get(s.api + path)
	if err != nil {
		t.Fatalf("mailtest: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("mailtest: GET %s: %d %s %v", path, resp.StatusCode, body, err)
	}
	return body
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// binary returns the cached Mailpit executable, building it on first use.
func binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() { builtBin, buildErr = build() })
	if buildErr != nil {
		t.Fatalf("mailtest: no Mailpit %s to test against: %v", Version, buildErr)
	}
	return builtBin
}

func build() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, "baton", "mailpit-"+Version)
	bin := filepath.Join(dir, "mailpit")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", err
	}
	// Each build installs into its own directory and is then renamed into
	// place, so test processes building at once never see half a binary.
	gobin, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(gobin)
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("building it needs the go command: %w", err)
	}
	cmd := exec.Command(goTool, "install", "github.com/axllent/mailpit@"+Version) // #nosec G204 -- the go command on PATH, a fixed module version
	// Outside any module, so Mailpit's own go.mod decides its dependencies.
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOBIN="+gobin, "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install github.com/axllent/mailpit@%s (needs the Go module proxy once per machine): %v\n%s", Version, err, out)
	}
	if err := os.Rename(filepath.Join(gobin, "mailpit"), bin); err != nil {
		return "", err
	}
	return bin, nil
}

// syncBuffer collects Mailpit's output for error messages.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
