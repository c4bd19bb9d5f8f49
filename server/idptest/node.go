package idptest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/baton-course/baton/server/nodeproc"
)

// node is panva's oidc-provider (npm), a certified OpenID provider written
// independently of zitadel's, run by node/provider.mjs in a child process on
// a loopback port.
type node struct {
	proc   *nodeproc.Process
	issuer string
	token  string
	client *http.Client

	mu  sync.Mutex
	kid string
}

// nodeStartTimeout bounds how long Node may take to load oidc-provider and
// listen: a cold start on a busy two-core machine takes about a second.
const nodeStartTimeout = 20 * time.Second

// nodeDir is this package's node/ folder, found from this source file so
// tests in any package can start the provider.
func nodeDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "node")
}

type nodeConfig struct {
	ControlToken string       `json:"controlToken"`
	Host         string       `json:"host"`
	Clients      []nodeClient `json:"clients"`
	Users        []nodeUser   `json:"users"`
}

type nodeClient struct {
	ID             string   `json:"id"`
	Secret         string   `json:"secret"`
	RedirectURIs   []string `json:"redirectURIs"`
	AuthMethod     string   `json:"authMethod,omitempty"`
	IDTokenSeconds int64    `json:"idTokenSeconds,omitempty"`
}

type nodeUser struct {
	Subject       string `json:"subject"`
	Email         string `json:"email"`
	Name          string `json:"name"`
	Password      string `json:"password"`
	EmailVerified bool   `json:"emailVerified"`
}

func toNodeUser(u User) nodeUser {
	return nodeUser(u)
}

// NewNode starts the oidc-provider provider in a Node.js process; call Stop
// when done. It needs node on PATH and node/node_modules installed (make
// deps-test runs npm ci there).
func NewNode(clients []Client, users []User, opts ...Option) (Provider, error) {
	o, err := collect(opts)
	if err != nil {
		return nil, err
	}
	if err := checkSetup(clients, users); err != nil {
		return nil, err
	}
	dir := nodeDir()
	if _, err := exec.LookPath("node"); err != nil {
		return nil, errors.New("idptest: node is not installed; run make deps-test")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "oidc-provider", "package.json")); err != nil {
		return nil, fmt.Errorf("idptest: oidc-provider is not installed in %s; run make deps-test", dir)
	}

	cfg := nodeConfig{ControlToken: randomToken(24), Host: o.host}
	for _, c := range clients {
		seconds := int64(0)
		if c.IDTokenLifetime > 0 {
			seconds = int64((c.IDTokenLifetime + time.Second - 1) / time.Second)
		}
		cfg.Clients = append(cfg.Clients, nodeClient{ID: c.ID, Secret: c.Secret, RedirectURIs: c.RedirectURIs, AuthMethod: c.AuthMethod, IDTokenSeconds: seconds})
	}
	for _, u := range users {
		cfg.Users = append(cfg.Users, toNodeUser(u))
	}
	encoded, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}

	proc, err := nodeproc.Start(dir, "provider.mjs", "IDPTEST_CONFIG="+string(encoded))
	if err != nil {
		return nil, fmt.Errorf("idptest: start node: %w", err)
	}
	stdout := proc.Stdout
	n := &node{proc: proc, token: cfg.ControlToken, client: &http.Client{Timeout: 10 * time.Second}}
	ready := make(chan string, 1)
	go func() {
		lines := bufio.NewScanner(stdout)
		if lines.Scan() {
			ready <- lines.Text()
		}
		close(ready)
		for lines.Scan() { // keep draining so Node never blocks on a full pipe
		}
	}()
	var line string
	select {
	case line = <-ready:
	case <-time.After(nodeStartTimeout):
	}
	var hello struct {
		Issuer string `json:"issuer"`
	}
	if err := json.Unmarshal([]byte(line), &hello); err != nil || !strings.HasPrefix(hello.Issuer, "http://"+o.host+":") {
		n.Stop()
		return nil, fmt.Errorf("idptest: oidc-provider did not start (first line %q): %s", line, n.proc.Stderr())
	}
	n.issuer = hello.Issuer
	var kid struct {
		Kid string `json:"kid"`
	}
	if err := n.control(http.MethodGet, "/__idptest/kid", nil, &kid); err != nil {
		n.Stop()
		return nil, err
	}
	n.kid = kid.Kid
	return n, nil
}

func (n *node) Name() string   { return "oidc-provider" }
func (n *node) Issuer() string { return n.issuer }

func (n *node) AddUser(u User) error {
	if err := checkUser(u); err != nil {
		return err
	}
	return n.control(http.MethodPost, "/__idptest/users", toNodeUser(u), nil)
}

// Rotate rebuilds the provider in the same process and port with a fresh
// key; sessions survive because oidc-provider's memory store is shared.
func (n *node) Rotate() (string, error) {
	var answer struct {
		Kid string `json:"kid"`
	}
	if err := n.control(http.MethodPost, "/__idptest/rotate", nil, &answer); err != nil {
		return "", err
	}
	n.mu.Lock()
	n.kid = answer.Kid
	n.mu.Unlock()
	return answer.Kid, nil
}

func (n *node) KeyID() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.kid
}

// Stop closes Node's standard input, on which provider.mjs exits, and kills
// the process group if it has not gone within two seconds.
func (n *node) Stop() { n.proc.Stop(2 * time.Second) }

func (n *node) control(method, path string, body, answer any) error {
	var reader io.Reader
	if body != nil {
		encoded, err := json.Marshal(body)
		if err != nil {
			return err
		}
		reader = bytes.NewReader(encoded)
	}
	req, err := http.NewRequest(method, n.issuer+path, reader)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+n.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.client.Do(req)
	if err != nil {
		return fmt.Errorf("idptest: oidc-provider %s: %w", path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("idptest: oidc-provider %s answered %d: %s", path, resp.StatusCode, raw)
	}
	if answer != nil {
		return json.Unmarshal(raw, answer)
	}
	return nil
}
