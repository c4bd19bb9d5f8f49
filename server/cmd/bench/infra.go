package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/baton-course/baton/server/embeddedpg"
)

// startCluster starts a private PostgreSQL with durable defaults, plus
// pg_stat_statements and room for pgbench at 256 clients beside the
// server's and the reference handler's pools, and creates the two
// databases.
func startCluster(ctx context.Context, dir string) (*embeddedpg.Cluster, error) {
	cl, err := embeddedpg.Start(ctx, embeddedpg.Options{
		Dir: dir,
		Settings: map[string]string{
			"shared_preload_libraries": "pg_stat_statements",
			"max_connections":          "400",
		},
	})
	if err != nil {
		return nil, err
	}
	conn, err := pgx.Connect(ctx, cl.URL("postgres"))
	if err != nil {
		cl.Stop()
		return nil, err
	}
	defer conn.Close(ctx)
	for _, q := range []string{"CREATE DATABASE baton", "CREATE DATABASE pgbench_db"} {
		if _, err := conn.Exec(ctx, q); err != nil {
			cl.Stop()
			return nil, fmt.Errorf("%s: %w", q, err)
		}
	}
	return cl, nil
}

// exec runs statements on one database of the cluster.
func execSQL(ctx context.Context, url string, stmts ...string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, q := range stmts {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("%.60s: %w", q, err)
		}
	}
	return nil
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// moduleRoot is the directory of go.mod, found from the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory: run from the Baton repository")
		}
		dir = parent
	}
}

func buildServer(ctx context.Context, root, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./server") // #nosec G204 G702 -- the go tool; out is in our own temp dir
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd.Run()
}

// child is a process the bench started and must stop.
type child struct {
	name   string
	cmd    *exec.Cmd
	log    string
	exited chan struct{}
}

func startChild(name, bin string, args, env []string, logPath string) (*child, error) {
	logFile, err := os.Create(logPath) // #nosec G304 -- in our temp dir
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...) // #nosec G204 -- binaries the bench built or runs itself
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// If the bench dies, so does the child.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, log: logPath, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		_ = logFile.Close()
		close(c.exited)
	}()
	return c, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// stop sends SIGTERM and waits, then SIGKILL.
