// Command bench is Baton's load generator and benchmark.
//
//	go run ./server/cmd/bench [-levels 1,16,64,256] [-duration 5s] [-rounds 2] [-heavy-rounds 1] [-out bench.json] [-profile]
//	    [-sync-learners 1000 -sync-signin 60s -sync-window 10s] [-repeat 3]
//
// It starts a private PostgreSQL (durable defaults, pg_stat_statements),
// builds and starts the server against it, signs up learners and plays their
// journey through the public API at each concurrency level: lessons, the
// module list, reading progress, scenario attempts and answers (answers
// alone on attempts started beforehand, and the start-then-answer loop),
// then the synchronized start of many learners at once. Two baselines
// run in the same session, interleaved with the server phases they are
// compared with: pgbench doing the minimal durable write (one INSERT and one
// UPDATE in a transaction) and a bare Echo + pgx reference handler serving
// the same lesson bytes after the same JWT checks. It prints a table and
// writes everything as JSON.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/baton-course/baton/server/accounts"
	"github.com/baton-course/baton/server/embeddedpg"
)

type options struct {
	Levels   []int           `json:"levels"`
	Duration time.Duration   `json:"-"`
	Phase    string          `json:"phase_duration"`
	Rounds   int             `json:"rounds"`
	Learners int             `json:"learners"`
	Out      string          `json:"-"`
	Profile  bool            `json:"profile"`
	Phases   map[string]bool `json:"phases,omitempty"` // nil: every phase
	Sessions int             `json:"open_sessions"`
	Keep     bool            `json:"-"`
	// HeavyRounds is the rounds at levels above targetConcurrency, and
	// LightRounds below it, where no target is judged: the run's length
	// matters, and 256 learners' phases are the slowest. 0 is Rounds.
	HeavyRounds int         `json:"heavy_rounds"`
	LightRounds int         `json:"light_rounds"`
	Sync        syncOptions `json:"synchronized_start"`
	Repeat      int         `json:"-"`
}

// roundsAt is how many A/B rounds run at level.
func (o options) roundsAt(level int) int {
	switch {
	case level > targetConcurrency && o.HeavyRounds > 0:
		return o.HeavyRounds
	case level < targetConcurrency && o.LightRounds > 0:
		return o.LightRounds
	}
	return o.Rounds
}

// runsAt reports whether phase runs at level. The answer phase answers
// what the start phase started: they run together.
func (o options) runsAt(phase string, level int) bool {
	if phase == "start" || phase == "answer" {
		return o.answersAt(level)
	}
	return o.runs(phase)
}

// answersAt reports whether the answer phase (and its start phase) runs at
// level: where targets are judged, or everywhere -phases names it.
func (o options) answersAt(level int) bool {
	return o.runs("answer") && (o.Phases != nil || slices.Contains(targetLevels, level))
}

// report is the JSON document the bench writes.
type report struct {
	Tool      string        `json:"tool"`
	StartedAt time.Time     `json:"started_at"`
	TookS     float64       `json:"took_s"`
	Machine   machineInfo   `json:"machine"`
	Config    options       `json:"config"`
	Pgbench   string        `json:"pgbench_script"`
	Probe     []probeResult `json:"sql_probe"`
	Summary   []summaryRow  `json:"summary"`
	Ratios    []ratio       `json:"ratios"`
	Targets   []target      `json:"targets"`
	Journeys  []journeyRate `json:"journeys"`
	Capacity  capacity      `json:"capacity"`
	Server    struct {
		PeakRSSMB          float64 `json:"peak_rss_mb"`
		CPUSeconds         float64 `json:"cpu_s"`
		PostgresCPUSeconds float64 `json:"postgres_cpu_s"`
	} `json:"server"`
	History  history       `json:"learner_history"`
	Phases   []phaseResult `json:"phases"`
	Profiles []string      `json:"profiles,omitempty"`
	Warnings []string      `json:"warnings,omitempty"`
}

// history is how much the learners had done by the end: the module list
// and scenario starts read a learner's attempts.
type history struct {
	Learners       int `json:"learners"`
	AttemptsMin    int `json:"attempts_min"`
	AttemptsMedian int `json:"attempts_median"`
	AttemptsMax    int `json:"attempts_max"`
}

type journeyRate struct {
	Level     int     `json:"level"`
	PerSecond float64 `json:"per_second"`
}

// probeResult is how many statements one request of a class ran, measured
// alone: for answers, each step of one attempt in order.
type probeResult struct {
	Class      string      `json:"class"`
	Counts     []int       `json:"counts"`
	Statements []stmtCount `json:"statements"`
}

func main() {
	if os.Getenv(refModeEnv) == "1" {
		os.Exit(serveRef())
	}
	os.Exit(benchMain())
}

