// Package nodeproc runs the Node.js scripts of the tests' npm tools (the
// OpenID provider, the learning record store, the independent LTI tool) as
// child processes that cannot outlive the test binary: each runs in its own
// process group, and its standard input stays open for as long as the test
// wants it, so a script that exits when its input closes ends even when the
// test binary is killed. Used from tests only.
package nodeproc

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Process is one running script.
type Process struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	Stdout io.ReadCloser // what the script prints: its readiness and events
	stderr *Buffer
	exited chan struct{}
	stop   sync.Once
}

// Start runs `node script` in dir with env added to this process's, its
// standard output left to the caller (Stdout), its errors kept (Stderr).
func Start(dir, script string, env ...string) (*Process, error) {
	cmd := exec.Command("node", script) // #nosec G204 -- a test tool's own script, named by its package
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	// Its own process group, so Stop ends Node and anything it started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := &Process{cmd: cmd, stderr: &Buffer{}, exited: make(chan struct{})}
	cmd.Stderr = p.stderr
	var err error
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	if p.Stdout, err = cmd.StdoutPipe(); err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	return p, nil
}

// Send writes one line to the script's standard input (a script that takes
// commands there, as the LRS's stop and start).
func (p *Process) Send(line string) error {
	_, err := io.WriteString(p.stdin, line+"\n")
	return err
}

// Pid is the process's id (its process group's too).
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited is closed once the process has ended.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Stderr is what the script wrote to its standard error so far.
func (p *Process) Stderr() string { return p.stderr.String() }

// Stop closes the script's input (its cue to exit) and waits up to grace
// for it to end before killing its process group; safe to call twice.
func (p *Process) Stop(grace time.Duration) {
	p.stop.Do(func() {
		_ = p.stdin.Close()
		select {
		case <-p.exited:
		case <-time.After(grace):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.exited
		}
	})
}

// Buffer is a bytes.Buffer safe for a writer and readers on other
// goroutines: a child process's output read while it runs.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
