// Package embeddedpg runs a private PostgreSQL cluster from the machine's own
// server binaries, for when Baton is started without DATABASE_URL and for tests.
//
// The cluster listens only on a unix socket in a 0700 directory and requires a
// random password, so nobody else on the machine can use it. The postmaster is a
// direct child with a parent-death signal: if Baton dies, PostgreSQL shuts down
// instead of lingering as an orphan.
package embeddedpg

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Options configure a cluster. Only Dir is required.
type Options struct {
	// Dir holds everything the cluster owns: the data directory, its socket
	// directory, the superuser password and PostgreSQL's log.
	Dir string
	// Settings are extra server settings passed as -c name=value. Tests use
	// them to turn fsync off; the served cluster keeps PostgreSQL's defaults.
	Settings map[string]string
	// StartTimeout bounds how long Start waits for connections to be accepted.
	StartTimeout time.Duration
	// ReplicaOf makes the cluster a streaming replica of another one started
	// by this process: on first use its data dir is a pg_basebackup -R of
	// that primary (PostgreSQL's own replication), and it then follows it.
	ReplicaOf *Cluster
}

// Cluster is a running PostgreSQL server owned by this process.
type Cluster struct {
	dir      string
	dataDir  string
	sockDir  string
	password string
	cmd      *exec.Cmd
	exited   chan struct{}
	waitErr  error
	lock     *os.File
	stopOnce sync.Once
}

const superuser = "baton"

// ErrNoBinaries means no PostgreSQL server installation was found.
var ErrNoBinaries = errors.New("no PostgreSQL server binaries found (looked for initdb and postgres on PATH and in /usr/lib/postgresql/*/bin); install them with: apt-get install postgresql")