func benchMain() int {
	// The load generator shares the cores with what it measures: collecting
	// its garbage less often leaves more of them to the server. Its memory
	// does not matter.
	debug.SetGCPercent(400)
	var o options
	levels := flag.String("levels", "1,16,64,256", "comma-separated concurrency levels (learners acting at once)")
	flag.DurationVar(&o.Duration, "duration", 5*time.Second, "length of each measured phase")
	flag.IntVar(&o.Rounds, "rounds", 2, "how many times each baseline and the phase compared with it alternate (A B A B)")
	flag.IntVar(&o.HeavyRounds, "heavy-rounds", 1, fmt.Sprintf("rounds at levels above %d learners (0: as -rounds)", targetConcurrency))
	flag.IntVar(&o.LightRounds, "light-rounds", 1, fmt.Sprintf("rounds at levels below %d learners, where no target is judged (0: as -rounds)", targetConcurrency))
	flag.IntVar(&o.Sync.Learners, "sync-learners", 1000, "learners in the synchronized start (0: skip it)")
	flag.DurationVar(&o.Sync.SignIn, "sync-signin", 60*time.Second, "the window the synchronized start's sign-ins are spread over")
	flag.DurationVar(&o.Sync.Window, "sync-window", 10*time.Second, "the window the synchronized start's starts are spread over")
	flag.IntVar(&o.Repeat, "repeat", runsFromEnv(), "run the whole bench this many times and compare the key ratios (each run's JSON beside -out; also RUNS=n)")
	flag.IntVar(&o.Learners, "learners", 64, "learners to sign up (at least the highest level)")
	flag.StringVar(&o.Out, "out", "bench.json", "where to write the JSON report")
	flag.BoolVar(&o.Profile, "profile", os.Getenv("PROFILE") == "1", "save server CPU and heap profiles (also PROFILE=1)")
	flag.BoolVar(&o.Keep, "keep", false, "keep the temporary directory (cluster, logs) for inspection")
	selfProfile := flag.String("loadprofile", "", "write the load generator's own CPU profile to this file (to keep the generator cheap)")
	flag.IntVar(&o.Sessions, "sessions", 1000, "learners holding open sessions in the memory phase")
	only := flag.String("phases", "", "comma-separated phases to run (default: all), e.g. pgbench,answer when working on one path")
	flag.Parse()
	if *only != "" {
		o.Phases = map[string]bool{}
		for _, p := range strings.Split(*only, ",") {
			o.Phases[strings.TrimSpace(p)] = true
		}
	}
	for _, f := range strings.Split(*levels, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "bench: -levels: %q is not a positive number\n", f)
			return 2
		}
		o.Levels = append(o.Levels, n)
	}
	if o.Rounds < 1 || o.HeavyRounds < 0 || o.LightRounds < 0 || o.Duration < time.Second || o.Repeat < 1 {
		fmt.Fprintln(os.Stderr, "bench: -rounds and -repeat must be at least 1, -heavy-rounds at least 0 and -duration at least 1s")
		return 2
	}
	if o.Sync.Learners < 0 || (o.Sync.Learners > 0 && (o.Sync.SignIn <= 0 || o.Sync.Window <= 0)) {
		fmt.Fprintln(os.Stderr, "bench: -sync-learners must be at least 0, -sync-signin and -sync-window positive")
		return 2
	}
	o.Phase = o.Duration.String()
	for _, lv := range o.Levels {
		o.Learners = max(o.Learners, lv)
	}

	if *selfProfile != "" {
		f, err := os.Create(*selfProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench: -loadprofile:", err)
			return 2
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.Repeat > 1 {
		return repeatRuns(ctx, o)
	}
	_, err := runAndReport(ctx, o, o.Out)
	if err != nil {
		return 1
	}
	return 0
}

// runAndReport runs the bench once, prints its table and writes its JSON
// to out.
func runAndReport(ctx context.Context, o options, out string) (*report, error) {
	rep, err := run(ctx, o)
	if rep != nil && (len(rep.Phases) > 0 || rep.Capacity != (capacity{})) {
		fmt.Print(formatTable(rep))
		if b, jerr := json.MarshalIndent(rep, "", "  "); jerr == nil {
			if werr := os.WriteFile(out, append(b, '\n'), 0o644); werr != nil { // #nosec G306 -- a report
				fmt.Fprintln(os.Stderr, "bench:", werr)
			} else {
				fmt.Printf("\nJSON report: %s\n", out)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
	}
	return rep, err
}

// runsFromEnv is RUNS from the environment (`make bench RUNS=3`), or 1.
func runsFromEnv() int {
	if n, err := strconv.Atoi(os.Getenv("RUNS")); err == nil && n > 0 {
		return n
	}
	return 1
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s bench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// bench holds everything a run started.
type bench struct {
	o        options
	tmp      string
	cluster  *embeddedpg.Cluster
	server   *child
	ref      *child
	h        *client
	base     string
	refBase  string
	pprof    string
	learners []*learner
	probe    *learner
	course   *course
	stmts    *stmtCounter
	pool     *answerPool // the answer phase's learners and attempts
	pgb      *pgbench
	rep      *report
	phases   int // server phases run, for rotating learners
}

func run(ctx context.Context, o options) (rep *report, err error) {
	started := time.Now()
	rep = &report{Tool: "baton server/cmd/bench", StartedAt: started.UTC(), Config: o, Pgbench: pgbenchScript}
	b := &bench{o: o, rep: rep}
	defer func() {
		rep.TookS = round1(time.Since(started).Seconds())
		if rep.Summary == nil && (len(rep.Phases) > 0 || rep.Capacity != (capacity{})) {
			b.finish() // stopped early: report what was measured
		}
	}()

	// A directory the unprivileged postgres account can enter when we are root.
	if b.tmp, err = os.MkdirTemp("", "baton-bench-"); err != nil {
		return rep, err
	}
	if err = os.Chmod(b.tmp, 0o711); err != nil { // #nosec G302 -- a directory the cluster account must enter
		return rep, err
	}
	if o.Keep {
		logf("keeping %s", b.tmp)
	} else {
		defer os.RemoveAll(b.tmp)
	}
	root, err := moduleRoot()
	if err != nil {
		return rep, err
	}

	// Build the server while the cluster starts.
	logf("building the server and starting PostgreSQL in %s", b.tmp)
	serverBin := filepath.Join(b.tmp, "baton")
	buildErr := make(chan error, 1)
	go func() { buildErr <- buildServer(ctx, root, serverBin) }()
	b.cluster, err = startCluster(ctx, filepath.Join(b.tmp, "pg"))
	if berr := <-buildErr; berr != nil && err == nil {
		err = fmt.Errorf("go build ./server: %w", berr)
	}
	if b.cluster != nil {
		defer b.cluster.Stop()
	}
	if err != nil {
		return rep, err
	}
	batonURL := b.cluster.URL("baton")
	if err = execSQL(ctx, batonURL, "CREATE EXTENSION pg_stat_statements"); err != nil {
		return rep, err
	}
	binDir, err := embeddedpg.FindBinaries()
	if err != nil {
		return rep, err
	}
	b.pgb = &pgbench{bin: filepath.Join(binDir, "pgbench"), sockDir: b.cluster.SocketDir(), user: b.cluster.Superuser(),
		pass: b.cluster.Password(), dir: b.tmp}
	if err = b.pgb.setup(ctx, b.cluster.URL("pgbench_db"), maxOf(o.Levels)); err != nil {
		return rep, fmt.Errorf("pgbench tables: %w", err)
	}

	// The server, on its own port, against the cluster.
	addr, err := freePort()
	if err != nil {
		return rep, err
	}
	env := map[string]string{
		"DATABASE_URL":            batonURL,
		"BATON_ADDR":              addr,
		"BATON_REMINDER_INTERVAL": "1h",
		"BATON_ACCESS_TTL":        "1h",
		"BATON_DATA_DIR":          filepath.Join(b.tmp, "server-data"),
		"BATON_DEMO":              "",
		// The bench stands where a load balancer would: it names each
		// learner's own address (from the benchmarking range) in
		// X-Forwarded-For, so that sign-ups from hundreds of learners are
		// not all judged as one address's (60 a minute).
		"BATON_TRUSTED_PROXIES": "127.0.0.1/32",
	}
	if o.Profile {
		if b.pprof, err = freePort(); err != nil {
			return rep, err
		}
		env["BATON_PPROF_ADDR"] = b.pprof
	}
	logf("starting the server on %s", addr)
	if b.server, err = startChild("server", serverBin, nil, envWith(env), filepath.Join(b.tmp, "server.log")); err != nil {
		return rep, err
	}
	defer b.server.stop()
	b.base = "http://" + addr
	if err = waitHTTP(ctx, b.server, b.base+"/readyz", 90*time.Second); err != nil {
		return rep, err
	}
	if o.Profile && !b.pprofAnswers() {
		rep.Warnings = append(rep.Warnings, "profiling asked for, but the server does not answer /debug/pprof/ on BATON_PPROF_ADDR "+b.pprof+": no profiles saved")
		logf("warning: %s", rep.Warnings[len(rep.Warnings)-1])
		b.pprof = ""
	}

	conn, err := pgx.Connect(ctx, batonURL)
	if err != nil {
		return rep, err
	}
	defer conn.Close(context.Background())
	b.stmts = &stmtCounter{conn: conn}
	rep.Machine = readMachine(ctx, conn, b.pgb.bin)

	b.h = newClient(maxOf(o.Levels))
	if err = b.signUp(ctx); err != nil {
		return rep, err
	}
	if err = b.loadCourse(ctx); err != nil {
		return rep, err
	}
	if err = b.startRef(ctx, batonURL); err != nil {
		return rep, err
	}
	defer b.ref.stop()

	// Warm up pools, caches and the statement caches; nothing is recorded.
	logf("warming up")
	for _, ph := range []string{"loop", "lesson", "ref", "modules"} {
		runLoad(ctx, b.h, b.base, b.refBase, b.learners, b.course, ph, min(16, maxOf(o.Levels)), time.Second)
	}
	if err = b.sqlProbe(ctx); err != nil {
		return rep, fmt.Errorf("SQL probe: %w", err)
	}
	if slices.ContainsFunc(o.Levels, o.answersAt) {
		n := poolLearners(o.Duration, len(b.course.Quizzes))
		pool, err := b.insertLearners(ctx, conn, n, "pool", true)
		if err != nil {
			return rep, fmt.Errorf("the answer phase's learners: %w", err)
		}
		b.pool = newAnswerPool(pool, b.course.Quizzes, b.stepsPerAttempt())
		logf("answer pool: %d learners, %.1f answers per attempt at first", n, b.pool.steps)
	}

	for _, lv := range o.Levels {
		for r := 1; r <= o.roundsAt(lv); r++ {
			for _, ph := range []string{"pgbench", "start", "answer", "loop", "ref", "lesson"} {
				if !o.runsAt(ph, lv) {
					continue
				}
				if err = b.phase(ctx, lv, ph, r, ""); err != nil {
					return rep, err
				}
			}
		}
		for _, ph := range []string{"modules", "progress", "journey"} {
			if !o.runs(ph) {
				continue
			}
			if err = b.phase(ctx, lv, ph, 1, ""); err != nil {
				return rep, err
			}
		}
	}
	// Sign-ins are measured at 64 learners at most: at 256 at once, on one
	// hashing slot, the queue alone outlasts the server's request deadline.
	top := min(maxOf(o.Levels), targetConcurrency)
	// The throughput phases are over: their keep-alive connections (256 of
	// them at the top level) would otherwise be charged to the capacity
	// phases' memory.
	b.h.closeIdle()
	// The open-sessions phase restarts the server's peak-RSS count: keep
	// the peak so far for the whole-run figure.
	peakSoFar := int64(0)
	if st, err := readProc(b.server.pid()); err == nil {
		peakSoFar = st.PeakRSSKB
	}
	if o.runs("sessions") && o.Sessions > 0 {
		if err = b.openSessions(ctx, conn, o.Sessions); err != nil {
			return rep, err
		}
	}
	// Sign-ins last: each leaves 19 MiB of argon2id garbage behind, which
	// is not what the open-sessions phase should be charged with.
	if o.runs("login") {
		if err = b.signInLoad(ctx, top); err != nil {
			return rep, err
		}
	}
	if o.runs("storm") {
		if err = b.storm(ctx, top); err != nil {
			return rep, err
		}
	}
	// The synchronized start after them: its 1,000 sign-ins and sessions
	// are not what the sign-in storm's lesson readers should be charged with.
	if o.runs("sync") && o.Sync.Learners > 0 {
		if err = b.syncStart(ctx, conn, o.Sync); err != nil {
			return rep, err
		}
	}
	if b.pprof != "" {
		b.profile(ctx)
	}

	// Whole-run figures.
	if st, err := readProc(b.server.pid()); err == nil {
		rep.Server.PeakRSSMB = round1(float64(max(st.PeakRSSKB, peakSoFar)) / 1024)
		rep.Server.CPUSeconds = round1(st.cpuSeconds())
	}
	rep.Server.PostgresCPUSeconds = round1(treeCPUSeconds(b.cluster.Pid()))
	h := &rep.History
	_ = conn.QueryRow(ctx, `SELECT count(*), coalesce(min(n), 0), coalesce(percentile_disc(0.5) WITHIN GROUP (ORDER BY n), 0), coalesce(max(n), 0)
		FROM (SELECT count(*) AS n FROM attempts GROUP BY user_id) s`).Scan(&h.Learners, &h.AttemptsMin, &h.AttemptsMedian, &h.AttemptsMax)
	b.server.stop() // the start-up phase wants the machine to itself
	b.ref.stop()
	if o.runs("startup") {
		if err = b.startup(ctx, serverBin); err != nil {
			return rep, err
		}
	}
	b.finish()
	return rep, ctx.Err()
}

// runs reports whether the -phases selection includes phase.
func (o options) runs(phase string) bool { return o.Phases == nil || o.Phases[phase] }

func maxOf(xs []int) int {
	m := 0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

func (b *bench) pprofAnswers() bool {
	hc := &http.Client{Timeout: 2 * time.Second}
	for range 20 {
		res, err := hc.Get("http://" + b.pprof + "/debug/pprof/")
		if err == nil {
			_ = res.Body.Close()
			return res.StatusCode == http.StatusOK
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

type authResponse struct {
	User struct {
		ID string `json:"id"`
	} `json:"user"`
	AccessToken string `json:"access_token"`
}

// signUp registers the learners (not timed), a few at a time: password
// hashing is deliberately slow and limited to one per two CPUs. Sign-ups
// from one address are limited to 60 a minute, so each learner signs up
// from its own address, named in X-Forwarded-For as a load balancer in
// front of the server would (the server trusts the bench's for that).
func (b *bench) signUp(ctx context.Context) error {
	n := b.o.Learners + 1 // the last one is the SQL probe's
	logf("signing up %d learners", n)
	all := make([]*learner, n)
	run := fmt.Sprintf("%x", time.Now().UnixNano()&0xffffff)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 4)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			email := fmt.Sprintf("learner%03d.%s@bench.baton.example", i, run)
			password := "violet-harbor-lantern-" + run
			body, _ := json.Marshal(map[string]string{"email": email, "password": password, "name": fmt.Sprintf("Learner %d", i)})
			var res authResponse
			for {
				status, err := b.h.doFrom(ctx, http.MethodPost, b.base+"/api/auth/register", "", signUpAddress(i), body, &res)
				if status == http.StatusTooManyRequests && ctx.Err() == nil {
					// Should the server not believe the address, past 60
					// sign-ups a minute it asks to wait; its bucket refills
					// one a second.
					time.Sleep(time.Second)
					continue
				}
				if err != nil {
					errs <- fmt.Errorf("sign up %s: %w", email, err)
					return
				}
				break
			}
			all[i] = &learner{ID: res.User.ID, Email: email, Password: password, Token: res.AccessToken}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	b.learners, b.probe = all[:n-1], all[n-1]
	return nil
}

// signUpAddress is learner i's address at sign-up, in the range set aside
// for benchmarks (RFC 2544); the synchronized start's are in its other half.
func signUpAddress(i int) string { return fmt.Sprintf("198.18.%d.%d", (i/250)%250, 1+i%250) }

// stepsPerAttempt is how many answers the SQL probe's attempts took, one at
// every scenario, each answered with its first choice as the phases do.
func (b *bench) stepsPerAttempt() float64 {
	for _, p := range b.rep.Probe {
		if p.Class == "answer" && len(b.course.Quizzes) > 0 && len(p.Counts) > 0 {
			return float64(len(p.Counts)) / float64(len(b.course.Quizzes))
		}
	}
	return 4
}

type moduleList []struct {
	Slug    string `json:"slug"`
	Lessons []struct {
		Slug string `json:"slug"`
	} `json:"lessons"`
	Quizzes []struct {
		Slug string `json:"slug"`
	} `json:"quizzes"`
}

// loadCourse reads the course through the API and stores every lesson's real
// response for the reference handler.
func (b *bench) loadCourse(ctx context.Context) error {
	var mods moduleList
	if _, err := b.h.do(ctx, http.MethodGet, b.base+"/api/modules", b.learners[0].Token, nil, &mods); err != nil {
		return fmt.Errorf("GET /api/modules: %w", err)
	}
	c := &course{}
	for _, m := range mods {
		for _, l := range m.Lessons {
			c.Lessons = append(c.Lessons, l.Slug)
		}
		for _, q := range m.Quizzes {
			c.Quizzes = append(c.Quizzes, q.Slug)
		}
	}
	if len(c.Lessons) == 0 || len(c.Quizzes) == 0 {
		return errors.New("the course has no lessons or no scenarios")
	}
	b.course = c
	conn, err := pgx.Connect(ctx, b.cluster.URL("baton"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE TABLE ref_lessons (slug text PRIMARY KEY, body bytea NOT NULL)"); err != nil {
		return err
	}
	total := 0
	for _, slug := range c.Lessons {
		body, err := b.rawGet(ctx, "/api/lessons/"+slug, b.learners[0].Token)
		if err != nil {
			return err
		}
		total += len(body)
		if _, err := conn.Exec(ctx, "INSERT INTO ref_lessons (slug, body) VALUES ($1, $2)", slug, body); err != nil {
			return err
		}
	}
	_, err = conn.Exec(ctx, "VACUUM ANALYZE ref_lessons")
	logf("course: %d lessons (%d KB of lesson responses), %d scenarios", len(c.Lessons), total/1024, len(c.Quizzes))
	return err
}

func (b *bench) rawGet(ctx context.Context, path, token string) ([]byte, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := b.h.c.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err == nil && res.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: HTTP %d", path, res.StatusCode)
	}
	return body, err
}

// startRef runs the reference handler as a child process of this binary.
func (b *bench) startRef(ctx context.Context, dsn string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	addr, err := freePort()
	if err != nil {
		return err
	}
	key := accounts.NewSigningKey() // the reference handler's own, not the server's
	for _, l := range append([]*learner{b.probe}, b.learners...) {
		if l.RefToken, err = learnerToken(key, l.ID, time.Hour); err != nil {
			return err
		}
	}
	env := envWith(map[string]string{refAddrEnv: addr, refDSNEnv: dsn, refKeyEnv: keyEnv(key)})
	env = append(env, refModeEnv+"=1")
	if b.ref, err = startChild("reference handler", self, nil, env, filepath.Join(b.tmp, "ref.log")); err != nil {
		return err
	}
	b.refBase = "http://" + addr
	return waitHTTP(ctx, b.ref, b.refBase+"/ref/healthz", 30*time.Second)
}

// sqlProbe counts the statements of single requests by one learner with
// nothing else running, twice, keeping the second (warm) pass.
func (b *bench) sqlProbe(ctx context.Context) error {
	w := &worker{ctx: ctx, h: b.h, base: b.base, l: b.probe, c: b.course, rec: newRecorder(), deadline: time.Now().Add(time.Hour)}
	var out []probeResult
	for range 2 {
		out = out[:0]
		measure := func(class string, f func() error) (int, []stmtCount, error) {
			if err := b.stmts.reset(ctx); err != nil {
				return 0, nil, err
			}
			if err := f(); err != nil {
				return 0, nil, fmt.Errorf("%s: %w", class, err)
			}
			n, _, err := b.stmts.counts(ctx)
			if err != nil {
				return 0, nil, err
			}
			top, err := b.stmts.top(ctx, 20)
			return int(n), top, err
		}
		add := func(class string, n int, top []stmtCount) {
			for i := range out {
				if out[i].Class == class {
					out[i].Counts = append(out[i].Counts, n)
					out[i].Statements = mergeStmts(out[i].Statements, top)
					return
				}
			}
			out = append(out, probeResult{Class: class, Counts: []int{n}, Statements: top})
		}
		for _, step := range []struct {
			class string
			f     func() error
		}{
			{"modules", w.getModules},
			{"lesson", func() error { return w.getLesson("lesson") }},
			{"progress", func() error { return w.saveProgress(b.course.Lessons[0], 7) }},
		} {
			n, top, err := measure(step.class, step.f)
			if err != nil {
				return err
			}
			add(step.class, n, top)
		}
		// New attempts at every scenario with every answer to the end, then
		// a resumed start.
		for _, quiz := range b.course.Quizzes {
			n, top, err := measure("start", func() error { return w.startAttempt(quiz) })
			if err != nil {
				return err
			}
			add("start", n, top)
			for w.attempt != nil {
				n, top, err := measure("answer", func() error { _, err := w.answerStep(); return err })
				if err != nil {
					return err
				}
				add("answer", n, top)
			}
		}
		quiz := b.course.Quizzes[0]
		if err := w.startAttempt(quiz); err != nil {
			return err
		}
		n, top, err := measure("resume", func() error { return w.startAttempt(quiz) })
		if err != nil {
			return err
		}
		add("resume", n, top)
		for w.attempt != nil { // finish it so the next pass starts fresh
			if _, err := w.answerStep(); err != nil {
				return err
			}
		}
	}
	b.rep.Probe = out
	var parts []string
	for _, p := range out {
		parts = append(parts, fmt.Sprintf("%s %v", p.Class, p.Counts))
	}
	logf("SQL statements per request: %s", strings.Join(parts, ", "))
	return nil
}

func mergeStmts(a, b []stmtCount) []stmtCount {
	idx := map[string]int{}
	for i, s := range a {
		idx[s.Query] = i
	}
	for _, s := range b {
		if i, ok := idx[s.Query]; ok {
			a[i].Calls += s.Calls
		} else {
			idx[s.Query] = len(a)
			a = append(a, s)
		}
	}
	sort.SliceStable(a, func(i, j int) bool { return a[i].Calls > a[j].Calls })
	return a
}

// rotate spreads phases over the learners, so that every learner's history
// (attempts taken, lessons read) grows alike: what a request costs may depend
// on it.
func (b *bench) rotate(level int) []*learner {
	n := len(b.learners)
	off := (b.phases * level) % n
	b.phases++
	out := make([]*learner, n)
	for i := range out {
		out[i] = b.learners[(off+i)%n]
	}
	return out
}

// phase runs one measured phase and records it.
func (b *bench) phase(ctx context.Context, level int, phase string, round int, cpuProfile string) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	// Clear the previous phase's dead rows now, untimed, so that autovacuum
	// does not wake in the middle of whichever phase comes next (a read
	// phase after a write phase paid for it, at random, before this).
	for _, url := range []string{b.cluster.URL("baton"), b.cluster.URL("pgbench_db")} {
		if err := execSQL(ctx, url, "VACUUM (ANALYZE)"); err != nil {
			return fmt.Errorf("vacuum between phases: %w", err)
		}
	}
	time.Sleep(200 * time.Millisecond) // let the previous phase's tail settle
	if phase == "start" && b.stockWanted(level) <= len(b.pool.stock) {
		logf("c=%-3d %-8s #%d: the stock holds the %d attempts wanted", level, phase, round, len(b.pool.stock))
		return nil
	}
	p := phaseResult{Level: level, Phase: phase, Round: round, Profiled: cpuProfile != "", lat: map[string][]time.Duration{}}
	app := b.server
	if phase == "ref" {
		app = b.ref
	}
	serverPhase := phase != "pgbench" && phase != "ref"
	if serverPhase {
		if err := b.stmts.reset(ctx); err != nil {
			return err
		}
	}
	mc0 := readMachineCPU()
	self0, _ := readProc(os.Getpid())
	app0, _ := readProc(app.pid())
	pg0 := treeCPUSeconds(b.cluster.Pid())

	var profDone chan error
	if cpuProfile != "" {
		profDone = make(chan error, 1)
		secs := max(1, int(b.o.Duration.Seconds())-1)
		go func() {
			profDone <- b.fetchProfile(ctx, fmt.Sprintf("/debug/pprof/profile?seconds=%d", secs), cpuProfile)
		}()
	}

	if phase == "pgbench" {
		before, _ := children(b.cluster.Pid())
		r, err := b.pgb.run(ctx, level, b.o.Duration, fmt.Sprintf("c%d-r%d", level, round))
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			return err
		}
		waitChildren(b.cluster.Pid(), before, 2*time.Second)
		secs := float64(r.Seconds)
		p.ElapsedS = secs
		cs := newClassStats("txn", r.Log.Latencies, r.Log.Failed+int(r.Summary.Failed), time.Duration(secs*float64(time.Second)), nil)
		cs.RPS = round1(r.Summary.TPS)
		p.Classes = []classStats{cs}
		p.lat["txn"] = r.Log.Latencies
	} else {
		var res loadResult
		switch phase {
		case "start":
			res = b.startStock(ctx, level)
		case "answer":
			var ranOut bool
			if res, ranOut = b.answerStock(ctx, level); ranOut {
				b.rep.Warnings = append(b.rep.Warnings, fmt.Sprintf("c=%d answer #%d: the started attempts were all answered after %.1f s, before the phase's end",
					level, round, res.Elapsed.Seconds()))
			}
		default:
			res = runLoad(ctx, b.h, b.base, b.refBase, b.rotate(level), b.course, phase, level, b.o.Duration)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p.ElapsedS = round3(res.Elapsed.Seconds())
		for _, cn := range res.Rec.order {
			c := res.Rec.classes[cn]
			cs := newClassStats(cn, c.lat, c.errors, res.Elapsed, c.samples)
			cs.Deferred = c.deferred
			p.Classes = append(p.Classes, cs)
			p.lat[cn] = c.lat
		}
		sort.SliceStable(p.Classes, func(i, j int) bool { return classOrder[p.Classes[i].Class] < classOrder[p.Classes[j].Class] })
		p.Journeys = res.Rec.journeys
	}
	mc1 := readMachineCPU()
	self1, _ := readProc(os.Getpid())
	app1, _ := readProc(app.pid())
	p.PostgresCPUSeconds = round3(treeCPUSeconds(b.cluster.Pid()) - pg0)
	if phase == "pgbench" {
		// pgbench is our reaped child: its CPU time is in our children's total.
		p.LoadCPUSeconds = round3(float64(self1.ChildUser+self1.ChildSys-self0.ChildUser-self0.ChildSys) / clkTck)
	} else {
		p.LoadCPUSeconds = round3(self1.cpuSeconds() - self0.cpuSeconds())
		p.AppCPUSeconds = round3(app1.cpuSeconds() - app0.cpuSeconds())
		p.AppPeakRSSMB = round1(float64(app1.PeakRSSKB) / 1024)
		p.AppRSSMB = round1(float64(app1.CurrentRSSKB) / 1024)
	}
	if p.ElapsedS > 0 {
		p.MachineBusyCores = round3(float64(mc1.Busy-mc0.Busy) / clkTck / p.ElapsedS)
		p.OtherCores = round3(max(0, p.MachineBusyCores-(p.AppCPUSeconds+p.PostgresCPUSeconds+p.LoadCPUSeconds)/p.ElapsedS))
	}
	if serverPhase {
		var err error
		if p.SQLStatements, p.RiverStatements, err = b.stmts.counts(ctx); err != nil {
			return err
		}
		if n := p.requests(); n > 0 {
			p.SQLPerRequest = round3(float64(p.SQLStatements) / float64(n))
		}
		if p.AnswerBatches, p.BatchedAnswers, err = b.stmts.answerBatches(ctx); err != nil {
			return err
		}
		if p.TopStatements, err = b.stmts.top(ctx, 12); err != nil {
			return err
		}
	}
	if profDone != nil {
		if err := <-profDone; err != nil {
			b.rep.Warnings = append(b.rep.Warnings, "CPU profile: "+err.Error())
		} else {
			b.rep.Profiles = append(b.rep.Profiles, cpuProfile)
		}
	}
	var parts []string
	for _, c := range p.Classes {
		parts = append(parts, fmt.Sprintf("%s %.0f/s p99 %.2fms err %d", c.Class, c.RPS, c.P99Ms, c.Errors))
	}
	tag := ""
	if p.Profiled {
		tag = " (profiled)"
	}
	logf("c=%-3d %-8s #%d%s: %s", level, phase, round, tag, strings.Join(parts, "; "))
	b.rep.Phases = append(b.rep.Phases, p)
	return nil
}

func (b *bench) fetchProfile(ctx context.Context, path, file string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+b.pprof+path, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d", path, res.StatusCode)
	}
	f, err := os.Create(file) // #nosec G304 -- the file the user asked for
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, res.Body); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// profile runs extra, separately recorded phases at the highest level with
// the server's CPU profiler on, then saves a heap profile.
func (b *bench) profile(ctx context.Context) {
	dir := filepath.Dir(b.o.Out)
	lv := maxOf(b.o.Levels)
	for _, pp := range []struct{ phase, file string }{
		{"loop", "bench-cpu.pprof"},
		{"lesson", "bench-cpu-lesson.pprof"},
	} {
		if err := b.phase(ctx, lv, pp.phase, 1, filepath.Join(dir, pp.file)); err != nil {
			b.rep.Warnings = append(b.rep.Warnings, "profiled phase: "+err.Error())
			return
		}
	}
	heap := filepath.Join(dir, "bench-heap.pprof")
	if err := b.fetchProfile(ctx, "/debug/pprof/heap", heap); err != nil {
		b.rep.Warnings = append(b.rep.Warnings, "heap profile: "+err.Error())
	} else {
		b.rep.Profiles = append(b.rep.Profiles, heap)
	}
	logf("profiles: %s", strings.Join(b.rep.Profiles, ", "))
}

// finish derives the summary, ratios and targets from the phases.
func (b *bench) finish() {
	rep := b.rep
	rep.Summary = summarizePhases(rep.Phases)
	rep.Ratios = computeRatios(rep.Summary, rep.Phases, b.o.Levels)
	var tls []int
	for _, lv := range b.o.Levels {
		if slices.Contains(targetLevels, lv) {
			tls = append(tls, lv)
		}
	}
	if len(tls) == 0 {
		tls = []int{maxOf(b.o.Levels)}
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("the targets are set for %v learners; judged at %d instead", targetLevels, tls[0]))
	}
	if st := rep.Capacity.Storm; st != nil {
		if alone := findRow(rep.Summary, st.Level, "lesson", "lesson"); alone != nil {
			st.LessonAloneRPS, st.RateRatio = alone.RPS, round3(safeDiv(st.Lesson.RPS, alone.RPS))
		}
	}
	rep.Targets = append(evalTargets(rep.Summary, rep.Ratios, rep.Probe, tls), evalCapacity(rep.Capacity)...)
	for _, p := range rep.Phases {
		if p.Phase == "journey" && !p.Profiled && p.ElapsedS > 0 {
			rep.Journeys = append(rep.Journeys, journeyRate{Level: p.Level, PerSecond: round1(float64(p.Journeys) / p.ElapsedS)})
		}
	}
}
