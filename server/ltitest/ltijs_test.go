package ltitest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/idptest"
	"github.com/baton-course/baton/server/nodeproc"
	"github.com/baton-course/baton/server/testdb"
)

// ltijs is the npm LTI 1.3 tool of node/tool.js, started once per test
// binary on its own fresh PostgreSQL database.
type ltijs struct {
	url   string
	token string
	proc  *nodeproc.Process
}

var (
	ltijsOnce sync.Once
	ltijsTool *ltijs
	ltijsErr  error
)

func TestMain(m *testing.M) {
	code := testdb.Main(m)
	if ltijsTool != nil {
		ltijsTool.stop()
	}
	os.Exit(code)
}

// startLTIJS starts the ltijs tool on first use; TestMain stops it.
func startLTIJS(t *testing.T) *ltijs {
	t.Helper()
	cluster := testdb.Cluster(t)
	ltijsOnce.Do(func() {
		ltijsTool, ltijsErr = launchLTIJS(cluster.URL("postgres"), cluster.SocketDir(), cluster.Superuser(), cluster.Password())
	})
	if ltijsErr != nil {
		t.Fatalf("ltijs: %v", ltijsErr)
	}
	return ltijsTool
}

func launchLTIJS(adminURL, socketDir, user, password string) (*ltijs, error) {
	dir, _ := filepath.Abs("node")
	if _, err := exec.LookPath("node"); err != nil {
		return nil, fmt.Errorf("node is not installed; run make deps-test")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "ltijs", "package.json")); err != nil {
		return nil, fmt.Errorf("ltijs is not installed in %s; run make deps-test", dir)
	}
	ctx := context.Background()
	admin, err := database.Open(ctx, adminURL, 10*time.Second)
	if err != nil {
		return nil, err
	}
	name := "ltijs_" + randomID(6) // a fresh database per run: ltijs migrates it itself
	_, err = admin.SQL.ExecContext(ctx, "CREATE DATABASE "+name)
	admin.Close()
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()

	token := randomID(16)
	config, _ := json.Marshal(map[string]any{
		"port": port, "key": randomID(16), "controlToken": token,
		"db": map[string]any{"host": socketDir, "port": 5432, "name": name, "user": user, "password": password},
	})
	proc, err := nodeproc.Start(dir, "tool.js", "LTITEST_CONFIG="+string(config))
	if err != nil {
		return nil, err
	}
	stdout := proc.Stdout
	tool := &ltijs{token: token, proc: proc}
	ready := make(chan string, 1)
	go func() {
		// ltijs' migrations log to stdout before the hello line.
		lines := bufio.NewScanner(stdout)
		for lines.Scan() {
			if strings.HasPrefix(lines.Text(), `{"url"`) {
				ready <- lines.Text()
				break
			}
		}
		close(ready)
		for lines.Scan() { // keep draining so Node never blocks on a full pipe
		}
	}()
	var line string
	select {
	case line = <-ready:
	case <-time.After(60 * time.Second): // ltijs migrates its database on start
	}
	var hello struct {
		URL string `json:"url"`
	}
	if err := json.Unmarshal([]byte(line), &hello); err != nil || hello.URL == "" {
		tool.stop()
		return nil, fmt.Errorf("did not start (hello %q): %s", line, proc.Stderr())
	}
	tool.url = hello.URL
	return tool, nil
}

func (l *ltijs) stop() { l.proc.Stop(3 * time.Second) }

// tool is what the platform is told of ltijs' routes.
func (l *ltijs) tool() Tool {
	return Tool{LoginURL: l.url + "/login", RedirectURL: l.url + "/", JWKSURL: l.url + "/keys", DeepLinkURL: l.url + "/"}
}

// registerAt registers the platform in ltijs (the admin's half of a manual
// registration) and the tool at the platform; it returns the client_id.
func (l *ltijs) registerAt(t *testing.T, p *Platform) (clientID, deploymentID string) {
	t.Helper()
	clientID, deploymentID = p.Register(l.tool())
	body, _ := json.Marshal(map[string]string{
		"issuer": p.Issuer(), "clientId": clientID, "authURL": p.AuthURL(), "tokenURL": p.TokenURL(), "jwksURL": p.JWKSURL(),
	})
	req, _ := http.NewRequest(http.MethodPost, l.url+"/__ltitest/platform", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+l.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(resp.Body)
		t.Fatalf("ltijs registerPlatform: %d %s", resp.StatusCode, raw)
	}
	return clientID, deploymentID
}

// call requests one of ltijs' own routes with the launch's ltik from the
// launching browser (ltijs also wants its session cookie), as the tool's
// page script would.
func (l *ltijs) call(t *testing.T, b *idptest.Browser, method, path, ltik string, form string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, l.url+path, strings.NewReader(form))
	req.Header.Set("Authorization", "Bearer "+ltik)
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.Fetch(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("ltijs %s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}