// Start initialises the cluster on first use, recovers from a previous run that
// died, starts the postmaster and waits until it accepts connections.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 60 * time.Second
	}
	binDir, err := FindBinaries()
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	owner, err := clusterOwner()
	if err != nil {
		return nil, err
	}
	c := &Cluster{
		dir:     dir,
		dataDir: filepath.Join(dir, "postgres"),
		exited:  make(chan struct{}),
	}
	if err := c.prepareDirs(owner); err != nil {
		return nil, err
	}
	if err := c.lockDir(); err != nil {
		return nil, err
	}
	started := false
	defer func() {
		if !started {
			c.unlock()
		}
	}()
	if opts.ReplicaOf != nil {
		// A copy of the primary has the primary's roles and password.
		c.password = opts.ReplicaOf.password
	} else if c.password, err = readOrCreatePassword(filepath.Join(dir, "postgres.password")); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(c.dataDir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if opts.ReplicaOf != nil {
			err = c.baseBackup(ctx, binDir, owner, opts.ReplicaOf)
		} else {
			err = c.initdb(ctx, binDir, owner)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := stopLeftover(c.dataDir); err != nil {
		return nil, err
	}
	if err := c.startPostmaster(binDir, owner, opts.Settings); err != nil {
		return nil, err
	}
	if err := c.waitReady(ctx, opts.StartTimeout); err != nil {
		c.Stop()
		return nil, err
	}
	started = true
	return c, nil
}

// FindBinaries returns the directory holding initdb and postgres: the one on
// PATH first, then /usr/lib/postgresql/<version>/bin, newest version first.
func FindBinaries() (string, error) {
	return findBinaries("/usr/lib/postgresql/*/bin")
}

// findBinaries searches PATH, then the version directories matching pattern.
func findBinaries(pattern string) (string, error) {
	var candidates []string
	if p, err := exec.LookPath("postgres"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		candidates = append(candidates, filepath.Dir(p))
	}
	versions, _ := filepath.Glob(pattern)
	sort.Slice(versions, func(i, j int) bool { return majorOf(versions[i]) > majorOf(versions[j]) })
	candidates = append(candidates, versions...)
	for _, dir := range candidates {
		if isExecutable(filepath.Join(dir, "postgres")) && isExecutable(filepath.Join(dir, "initdb")) {
			return dir, nil
		}
	}
	return "", ErrNoBinaries
}

func majorOf(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

func isExecutable(path string) bool {
	info, err := os.Stat(path)
	return err == nil && !info.IsDir() && info.Mode()&0o111 != 0
}

// Credential is the OS account clusters run as, for helpers that must run
// beside them under the same account (PgBouncer, which like PostgreSQL
// refuses root, and must reach the private socket directory): nil when
// that is the current account.
func Credential() (*syscall.Credential, error) {
	owner, err := clusterOwner()
	if err != nil || owner == nil {
		return nil, err
	}
	return &syscall.Credential{Uid: owner.uid, Gid: owner.gid}, nil
}

// osUser is the account the cluster runs as; nil means the current one.
type osUser struct{ uid, gid uint32 }

// clusterOwner picks who runs PostgreSQL. PostgreSQL refuses to run as root,
// so root hands the cluster to the unprivileged account the Debian package
// creates (BATON_PG_USER overrides the name).
func clusterOwner() (*osUser, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	name := os.Getenv("BATON_PG_USER")
	if name == "" {
		name = "postgres"
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("running as root, PostgreSQL needs an unprivileged account to run as, and user %q does not exist (install the postgresql package, or set BATON_PG_USER)", name)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	if uid == 0 {
		return nil, fmt.Errorf("BATON_PG_USER %q is root; PostgreSQL needs an unprivileged account", name)
	}
	return &osUser{uid: uint32(uid), gid: uint32(gid)}, nil
}

func (c *Cluster) prepareDirs(owner *osUser) error {
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return fmt.Errorf("data dir %s: %w", c.dir, err)
	}
	// A long path would overflow the unix socket name limit (107 bytes), so the
	// socket goes to a private temporary directory when the data dir is deep.
	c.sockDir = filepath.Join(c.dir, "run")
	if len(c.sockDir)+len("/.s.PGSQL.5432.lock") > 100 {
		tmp, err := os.MkdirTemp("", "baton-pg-")
		if err != nil {
			return err
		}
		c.sockDir = tmp
	}
	for _, d := range []string{c.dataDir, c.sockDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("data dir %s: %w", d, err)
		}
		if err := os.Chmod(d, 0o700); err != nil { // #nosec G302 -- a directory private to its owner
			return err
		}
	}
	if owner == nil {
		return nil
	}
	if err := checkTraversable(c.dir, owner); err != nil {
		return err
	}
	// The data dir belongs to the account that runs the cluster; the top-level
	// folder stays ours but lets that account in.
	if err := os.Chmod(c.dir, 0o711); err != nil { // #nosec G302 -- a directory: the cluster account must be able to enter it, not list it
		return err
	}
	for _, d := range []string{c.dataDir, c.sockDir} {
		if err := chownTree(d, owner); err != nil {
			return err
		}
	}
	return nil
}

// checkTraversable reports clearly when the unprivileged cluster account could
// not reach the data dir, instead of letting initdb fail obscurely.
func checkTraversable(dir string, owner *osUser) error {
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		info, err := os.Stat(p)
		if err != nil {
			return err
		}
		st, _ := info.Sys().(*syscall.Stat_t)
		mode := info.Mode().Perm()
		ok := mode&0o001 != 0 ||
			(st != nil && st.Uid == owner.uid && mode&0o100 != 0) ||
			(st != nil && st.Gid == owner.gid && mode&0o010 != 0)
		if !ok {
			return fmt.Errorf("the PostgreSQL account (uid %d) cannot enter %s; choose a BATON_DATA_DIR outside it", owner.uid, p)
		}
		if p == "/" || p == "." {
			return nil
		}
	}
}

func chownTree(root string, owner *osUser) error {
	return filepath.Walk(root, func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, int(owner.uid), int(owner.gid)) // #nosec G122 -- our own data dir; Lchown never follows links
	})
}

