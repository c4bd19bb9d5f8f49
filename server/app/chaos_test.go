package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/baton-course/baton/migrations"
	"github.com/baton-course/baton/quizzes"
	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/embeddedpg"
	"github.com/baton-course/baton/server/testdb"
)

const (
	testPassword = "correct-llama-timetable"
	testQuiz     = "the-impossible-date"
)

var emailSeq atomic.Int64

// stepJSON, startedJSON and answeredJSON are the parts of the attempt API's
// answers that the load reads.
type stepJSON struct {
	ID      string
	Choices []struct{ ID, Text string }
}

type startedJSON struct {
	ID      string
	Variant struct{ ID string }
	Step    *stepJSON
}

type answeredJSON struct{ Step *stepJSON }

// httpLearner drives the API over real HTTP, as the load does.
type httpLearner struct {
	base, token string
	client      *http.Client
}

func (l *httpLearner) do(method, path string, body any) (int, []byte, error) {
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, l.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if l.token != "" {
		req.Header.Set("Authorization", "Bearer "+l.token)
	}
	res, err := l.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(res.Body)
	return res.StatusCode, buf.Bytes(), nil
}

func newHTTPLearner(t *testing.T, base string, client *http.Client) *httpLearner {
	t.Helper()
	l := &httpLearner{base: base, client: client}
	email := fmt.Sprintf("load%d@example.com", emailSeq.Add(1))
	code, body, err := l.do("POST", "/api/auth/register", map[string]string{"email": email, "password": testPassword, "name": "Load"})
	if err != nil || code != 201 {
		t.Fatalf("register: %d %s %v", code, body, err)
	}
	var r struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal(body, &r)
	l.token = r.AccessToken
	return l
}

// ack is an answer the server acknowledged with 200.
type ack struct{ attempt, step, choice string }

