// Package lrstest starts a real xAPI learning record store for tests:
// Learning Locker's xapi-statements (npm) in a Node.js process on a loopback
// port, offline, with statements kept in memory (MODELS_REPO=memory). Stop
// and Start take it down and bring it back on the same port with what it
// stored, so a test can make an outage. Validate runs Learning Locker's
// xapi-validation over statements.
package lrstest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/baton-course/baton/server/nodeproc"
)

// LRS is a running record store.
type LRS struct {
	// Endpoint is the statements resource's parent (BATON_XAPI_ENDPOINT).
	Endpoint           string
	Username, Password string

	proc   *nodeproc.Process
	events chan string
	mu     sync.Mutex
}

// startTimeout bounds how long Node may take to load the service and
// listen on a busy two-core machine.
const startTimeout = 30 * time.Second

// nodeDir is this package's node/ folder, found from this source file so
// tests in any package can start the LRS.
func nodeDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "node")
}

func checkInstalled(pkg string) error {
	if _, err := exec.LookPath("node"); err != nil {
		return errors.New("lrstest: node is not installed; run make deps-test")
	}
	if _, err := os.Stat(filepath.Join(nodeDir(), "node_modules", pkg, "package.json")); err != nil {
		return fmt.Errorf("lrstest: %s is not installed in server/lrstest/node; run make deps-test", pkg)
	}
	return nil
}

// Start starts an LRS for t, stopped when t ends.
func Start(t testing.TB) *LRS {
	t.Helper()
	if err := checkInstalled("xapi-statements"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	l := &LRS{Username: "baton", Password: "lrs-secret-" + filepath.Base(dir), events: make(chan string, 16)}
	proc, err := nodeproc.Start(dir, filepath.Join(nodeDir(), "lrs.js"), "AUTH_REPO=test", "EVENTS_REPO=test", "MODELS_REPO=memory", "STORAGE_REPO=local",
		"FS_LOCAL_STORAGE_DIR="+filepath.Join(dir, "storage"), "EXPRESS_MORGAN_DIRECTORY="+filepath.Join(dir, "logs"),
		"WINSTON_CONSOLE_LEVEL=error", "EXPRESS_PORT=0", "LRS_USERNAME="+l.Username, "LRS_PASSWORD="+l.Password,
		"NODE_PATH="+filepath.Join(nodeDir(), "node_modules"))
	if err != nil {
		t.Fatalf("lrstest: start node: %v", err)
	}
	l.proc = proc
	go func() {
		lines := bufio.NewScanner(proc.Stdout)
		for lines.Scan() {
			l.events <- lines.Text()
		}
		close(l.events)
	}()
	t.Cleanup(func() { proc.Stop(5 * time.Second) })
	line, err := l.await("listening ")
	if err != nil {
		t.Fatalf("lrstest: %v\n%s", err, l.proc.Stderr())
	}
	l.Endpoint = "http://127.0.0.1:" + strings.TrimPrefix(line, "listening ") + "/xAPI"
	return l
}

func (l *LRS) await(prefix string) (string, error) {
	timeout := time.After(startTimeout)
	for {
		select {
		case line, ok := <-l.events:
			if !ok {
				return "", errors.New("the LRS exited")
			}
			if strings.HasPrefix(line, prefix) {
				return line, nil
			}
		case <-timeout:
			return "", fmt.Errorf("no %q from the LRS within %s", strings.TrimSpace(prefix), startTimeout)
		}
	}
}

// Stop takes the LRS down: connections are refused until Start; what it
// stored stays.
func (l *LRS) Stop(t testing.TB) { l.command(t, "stop", "stopped") }

// Start brings a stopped LRS back on its port.
func (l *LRS) Start(t testing.TB) { l.command(t, "start", "listening ") }

func (l *LRS) command(t testing.TB, cmd, want string) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.proc.Send(cmd); err != nil {
		t.Fatalf("lrstest: %s: %v", cmd, err)
	}
	if _, err := l.await(want); err != nil {
		t.Fatalf("lrstest: %s: %v\n%s", cmd, err, l.proc.Stderr())
	}
}

// Statement is a stored statement as the LRS returns it: the fields tests
// look at, and the whole of it.
type Statement struct {
	ID    string `json:"id"`
	Actor struct {
		Mbox    string `json:"mbox"`
		Account struct {
			HomePage string `json:"homePage"`
			Name     string `json:"name"`
		} `json:"account"`
	} `json:"actor"`
	Verb struct {
		ID string `json:"id"`
	} `json:"verb"`
	Object struct {
		ID         string `json:"id"`
		Definition struct {
			Type            string `json:"type"`
			InteractionType string `json:"interactionType"`
		} `json:"definition"`
	} `json:"object"`
	Result *struct {
		Response string `json:"response"`
		Success  *bool  `json:"success"`
		Score    *struct {
			Scaled float64 `json:"scaled"`
			Raw    float64 `json:"raw"`
		} `json:"score"`
		Completion *bool          `json:"completion"`
		Duration   string         `json:"duration"`
		Extensions map[string]any `json:"extensions"`
	} `json:"result"`
	Context *struct {
		Registration      string         `json:"registration"`
		Extensions        map[string]any `json:"extensions"`
		ContextActivities struct {
			Parent   []struct{ ID string } `json:"parent"`
			Grouping []struct{ ID string } `json:"grouping"`
			Category []struct{ ID string } `json:"category"`
		} `json:"contextActivities"`
	} `json:"context"`
	Timestamp string          `json:"timestamp"`
	Raw       json.RawMessage `json:"-"`
}

// Statements reads every stored statement matching query (xAPI GET
// parameters, e.g. verb=…), following "more" from page to page.
func (l *LRS) Statements(ctx context.Context, query url.Values) ([]Statement, error) {
	u, err := url.Parse(l.Endpoint)
	if err != nil {
		return nil, err
	}
	next := l.Endpoint + "/statements?" + query.Encode()
	var out []Statement
	for next != "" {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, next, nil)
		if err != nil {
			return nil, err
		}
		req.SetBasicAuth(l.Username, l.Password)
		req.Header.Set("X-Experience-API-Version", "1.0.3")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		body, err := io.ReadAll(res.Body)
		_ = res.Body.Close()
		if err != nil {
			return nil, err
		}
		if res.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("lrstest: GET statements: %d %s", res.StatusCode, body)
		}
		var page struct {
			Statements []json.RawMessage `json:"statements"`
			More       string            `json:"more"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			return nil, err
		}
		for _, raw := range page.Statements {
			var s Statement
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, err
			}
			s.Raw = raw
			out = append(out, s)
		}
		next = ""
		if page.More != "" {
			more, err := url.Parse(page.More)
			if err != nil {
				return nil, err
			}
			next = u.ResolveReference(more).String()
		}
	}
	return out, nil
}

// Validate checks statements (each any JSON value) with xapi-validation
// and returns, per statement, the problems it found (none: valid).
func Validate(statements any) ([][]string, error) {
	if err := checkInstalled("xapi-validation"); err != nil {
		return nil, err
	}
	in, err := json.Marshal(statements)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("node", filepath.Join(nodeDir(), "validate.js")) // #nosec G204 -- the test tool's own script, at a path of this package
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(nodeDir(), "node_modules"))
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("lrstest: validate: %v\n%s", err, stderr.String())
	}
	var problems [][]string
	return problems, json.Unmarshal(out, &problems)
}