func readOrCreatePassword(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 32 { // #nosec G304 -- a fixed name in the configured data dir
		return strings.TrimSpace(string(b)), nil
	}
	buf := make([]byte, 24)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	pw := hex.EncodeToString(buf)
	if err := os.WriteFile(path, []byte(pw+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("data dir: %w", err)
	}
	return pw, nil
}

func (c *Cluster) initdb(ctx context.Context, binDir string, owner *osUser) error {
	// initdb reads the password from a file the cluster account can read; it
	// lives in the private socket dir only for the duration of the call.
	pwFile := filepath.Join(c.sockDir, "initdb.pw")
	if err := os.WriteFile(pwFile, []byte(c.password+"\n"), 0o600); err != nil {
		return err
	}
	defer os.Remove(pwFile)
	if owner != nil {
		if err := os.Chown(pwFile, int(owner.uid), int(owner.gid)); err != nil {
			return err
		}
	}
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "initdb"), // #nosec G204 -- the PostgreSQL binary found by FindBinaries, fixed arguments
		"-D", c.dataDir, "-U", superuser, "--pwfile="+pwFile,
		"--auth=scram-sha-256", "-E", "UTF8", "--locale=C")
	cmd.SysProcAttr = procAttr(owner, false)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("initdb failed: %v: %s", err, lastLines(string(out), 3))
	}
	return nil
}

// baseBackup copies primary into the data dir with pg_basebackup -R, which
// also writes standby.signal and the primary_conninfo to follow it by. It
// runs as the cluster's account, as PostgreSQL refuses a root-owned copy.
func (c *Cluster) baseBackup(ctx context.Context, binDir string, owner *osUser, primary *Cluster) error {
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "pg_basebackup"), // #nosec G204 -- the PostgreSQL binary found by FindBinaries, fixed arguments
		"-D", c.dataDir, "-R", "-X", "stream", "-c", "fast",
		"-h", primary.sockDir, "-U", superuser, "-w")
	cmd.Env = append(os.Environ(), "PGPASSWORD="+primary.password)
	cmd.SysProcAttr = procAttr(owner, false)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_basebackup failed: %v: %s", err, lastLines(string(out), 3))
	}
	return nil
}

