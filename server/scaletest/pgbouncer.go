package scaletest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/baton-course/baton/server/embeddedpg"
)

// Bouncer is PgBouncer in transaction mode in front of the primary. It runs
// as the account the cluster runs as (it refuses root, and the primary's
// socket directory is that account's alone) and authenticates clients with
// SCRAM against an auth_file holding the cluster's password, which it also
// uses to log in to the primary.
type Bouncer struct {
	proc *process
	addr string
	user string
	pass string
}

// bouncerPoolSize is PgBouncer's server connections per database and user:
// three instances of 16 client connections each share them.
const bouncerPoolSize = 20

func startBouncer(ctx context.Context, dir string, primary *embeddedpg.Cluster) (*Bouncer, error) {
	bin, err := findBinary("pgbouncer")
	if err != nil {
		return nil, err
	}
	cred, err := embeddedpg.Credential()
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	host, port, _ := net.SplitHostPort(addr)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	b := &Bouncer{addr: addr, user: primary.Superuser(), pass: primary.Password()}
	ini := fmt.Sprintf(`[databases]
baton = host=%s port=5432 dbname=baton

[pgbouncer]
listen_addr = %s
listen_port = %s
unix_socket_dir =
pool_mode = transaction
default_pool_size = %d
max_client_conn = 500
auth_type = scram-sha-256
auth_file = %s
logfile = %s
ignore_startup_parameters = extra_float_digits
server_check_delay = 1
`, primary.SocketDir(), host, port, bouncerPoolSize, filepath.Join(dir, "userlist.txt"), filepath.Join(dir, "pgbouncer.log"))
	files := map[string]string{
		"pgbouncer.ini": ini,
		"userlist.txt":  fmt.Sprintf("%q %q\n", b.user, b.pass),
		"pgbouncer.log": "",
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			return nil, err
		}
		if cred != nil {
			if err := os.Chown(p, int(cred.Uid), int(cred.Gid)); err != nil {
				return nil, err
			}
		}
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, err
		}
	}
	b.proc, err = startProcess("pgbouncer", bin, []string{filepath.Join(dir, "pgbouncer.ini")}, []string{"PATH=" + os.Getenv("PATH")},
		filepath.Join(dir, "stdout.log"), cred)
	if err != nil {
		return nil, err
	}
	if err := b.proc.waitTCP(ctx, addr, 15*time.Second); err != nil {
		b.Stop()
		return nil, err
	}
	return b, nil
}

// URL is the pooled database's URL, as DATABASE_URL.
func (b *Bouncer) URL() string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(b.user, b.pass), Host: b.addr, Path: "/baton", RawQuery: "sslmode=disable"}
	return u.String()
}

// Stop shuts PgBouncer down (SIGTERM: at once).
func (b *Bouncer) Stop() { b.proc.stop(syscall.SIGTERM, 5*time.Second) }