func (c *child) stop() {
	select {
	case <-c.exited:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(25 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
}

func (c *child) tail(n int) string {
	b, _ := os.ReadFile(c.log)
	return lastLines(string(b), n)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// waitHTTP polls url until it answers 2xx, the child exits or time runs out.
func waitHTTP(ctx context.Context, c *child, url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	hc := &http.Client{Timeout: 2 * time.Second}
	for {
		select {
		case <-c.exited:
			return fmt.Errorf("%s exited during start-up; its log ends:\n%s", c.name, c.tail(15))
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if res, err := hc.Get(url); err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			_ = res.Body.Close()
			if res.StatusCode/100 == 2 {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer %s within %s; its log ends:\n%s", c.name, url, timeout, c.tail(15))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// envWith is the environment with the given variables set (replacing any
// inherited value).
func envWith(set map[string]string) []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := set[k]; ok || k == refModeEnv {
			continue
		}
		out = append(out, kv)
	}
	for k, v := range set {
		out = append(out, k+"="+v)
	}
	return out
}

// stmtCounter reads pg_stat_statements for the baton database.
type stmtCounter struct {
	conn *pgx.Conn
}

// Statements of the bench itself mention pg_stat_statements; River's
// background queue work (leader election, maintenance) is not caused by the
// requests and is counted apart.
const (
	batonDB      = `dbid = (SELECT oid FROM pg_database WHERE datname = 'baton') AND query NOT ILIKE '%pg\_stat\_statements%'`
	riverFilter  = `query ILIKE '%river\_%'`
	requestsOnly = batonDB + ` AND NOT (` + riverFilter + `)`
)

func (s *stmtCounter) reset(ctx context.Context) error {
	_, err := s.conn.Exec(ctx, "SELECT pg_stat_statements_reset()")
	return err
}

// counts returns the statements caused by requests and River's.
func (s *stmtCounter) counts(ctx context.Context) (requests, river int64, err error) {
	err = s.conn.QueryRow(ctx, `SELECT
		coalesce(sum(calls) FILTER (WHERE NOT (`+riverFilter+`)), 0)::bigint,
		coalesce(sum(calls) FILTER (WHERE `+riverFilter+`), 0)::bigint
		FROM pg_stat_statements WHERE `+batonDB).Scan(&requests, &river)
	return
}

// answerBatches counts the store's coalesced answer statements (moving on and finishing) (see
// quizzes/coalesce.go) and the answers they wrote (the rows they returned).
func (s *stmtCounter) answerBatches(ctx context.Context) (batches, answers int64, err error) {
	err = s.conn.QueryRow(ctx, `SELECT coalesce(sum(calls), 0)::bigint, coalesce(sum(rows), 0)::bigint
		FROM pg_stat_statements WHERE `+requestsOnly+` AND query LIKE '%WITH ORDINALITY AS _ (id, user_id, step,%'`).Scan(&batches, &answers)
	return
}

type stmtCount struct {
	Calls      int64  `json:"calls"`
	MeanExecUs int64  `json:"mean_exec_us"` // PostgreSQL's own execution time, without parsing and round trips
	Query      string `json:"query"`
}

func (s *stmtCounter) top(ctx context.Context, n int) ([]stmtCount, error) {
	rows, err := s.conn.Query(ctx, `SELECT calls, round(mean_exec_time::numeric * 1000), left(regexp_replace(query, '\s+', ' ', 'g'), 200)
		FROM pg_stat_statements WHERE `+requestsOnly+` ORDER BY calls DESC, query LIMIT $1`, n)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (stmtCount, error) {
		var c stmtCount
		return c, r.Scan(&c.Calls, &c.MeanExecUs, &c.Query)
	})
}

// machineInfo describes where the numbers come from.
type machineInfo struct {
	CPUs       int    `json:"cpus"`
	CPUModel   string `json:"cpu_model"`
	MemTotalMB int64  `json:"mem_total_mb"`
	Kernel     string `json:"kernel"`
	GoVersion  string `json:"go_version"`
	PostgreSQL string `json:"postgresql"`
	Pgbench    string `json:"pgbench"`
}

func readMachine(ctx context.Context, conn *pgx.Conn, pgbench string) machineInfo {
	m := machineInfo{CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		m.MemTotalMB = statusKB(string(b), "MemTotal:") / 1024
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	_ = conn.QueryRow(ctx, "SHOW server_version").Scan(&m.PostgreSQL)
	if out, err := exec.Command(pgbench, "--version").Output(); err == nil { // #nosec G204 -- the cluster's own pgbench
		m.Pgbench = strings.TrimSpace(string(out))
	}
	return m
}

// pgbench runs the durable-answer baseline: one INSERT and one UPDATE of the
// client's own row in one transaction.
type pgbench struct {
	bin     string
	sockDir string
	user    string
	pass    string
	dir     string
	script  string
}

const pgbenchScript = `\set delta random(1, 5)
BEGIN;
INSERT INTO bench_events (account, delta) VALUES (:client_id, :delta);
UPDATE bench_accounts SET balance = balance + :delta, updated_at = now() WHERE id = :client_id;
COMMIT;
`

func (p *pgbench) setup(ctx context.Context, url string, maxClients int) error {
	p.script = filepath.Join(p.dir, "pgbench-answer.sql")
	if err := os.WriteFile(p.script, []byte(pgbenchScript), 0o644); err != nil { // #nosec G306 -- pgbench reads it
		return err
	}
	return execSQL(ctx, url,
		`CREATE TABLE bench_events (id bigserial PRIMARY KEY, account int NOT NULL, delta int NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`,
		`CREATE TABLE bench_accounts (id int PRIMARY KEY, balance bigint NOT NULL DEFAULT 0, updated_at timestamptz)`,
		fmt.Sprintf(`INSERT INTO bench_accounts (id) SELECT g FROM generate_series(0, %d) g`, maxClients+16),
		`VACUUM ANALYZE bench_accounts`,
	)
}

type pgbenchRun struct {
	Summary pgbenchSummary
	Log     pgbenchLog
	Elapsed time.Duration
	Seconds int // the -T it ran with
	Output  string
}

// pgbenchSeconds is pgbench's -T for a phase of dur at clients. pgbench's
// clock runs while its clients connect (a SCRAM handshake and a backend
// each), which at 256 clients on two busy cores took the whole of a 5 s
// phase: past 64 clients it gets a second more per 32. Its tps excludes
// the connection time, so the rate is still that of running clients.
func pgbenchSeconds(dur time.Duration, clients int) int {
	return max(1, int(math.Ceil(dur.Seconds()))) + max(0, clients-64)/32
}

func (p *pgbench) run(ctx context.Context, clients int, dur time.Duration, tag string) (pgbenchRun, error) {
	secs := pgbenchSeconds(dur, clients)
	prefix := filepath.Join(p.dir, "pgbench-"+tag)
	args := []string{"-n", "-c", fmt.Sprint(clients), "-j", fmt.Sprint(min(2, clients)), "-T", fmt.Sprint(secs),
		"-f", p.script, "--log", "--log-prefix=" + prefix,
		"-h", p.sockDir, "-U", p.user, "pgbench_db"}
	cmd := exec.CommandContext(ctx, p.bin, args...) // #nosec G204 -- the cluster's own pgbench
	cmd.Env = append(os.Environ(), "PGPASSWORD="+p.pass)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	r := pgbenchRun{Elapsed: time.Since(start), Seconds: secs, Output: out.String()}
	if err != nil {
		return r, fmt.Errorf("pgbench: %v: %s", err, lastLines(out.String(), 5))
	}
	if r.Summary, err = parsePgbenchOutput(r.Output); err != nil {
		return r, fmt.Errorf("%v: %s", err, lastLines(out.String(), 5))
	}
	r.Log, err = readPgbenchLogs(prefix)
	return r, err
}
