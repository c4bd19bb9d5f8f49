package scaletest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// process is a child the topology started and must stop: PgBouncer,
// HAProxy or a Baton instance.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
	waitErr error
}

// startProcess runs bin with its output in logPath. A child dies with the
// topology's process (parent-death signal), so a killed run leaves nothing
// behind.
func startProcess(name, bin string, args, env []string, logPath string, cred *syscall.Credential) (*process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600) // #nosec G304 -- in the topology's own directory
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd := exec.Command(bin, args...) // #nosec G204 -- the topology's own binaries (Baton, pgbouncer, haproxy)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Credential: cred}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// stop asks the process to end with sig and waits, killing it after grace.
func (p *process) stop(sig syscall.Signal, grace time.Duration) {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// kill ends the process at once, as a crash would.
func (p *process) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// failure describes an exit during start-up with the end of its log.
func (p *process) failure() error {
	b, _ := os.ReadFile(p.logPath)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 8 {
		lines = lines[len(lines)-8:]
	}
	return fmt.Errorf("%s exited (%v): %s", p.name, p.waitErr, strings.Join(lines, " | "))
}

// waitTCP waits until addr accepts connections.
func (p *process) waitTCP(ctx context.Context, addr string, timeout time.Duration) error {
	return p.waitUntil(ctx, timeout, func() bool {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
		}
		return err == nil
	})
}

// waitReady waits until url answers 200.
func (p *process) waitReady(ctx context.Context, url string, timeout time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	return p.waitUntil(ctx, timeout, func() bool {
		res, err := client.Get(url) // #nosec G107 -- a loopback address of our own child
		if err != nil {
			return false
		}
		_ = res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
}

func (p *process) waitUntil(ctx context.Context, timeout time.Duration, ok func() bool) error {
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-p.exited:
			return p.failure()
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if ok() {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.Join(fmt.Errorf("%s not ready within %s", p.name, timeout), p.failure())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// freeAddr is a loopback address with a port nobody listens on now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// findBinary looks for a system binary on PATH, then in /usr/sbin (where
// Debian puts pgbouncer and haproxy, not on every PATH).
func findBinary(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	p := "/usr/sbin/" + name
	if info, err := os.Stat(p); err == nil && !info.IsDir() && info.Mode()&0o111 != 0 {
		return p, nil
	}
	return "", fmt.Errorf("%s is not installed (make deps-test installs it; or: apt-get install %s)", name, name)
}
