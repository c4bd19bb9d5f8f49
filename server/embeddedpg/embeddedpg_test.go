package embeddedpg

import (
	"context"
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

var fast = map[string]string{"fsync": "off"}

func reachableDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "embeddedpg-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o711); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "data")
}

func query(t *testing.T, c *Cluster) {
	t.Helper()
	db, err := sql.Open("pgx", c.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var one int
	if err := db.QueryRow("SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("query: %v", err)
	}
}

func TestStartStopRestart(t *testing.T) {
	dir := reachableDir(t)
	c, err := Start(context.Background(), Options{Dir: dir, Settings: fast})
	if err != nil {
		t.Fatal(err)
	}
	query(t, c)
	pid := c.Pid()
	c.Stop()
	c.Stop() // a second Stop is harmless
	if syscall.Kill(pid, 0) == nil {
		t.Fatal("postmaster still alive after Stop")
	}
	if _, err := os.Stat(filepath.Join(dir, "postgres", "postmaster.pid")); !os.IsNotExist(err) {
		t.Fatal("clean stop left postmaster.pid behind")
	}
	// The same data dir and password work again.
	c2, err := Start(context.Background(), Options{Dir: dir, Settings: fast})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Stop()
	query(t, c2)
	if c2.Password() != c.Password() {
		t.Fatal("password changed across restarts")
	}
}

func TestWrongPasswordIsRefused(t *testing.T) {
	c, err := Start(context.Background(), Options{Dir: reachableDir(t), Settings: fast})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	u := strings.Replace(c.URL("postgres"), c.Password(), "guess", 1)
	db, _ := sql.Open("pgx", u)
	defer db.Close()
	if err := db.Ping(); err == nil || !strings.Contains(err.Error(), "password authentication failed") {
		t.Fatalf("wrong password: %v", err)
	}
}

// A postmaster.pid naming a process that is gone (the machine rebooted, say)
// must not stop the next start.
func TestStalePidFile(t *testing.T) {
	dir := reachableDir(t)
	c, err := Start(context.Background(), Options{Dir: dir, Settings: fast})
	if err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(dir, "postgres", "postmaster.pid")
	b, _ := os.ReadFile(pidFile)
	c.Stop()
	// Put back the pid file of a process that no longer exists.
	dead := exec.Command("true")
	_ = dead.Run()
	lines := strings.Split(string(b), "\n")
	lines[0] = strconv.Itoa(dead.Process.Pid)
	if err := os.WriteFile(pidFile, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	if owner, _ := clusterOwner(); owner != nil {
		_ = os.Chown(pidFile, int(owner.uid), int(owner.gid))
	}
	c2, err := Start(context.Background(), Options{Dir: dir, Settings: fast})
	if err != nil {
		t.Fatalf("start with a stale pid file: %v", err)
	}
	defer c2.Stop()
	query(t, c2)
}

// A postmaster still running on the data dir, started outside this process
// (so no parent-death signal reached it), is stopped and replaced.
func TestLeftoverPostmasterIsStopped(t *testing.T) {
	dir := reachableDir(t)
	c, err := Start(context.Background(), Options{Dir: dir, Settings: fast})
	if err != nil {
		t.Fatal(err)
	}
	c.Stop()
	bin, err := FindBinaries()
	if err != nil {
		t.Fatal(err)
	}
	owner, err := clusterOwner()
	if err != nil {
		t.Fatal(err)
	}
	orphan := exec.Command(filepath.Join(bin, "postgres"), "-D", filepath.Join(dir, "postgres"),
		"-c", "listen_addresses=", "-c", "unix_socket_directories="+c.SocketDir())
	orphan.SysProcAttr = procAttr(owner, false)
	if err := orphan.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = orphan.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for !c.pidFileSays("ready") {
		if time.Now().After(deadline) {
			t.Fatal("orphan never became ready")
		}
		time.Sleep(20 * time.Millisecond)
	}
	c2, err := Start(context.Background(), Options{Dir: dir, Settings: fast})
	if err != nil {
		_ = orphan.Process.Kill()
		t.Fatalf("start over a running postmaster: %v", err)
	}
	defer c2.Stop()
	if c2.Pid() == orphan.Process.Pid {
		t.Fatal("pid unchanged")
	}
	if syscall.Kill(orphan.Process.Pid, 0) == nil {
		t.Fatal("the leftover postmaster is still running")
	}
	query(t, c2)
}

// TestFindBinaries: PATH first, then the newest installed version; nothing
// installed gives the one line that says what to install.
func TestFindBinaries(t *testing.T) {
	root := t.TempDir()
	install := func(version string) string {
		dir := filepath.Join(root, version, "bin")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"postgres", "initdb"} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	t.Setenv("PATH", "/nonexistent")
	if _, err := findBinaries(filepath.Join(root, "*", "bin")); err != ErrNoBinaries || !strings.Contains(err.Error(), "apt-get install postgresql") {
		t.Fatalf("nothing installed: %v", err)
	}
	install("13")
	newest := install("15")
	install("9.6")
	if dir, err := findBinaries(filepath.Join(root, "*", "bin")); err != nil || dir != newest {
		t.Fatalf("found %q (%v), want the newest %q", dir, err, newest)
	}
	onPath := install("path-install")
	t.Setenv("PATH", onPath)
	if dir, _ := findBinaries(filepath.Join(root, "*", "bin")); dir != onPath {
		t.Fatalf("found %q, want the one on PATH %q", dir, onPath)
	}
}