// lockDir takes an exclusive lock on the data dir for as long as this process
// runs the cluster. The kernel drops it when the process dies, so holding it
// proves that any postmaster still running here is a leftover, not a live
// cluster of another Baton that shares the dir by mistake.
func (c *Cluster) lockDir() error {
	f, err := os.OpenFile(filepath.Join(c.dir, "baton.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		return fmt.Errorf("data dir %s is in use by another running Baton; stop it or choose another BATON_DATA_DIR", c.dir)
	}
	c.lock = f
	return nil
}

func (c *Cluster) unlock() {
	if c.lock != nil {
		_ = c.lock.Close()
		c.lock = nil
	}
}

// stopLeftover handles the postmaster.pid a previous run left behind: a stale
// file is left for PostgreSQL to ignore, while a postmaster still running on
// this data dir (its parent was killed before it could stop it) is shut down.
func stopLeftover(dataDir string) error {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid")) // #nosec G304 -- a fixed name in the configured data dir
	if err != nil {
		return nil
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil || pid <= 0 {
		return nil
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !strings.Contains(string(cmdline), "postgres") {
		return nil // not running any more, or the pid was reused by something else
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGQUIT, syscall.SIGKILL} {
		_ = syscall.Kill(pid, sig)
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if !running(pid) {
				return nil
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return fmt.Errorf("a PostgreSQL server (pid %d) is still running on %s and would not stop", pid, dataDir)
}

// running reports whether pid is a live process (a zombie has exited).
func running(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name: "pid (comm) S ...".
	rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
	return !strings.HasPrefix(strings.TrimSpace(rest), "Z")
}

func (c *Cluster) startPostmaster(binDir string, owner *osUser, settings map[string]string) error {
	args := []string{"-D", c.dataDir,
		"-c", "listen_addresses=",
		"-c", "unix_socket_directories=" + c.sockDir,
		"-c", "unix_socket_permissions=0700",
	}
	names := make([]string, 0, len(settings))
	for k := range settings {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		args = append(args, "-c", k+"="+settings[k])
	}
	logFile, err := os.OpenFile(filepath.Join(c.dir, "postgres.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	c.cmd = exec.Command(filepath.Join(binDir, "postgres"), args...) // #nosec G204 -- the PostgreSQL binary found by FindBinaries
	c.cmd.Stdout = logFile
	c.cmd.Stderr = logFile
	c.cmd.SysProcAttr = procAttr(owner, true)

	// The parent-death signal fires when the thread that forked the child exits,
	// not the process, so the fork happens on a locked thread that lives exactly
	// as long as the postmaster.
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		defer logFile.Close()
		if err := c.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		c.waitErr = c.cmd.Wait()
		close(c.exited)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	return nil
}

func procAttr(owner *osUser, dieWithParent bool) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true}
	if dieWithParent {
		// SIGINT is PostgreSQL's "fast shutdown": roll back and exit cleanly.
		attr.Pdeathsig = syscall.SIGINT
	}
	if owner != nil {
		attr.Credential = &syscall.Credential{Uid: owner.uid, Gid: owner.gid}
	}
	return attr
}

func (c *Cluster) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	sock := filepath.Join(c.sockDir, ".s.PGSQL.5432")
	for {
		select {
		case <-c.exited:
			return fmt.Errorf("postgres exited during start-up: %v; see %s", c.waitErr, filepath.Join(c.dir, "postgres.log"))
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		// The socket appears once the postmaster listens; pid file line 8 says
		// "ready" once recovery is over and connections are accepted.
		if _, err := os.Stat(sock); err == nil && c.pidFileSays("ready") {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres did not accept connections within %s; see %s", timeout, filepath.Join(c.dir, "postgres.log"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *Cluster) pidFileSays(status string) bool {
	b, err := os.ReadFile(filepath.Join(c.dataDir, "postmaster.pid"))
	if err != nil {
		return false
	}
	lines := strings.Split(string(b), "\n")
	return len(lines) >= 8 && strings.TrimSpace(lines[7]) == status
}

// URL is a connection URL for the given database as the cluster's superuser.
func (c *Cluster) URL(database string) string {
	q := url.Values{}
	q.Set("host", c.sockDir)
	q.Set("sslmode", "disable")
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(superuser, c.password),
		Host:     "localhost",
		Path:     "/" + database,
		RawQuery: q.Encode(),
	}
	return u.String()
}

// SocketDir is where the cluster's unix socket lives (for psql or pgbench).
func (c *Cluster) SocketDir() string { return c.sockDir }

// Password is the superuser's password.
func (c *Cluster) Password() string { return c.password }

// Superuser is the cluster's superuser role.
func (c *Cluster) Superuser() string { return superuser }

// Pid is the postmaster's process id.
func (c *Cluster) Pid() int { return c.cmd.Process.Pid }

// Exited is closed when the postmaster has exited.
func (c *Cluster) Exited() <-chan struct{} { return c.exited }

// Stop shuts the cluster down (fast shutdown, then immediate after a grace
// period) and waits for the postmaster to exit. It is safe to call twice.
func (c *Cluster) Stop() {
	c.stopOnce.Do(func() {
		defer c.unlock()
		if c.cmd == nil || c.cmd.Process == nil {
			return
		}
		for _, step := range []struct {
			sig  syscall.Signal
			wait time.Duration
		}{{syscall.SIGINT, 30 * time.Second}, {syscall.SIGQUIT, 10 * time.Second}, {syscall.SIGKILL, 10 * time.Second}} {
			_ = c.cmd.Process.Signal(step.sig)
			select {
			case <-c.exited:
				return
			case <-time.After(step.wait):
			}
		}
	})
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
