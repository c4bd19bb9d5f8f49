package scaletest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Balancer is HAProxy spreading requests round robin over the instances
// that pass their health check (GET /readyz). A request whose connection
// to an instance fails is retried on another (retry-on conn-failure with
// option redispatch); one that reached an instance is never replayed, so a
// request in flight on an instance that dies fails, and only those do.
type Balancer struct {
	proc *process
	addr string
}

// haproxyConfig is the balancer's configuration for backends. Checks every
// 250 ms, two failures to take an instance out and two passes to bring it
// back: a dead instance (its port refuses at once) leaves the rotation
// within about half a second, new connections to it being redispatched
// meanwhile. A check may take as long as /readyz's own 2 s database ping,
// so a busy instance is not taken for a dead one.
func haproxyConfig(addr string, backends []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `global
    maxconn 4096

defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 10s
    timeout check 2s
    retries 3
    retry-on conn-failure
    option redispatch 1
    option forwardfor

frontend baton
    bind %s
    default_backend instances

backend instances
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 250ms fall 2 rise 2
`, addr)
	for i, a := range backends {
		fmt.Fprintf(&b, "    server baton%d %s check\n", i+1, a)
	}
	return b.String()
}

func startBalancer(ctx context.Context, dir string, backends []string) (*Balancer, error) {
	bin, err := findBinary("haproxy")
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(cfgPath, []byte(haproxyConfig(addr, backends)), 0o600); err != nil {
		return nil, err
	}
	// -db: stay in the foreground, as our child.
	proc, err := startProcess("haproxy", bin, []string{"-db", "-f", cfgPath}, []string{"PATH=" + os.Getenv("PATH")},
		filepath.Join(dir, "haproxy.log"), nil)
	if err != nil {
		return nil, err
	}
	b := &Balancer{proc: proc, addr: addr}
	if err := proc.waitTCP(ctx, addr, 15*time.Second); err != nil {
		b.Stop()
		return nil, err
	}
	return b, nil
}

// URL is where clients reach Baton.
func (b *Balancer) URL() string { return "http://" + b.addr }

// Stop shuts HAProxy down.
func (b *Balancer) Stop() { b.proc.stop(syscall.SIGTERM, 5*time.Second) }
