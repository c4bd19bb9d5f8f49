// Package scaletest starts Baton the way a company outgrowing one machine
// would run it, from real parts: a PostgreSQL primary, a streaming replica
// of it (pg_basebackup -R), PgBouncer in transaction mode in front of the
// primary, several Baton processes and HAProxy balancing them. It then plays
// learners through HAProxy in phases while it kills an instance and stops
// the replica (Run), and checks what must hold: no acknowledged answer is
// lost, errors happen only to requests in flight on the killed instance,
// and reads fall back to the primary while the replica is down.
package scaletest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/embeddedpg"
)

// Options say what to start.
type Options struct {
	// Dir holds every part's files and logs.
	Dir string
	// Binary is the Baton executable each instance runs, with Env added to
	// its environment (a test re-runs its own binary as the server).
	Binary string
	Env    []string
	// Instances is how many Baton processes run behind HAProxy.
	Instances int
}

// Topology is the running whole.
type Topology struct {
	opts      Options
	Primary   *embeddedpg.Cluster
	replicaMu sync.Mutex
	replica   *embeddedpg.Cluster // nil while stopped
	readURL   string              // the replica's URL, the same across its restarts
	Bouncer   *Bouncer
	Balancer  *Balancer
	Instances []*Instance
	secretKey string
}

// Instance is one Baton process; it keeps its address across restarts, as
// HAProxy's configuration names it.
type Instance struct {
	Name string
	Addr string
	env  []string
	mu   sync.Mutex
	proc *process // nil while killed
}

// Start brings the topology up, primary first, balancer last.
func Start(ctx context.Context, opts Options) (_ *Topology, err error) {
	if opts.Instances < 1 {
		opts.Instances = 3
	}
	t := &Topology{opts: opts}
	// The clusters' and PgBouncer's account must be able to enter it.
	if err := os.MkdirAll(opts.Dir, 0o711); err != nil { // #nosec G301 -- a directory others may enter, not list
		return nil, err
	}
	if err := os.Chmod(opts.Dir, 0o711); err != nil { // #nosec G302 -- a directory others may enter, not list
		return nil, err
	}
	defer func() {
		if err != nil {
			t.Close()
		}
	}()
	key := make([]byte, 24)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	t.secretKey = hex.EncodeToString(key)
	if t.Primary, err = embeddedpg.Start(ctx, embeddedpg.Options{Dir: filepath.Join(opts.Dir, "primary")}); err != nil {
		return nil, fmt.Errorf("primary: %w", err)
	}
	if err := createDatabase(ctx, t.Primary); err != nil {
		return nil, err
	}
	if err := t.StartReplica(ctx); err != nil {
		return nil, err
	}
	if t.Bouncer, err = startBouncer(ctx, filepath.Join(opts.Dir, "pgbouncer"), t.Primary); err != nil {
		return nil, fmt.Errorf("pgbouncer: %w", err)
	}
	var backends []string
	for i := range opts.Instances {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		in := &Instance{Name: fmt.Sprintf("baton%d", i+1), Addr: addr}
		in.env = append(os.Environ(), opts.Env...)
		in.env = append(in.env,
			"BATON_ADDR="+addr,
			"DATABASE_URL="+t.Bouncer.URL(),
			"BATON_DIRECT_DATABASE_URL="+t.Primary.URL("baton"),
			"BATON_READ_DATABASE_URL="+t.readURL,
			"BATON_SECRET_KEY="+t.secretKey,
			"BATON_TRUSTED_PROXIES=127.0.0.1",
			"BATON_REMINDER_INTERVAL=1h",
			"BATON_DATA_DIR="+filepath.Join(opts.Dir, in.Name),
		)
		t.Instances = append(t.Instances, in)
		backends = append(backends, addr)
	}
	// All at once, as a deployment would: their migrations race on the
	// primary's advisory locks, through the direct URL.
	errs := make(chan error, len(t.Instances))
	for _, in := range t.Instances {
		go func() { errs <- t.startInstance(ctx, in) }()
	}
	for range t.Instances {
		err = errors.Join(err, <-errs)
	}
	if err != nil {
		return nil, err
	}
	if t.Balancer, err = startBalancer(ctx, filepath.Join(opts.Dir, "haproxy"), backends); err != nil {
		return nil, fmt.Errorf("haproxy: %w", err)
	}
	// Ready once HAProxy has seen every instance pass its check.
	proc := t.Balancer.proc
	if err := proc.waitReady(ctx, t.Balancer.URL()+"/readyz", 15*time.Second); err != nil {
		return nil, err
	}
	return t, nil
}

