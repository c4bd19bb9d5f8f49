package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/baton-course/baton/server/testdb"
	"github.com/labstack/echo/v4"
)

// dataDir makes a data dir that the unprivileged PostgreSQL account can reach
// when the tests run as root (t.TempDir's parent is private to us).
func dataDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "baton-app-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o711); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "data")
}

func postmasterPid(t *testing.T, dir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "postgres", "postmaster.pid"))
	if err != nil {
		t.Fatalf("postmaster.pid: %v", err)
	}
	pid, _ := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	return pid
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func get(url string) (int, error) {
	res, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	res.Body.Close()
	return res.StatusCode, nil
}

// TestAppLifecycle starts the whole app on an embedded cluster, serves,
// shuts down gracefully while a request is in flight, and starts again on the
// same data dir with the data still there.
func TestAppLifecycle(t *testing.T) {
	t.Parallel()
	dir := dataDir(t)
	cfg := testConfig(t)
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = dir

	began := time.Now()
	a, err := Open(context.Background(), cfg, quietLog)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first start (initdb, migrations) took %s", time.Since(began))
	released := make(chan struct{})
	a.services.Web.Echo().GET("/api/test-slow", func(c echo.Context) error {
		<-released
		return c.String(200, "finished")
	})
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- a.Run(ctx) }()
	base := "http://" + a.Addr()
	if code, err := get(base + "/readyz"); err != nil || code != 200 {
		t.Fatalf("readyz: %d %v", code, err)
	}
	// The embedded cluster keeps PostgreSQL's durable defaults.
	if !a.services.Durability.Safe() {
		t.Fatalf("embedded cluster durability: %+v", a.services.Durability)
	}
	if _, err := a.db.SQL.Exec(`INSERT INTO users (email, name, password_hash) VALUES ('keep@example.com', 'Keep', 'x')`); err != nil {
		t.Fatal(err)
	}
	pgPid := postmasterPid(t, dir)

	// A request in flight when shutdown starts still gets its answer.
	slow := make(chan int, 1)
	go func() { code, _ := get(base + "/api/test-slow"); slow <- code }()
	time.Sleep(200 * time.Millisecond)
	cancel()
	time.Sleep(200 * time.Millisecond)
	if _, err := get(base + "/healthz"); err == nil {
		t.Error("new connections are still accepted after shutdown began")
	}
	close(released)
	if code := <-slow; code != 200 {
		t.Errorf("in-flight request got %d", code)
	}
	if err := <-ran; err != nil {
		t.Fatalf("Run: %v", err)
	}
	a.Close()
	if alive(pgPid) {
		t.Fatal("PostgreSQL still running after Close")
	}

	began = time.Now()
	b, err := Open(context.Background(), cfg, quietLog)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	t.Logf("restart took %s", time.Since(began))
	var n int
	if err := b.db.SQL.QueryRow(`SELECT count(*) FROM users WHERE email = 'keep@example.com'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("data did not persist: %d %v", n, err)
	}
}

func TestBadConfigurationFailsFast(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		mutate func(*Config)
		want   string
		hidden string
	}{
		{"port in use", func(c *Config) { c.Addr = busy.Addr().String() }, "already in use", ""},
		{"unparseable DATABASE_URL", func(c *Config) { c.DatabaseURL = "postgres://me:hunter2secret@[::1:5432/x" }, "DATABASE_URL", "hunter2secret"},
		{"unreachable DATABASE_URL", func(c *Config) { c.DatabaseURL = "postgres://me:hunter2secret@127.0.0.1:1/baton?sslmode=disable" }, "cannot reach PostgreSQL", "hunter2secret"},
		{"data dir is a file", func(c *Config) { c.DataDir = filepath.Join(file, "data") }, "data dir", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.Addr = "127.0.0.1:0"
			tc.mutate(&cfg)
			began := time.Now()
			a, err := Open(context.Background(), cfg, quietLog)
			if err == nil {
				a.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q, want one line containing %q", err, tc.want)
			}
			if tc.hidden != "" && strings.Contains(err.Error(), tc.hidden) {
				t.Errorf("error leaks the password: %q", err)
			}
			if took := time.Since(began); took > 15*time.Second {
				t.Errorf("took %s to fail", took)
			}
		})
	}
}

// TestCrashRecovery kills a real Baton process with SIGKILL: its PostgreSQL
// must not outlive it, and the next start must recover. A SIGTERM then exits 0
// and leaves no PostgreSQL behind.
func TestCrashRecovery(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts real processes")
	}
	dir := dataDir(t)
	addr := testdb.FreeAddr(t)
	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), "BATON_TEST_RUN_SERVER=1", "BATON_ADDR="+addr, "BATON_DATA_DIR="+dir, "DATABASE_URL=")
		out, err := os.Create(filepath.Join(filepath.Dir(dir), fmt.Sprintf("baton-%d.log", time.Now().UnixNano())))
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "readyz", 60*time.Second, func() bool { code, _ := get("http://" + addr + "/readyz"); return code == 200 })
		return cmd
	}

	first := start()
	pg := postmasterPid(t, dir)
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	waitFor(t, "orphaned PostgreSQL to exit", 30*time.Second, func() bool { return !alive(pg) })

	second := start()
	pg = postmasterPid(t, dir)
	if err := second.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := second.Wait()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		t.Fatalf("SIGTERM exit: %v", err)
	}
	if alive(pg) {
		t.Fatal("PostgreSQL left running after SIGTERM")
	}
}