// answerLoad plays scenarios until stop closes, recording every acknowledged
// answer and the slowest failed request.
func answerLoad(l *httpLearner, stop <-chan struct{}, acks chan<- ack, slowest *atomic.Int64, failures *atomic.Int64, bad *atomic.Int64) {
	sc := mustScenario(testQuiz)
	for {
		select {
		case <-stop:
			return
		default:
		}
		began := time.Now()
		code, body, err := l.do("POST", "/api/quizzes/"+testQuiz+"/attempts", nil)
		if err != nil || (code != 200 && code != 201) {
			noteFailure(code, began, slowest, failures, bad)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		var a startedJSON
		_ = json.Unmarshal(body, &a)
		v, _ := sc.Variant(a.Variant.ID)
		step := a.Step
		for step != nil {
			// The wire names choices by per-attempt tokens; the store keeps
			// the authoring id, found here by the choice's text.
			shown := step.Choices[0]
			choice := ""
			for _, c := range v.Steps[step.ID].Choices {
				if c.Text == shown.Text {
					choice = c.ID
				}
			}
			began = time.Now()
			code, body, err = l.do("POST", "/api/attempts/"+a.ID+"/answers", map[string]string{"step_id": step.ID, "choice_id": shown.ID})
			if err != nil || code != 200 {
				noteFailure(code, began, slowest, failures, bad)
				// The attempt is resumable: fetch its current step and go on.
				time.Sleep(50 * time.Millisecond)
				break
			}
			acks <- ack{a.ID, step.ID, choice}
			var ans answeredJSON
			_ = json.Unmarshal(body, &ans)
			step = ans.Step
		}
	}
}

func noteFailure(code int, began time.Time, slowest, failures, bad *atomic.Int64) {
	failures.Add(1)
	if d := int64(time.Since(began)); d > slowest.Load() {
		slowest.Store(d)
	}
	// During an outage a request may be refused (503) or, having raced the
	// answer of a retry, conflict (409); anything else is a bug.
	if code != 0 && code != 503 && code != 409 {
		bad.Add(1)
	}
}

func mustScenario(slug string) *quizzes.Scenario {
	c, err := loadContent()
	if err != nil {
		panic(err)
	}
	for _, sc := range c.scenarios {
		if sc.Slug == slug {
			return sc
		}
	}
	panic("no scenario " + slug)
}

// assertAcknowledgedStored checks that every answer the server acknowledged
// is in the database exactly once, and that the load really ran.
func assertAcknowledgedStored(t *testing.T, url string, acks <-chan ack, atLeast int) {
	t.Helper()
	db, err := database.Open(context.Background(), url, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n := 0
	for a := range acks {
		n++
		var rows int
		if err := db.SQL.QueryRow(`SELECT count(*) FROM attempt_answers WHERE attempt_id = $1 AND step_id = $2 AND choice_id = $3`,
			a.attempt, a.step, a.choice).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if rows != 1 {
			t.Fatalf("acknowledged answer %+v stored %d times", a, rows)
		}
	}
	if n < atLeast {
		t.Fatalf("only %d answers acknowledged: the load did not run", n)
	}
}

// answerLoadRun is learners answering scenarios until finish is called.
type answerLoadRun struct {
	stop                   chan struct{}
	acks                   chan ack
	slowest, failures, bad atomic.Int64
	wg                     sync.WaitGroup
}

func startAnswerLoad(t *testing.T, base string, client *http.Client, learners int) *answerLoadRun {
	t.Helper()
	ld := &answerLoadRun{stop: make(chan struct{}), acks: make(chan ack, 100000)}
	for range learners {
		l := newHTTPLearner(t, base, client)
		ld.wg.Add(1)
		go func() { defer ld.wg.Done(); answerLoad(l, ld.stop, ld.acks, &ld.slowest, &ld.failures, &ld.bad) }()
	}
	return ld
}

// finish stops the learners and closes acks once they are done.
func (ld *answerLoadRun) finish() {
	close(ld.stop)
	ld.wg.Wait()
	close(ld.acks)
}

// outage is how long the database stays down: a few seconds in make test,
// ten with BATON_CHAOS=1 (make chaos).
func outage() time.Duration {
	if os.Getenv("BATON_CHAOS") == "1" {
		return 10 * time.Second
	}
	return 3 * time.Second
}

// TestDatabaseOutageUnderLoad stops PostgreSQL under a load of learners
// answering scenarios, then starts it again: during the outage readiness is
// 503 and requests fail fast with 503; afterwards everything works without
// restarting Baton; every acknowledged answer is stored, none twice.
func TestDatabaseOutageUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos")
	}
	dir := dataDir(t)
	ctx := context.Background()
	cluster, err := embeddedpg.Start(ctx, embeddedpg.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cluster.Stop() }()
	url, err := ensureDatabase(ctx, cluster)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t)
	cfg.Addr, cfg.DatabaseURL, cfg.ReminderInterval = "127.0.0.1:0", url, time.Hour
	goroutinesBefore := runtime.NumGoroutine()
	app, err := Open(ctx, cfg, quietLog)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stopApp := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- app.Run(runCtx) }()
	base := "http://" + app.Addr()
	client := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}

	ld := startAnswerLoad(t, base, client, 8)
	time.Sleep(time.Second)

	cluster.Stop()
	readyDown := time.Now()
	code, _ := get(base + "/readyz")
	if code != 503 {
		t.Errorf("readyz during the outage: %d", code)
	}
	if took := time.Since(readyDown); took > 3*time.Second {
		t.Errorf("readyz took %s during the outage", took)
	}
	if code, _ := get(base + "/healthz"); code != 200 {
		t.Errorf("healthz during the outage: %d", code)
	}
	time.Sleep(outage())
	if cluster, err = embeddedpg.Start(ctx, embeddedpg.Options{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	waitFor(t, "readyz after the database returned", 5*time.Second, func() bool { c, _ := get(base + "/readyz"); return c == 200 })
	acked := len(ld.acks)
	waitFor(t, "answers flowing again", 5*time.Second, func() bool { return len(ld.acks) > acked })
	t.Logf("back %s after the database returned; %d failures, slowest %s",
		time.Since(back).Round(time.Millisecond), ld.failures.Load(), time.Duration(ld.slowest.Load()).Round(time.Millisecond))
	time.Sleep(500 * time.Millisecond)
	ld.finish()

	if ld.bad.Load() > 0 {
		t.Errorf("%d requests failed with a status other than 503 or 409", ld.bad.Load())
	}
	if s := time.Duration(ld.slowest.Load()); s > 5*time.Second {
		t.Errorf("a failing request took %s: requests must fail fast during an outage", s)
	}
	assertAcknowledgedStored(t, url, ld.acks, 20)
	stopApp()
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
	app.Close()
	client.CloseIdleConnections()
	waitFor(t, "goroutines to wind down", 10*time.Second, func() bool { return runtime.NumGoroutine() <= goroutinesBefore+5 })
}

// TestSIGTERMUnderLoad stops a real Baton process with SIGTERM while learners
// answer: it exits 0, and every answer it acknowledged is stored.
func TestSIGTERMUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos")
	}
	url := testdb.URL(t)
	addr := testdb.FreeAddr(t)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "BATON_TEST_RUN_SERVER=1", "BATON_ADDR="+addr, "DATABASE_URL="+url, "BATON_REMINDER_INTERVAL=1h")
	logFile, _ := os.Create(filepath.Join(t.TempDir(), "baton.log"))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	base := "http://" + addr
	waitFor(t, "readyz", 60*time.Second, func() bool { c, _ := get(base + "/readyz"); return c == 200 })
	client := &http.Client{Timeout: 15 * time.Second}
	ld := startAnswerLoad(t, base, client, 8)
	time.Sleep(time.Second)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	ld.finish()
	if err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	assertAcknowledgedStored(t, url, ld.acks, 10)
}