// createDatabase makes the application database on the primary.
func createDatabase(ctx context.Context, c *embeddedpg.Cluster) error {
	admin, err := database.Open(ctx, c.URL("postgres"), 10*time.Second)
	if err != nil {
		return err
	}
	defer admin.Close()
	if _, err := admin.SQL.ExecContext(ctx, "CREATE DATABASE baton"); err != nil {
		return fmt.Errorf("create database: %w", err)
	}
	return nil
}

func (t *Topology) replicaDir() string { return filepath.Join(t.opts.Dir, "replica") }

// StartReplica makes the replica on first call (pg_basebackup -R of the
// primary) and starts it again after StopReplica.
func (t *Topology) StartReplica(ctx context.Context) error {
	c, err := embeddedpg.Start(ctx, embeddedpg.Options{Dir: t.replicaDir(), ReplicaOf: t.Primary})
	if err != nil {
		return fmt.Errorf("replica: %w", err)
	}
	t.replicaMu.Lock()
	defer t.replicaMu.Unlock()
	if t.readURL != "" && c.URL("baton") != t.readURL {
		// A deep Dir puts the socket in a fresh temporary directory.
		c.Stop()
		return fmt.Errorf("the replica came back at another address than the instances were given; choose a shorter Dir")
	}
	t.replica, t.readURL = c, c.URL("baton")
	return nil
}

// StopReplica shuts the replica down (fast shutdown: its open queries are
// cancelled, as an outage would).
func (t *Topology) StopReplica() {
	t.replicaMu.Lock()
	c := t.replica
	t.replica = nil
	t.replicaMu.Unlock()
	if c != nil {
		c.Stop()
	}
}

func (t *Topology) startInstance(ctx context.Context, in *Instance) error {
	proc, err := startProcess(in.Name, t.opts.Binary, nil, in.env, filepath.Join(t.opts.Dir, in.Name+".log"), nil)
	if err != nil {
		return err
	}
	if err := proc.waitReady(ctx, "http://"+in.Addr+"/readyz", 90*time.Second); err != nil {
		proc.kill()
		return err
	}
	in.mu.Lock()
	in.proc = proc
	in.mu.Unlock()
	return nil
}

// Kill ends instance i with SIGKILL, as a crash would.
func (t *Topology) Kill(i int) {
	in := t.Instances[i]
	in.mu.Lock()
	proc := in.proc
	in.proc = nil
	in.mu.Unlock()
	if proc != nil {
		proc.kill()
	}
}

// Restart starts instance i again and waits until it is ready.
func (t *Topology) Restart(ctx context.Context, i int) error {
	return t.startInstance(ctx, t.Instances[i])
}

// Live are the instances running now.
func (t *Topology) Live() []*Instance {
	var live []*Instance
	for _, in := range t.Instances {
		in.mu.Lock()
		if in.proc != nil {
			live = append(live, in)
		}
		in.mu.Unlock()
	}
	return live
}

// Close stops everything, balancer first, primary last.
func (t *Topology) Close() {
	if t.Balancer != nil {
		t.Balancer.Stop()
	}
	var wg sync.WaitGroup
	for _, in := range t.Instances {
		in.mu.Lock()
		proc := in.proc
		in.proc = nil
		in.mu.Unlock()
		if proc != nil {
			wg.Add(1)
			go func() { defer wg.Done(); proc.stop(syscall.SIGTERM, 25*time.Second) }()
		}
	}
	wg.Wait()
	if t.Bouncer != nil {
		t.Bouncer.Stop()
	}
	t.StopReplica()
	if t.Primary != nil {
		t.Primary.Stop()
	}
}