// TestSeveralInstances starts three instances on one empty database at the
// same moment (migrations, content sync, demo data): all come up, nothing is
// duplicated, a token from one works on the others, and sign-in throttling
// holds across them.
func TestSeveralInstances(t *testing.T) {
	url := testdb.URL(t)
	// An empty database: drop what the template brought so migrations race.
	db, err := database.Open(context.Background(), url, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL.Exec(`DROP SCHEMA public CASCADE; CREATE SCHEMA public`); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cfg := testConfig(t)
	cfg.Addr, cfg.DatabaseURL, cfg.Demo, cfg.ReminderInterval = "127.0.0.1:0", url, true, time.Hour
	apps := make([]*App, 3)
	var wg sync.WaitGroup
	for i := range apps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := Open(context.Background(), cfg, quietLog)
			if err != nil {
				t.Errorf("instance %d: %v", i, err)
				return
			}
			apps[i] = a
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	ctx, cancel := context.WithCancel(context.Background())
	for _, a := range apps {
		go func() { _ = a.Run(ctx) }()
		t.Cleanup(a.Close)
	}
	t.Cleanup(cancel)
	files, _ := fs.Glob(migrations.FS, "*.sql")
	for q, want := range map[string]int{
		"SELECT count(*) FROM users":                                 4,
		"SELECT count(*) FROM teams":                                 1,
		"SELECT count(*) FROM signing_keys WHERE retired_at IS NULL": 1,
		"SELECT count(*) FROM assignments":                           6,
		"SELECT count(*) FROM goose_db_version WHERE version_id > 0": len(files),
	} {
		var n int
		if err := db.SQL.QueryRow(q).Scan(&n); err != nil || n != want {
			t.Errorf("%s = %d (%v), want %d", q, n, err, want)
		}
	}
	client := &http.Client{Timeout: 10 * time.Second}
	bases := make([]string, len(apps))
	for i, a := range apps {
		bases[i] = "http://" + a.Addr()
	}
	l := newHTTPLearner(t, bases[0], client)
	for _, b := range bases[1:] {
		other := &httpLearner{base: b, token: l.token, client: client}
		if code, body, err := other.do("GET", "/api/me", nil); err != nil || code != 200 {
			t.Fatalf("token from instance 0 on %s: %d %s %v", b, code, body, err)
		}
	}
	// Failed sign-ins spread over the instances add up.
	last := 0
	for i := range 8 {
		anon := &httpLearner{base: bases[i%3], client: client}
		last, _, _ = anon.do("POST", "/api/auth/login", map[string]string{"email": "manager@demo.baton.local", "password": "wrong-password-here"})
		if last == 429 {
			break
		}
	}
	if last != 429 {
		t.Fatalf("throttling did not hold across instances: last status %d", last)
	}
}
