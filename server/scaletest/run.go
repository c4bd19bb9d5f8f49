package scaletest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/baton-course/baton/server/database"
)

// Plan is the load and the length of each phase.
type Plan struct {
	Learners int           // answering learners
	Readers  int           // learners who only read (the replica's customers)
	Phase    time.Duration // each phase's length
	Log      func(format string, args ...any)
}

// The phases, in order.
const (
	phaseSteady = iota
	phaseKilled
	phaseRestarted
	phaseReplicaDown
	phaseReplicaBack
)

var phaseNames = []string{"steady", "instance killed", "instance restarted", "replica down", "replica back"}

// PhaseReport is what the load saw in one phase.
type PhaseReport struct {
	Name           string  `json:"name"`
	Seconds        float64 `json:"seconds"`
	Requests       int     `json:"requests"`
	RequestsPerSec float64 `json:"requests_per_second"`
	P99Millis      float64 `json:"p99_ms"`
	Answers        int     `json:"answers"`
	AnswersPerSec  float64 `json:"answers_per_second"`
	AnswerP99      float64 `json:"answer_p99_ms"`
	Errors         int     `json:"errors"`           // no answer, or 5xx
	InFlightErrors int     `json:"in_flight_errors"` // of those: in flight on the killed instance
	Rejected       int     `json:"rejected"`         // 4xx other than a retried answer's 409
	Retries        int     `json:"retries"`
	ReplicaReads   int64   `json:"replica_reads"` // reads the replica answered, all instances
	// Unexpected describes the first few errors that were not in flight.
	Unexpected []string `json:"unexpected,omitempty"`
}

// Report is the whole run.
type Report struct {
	Instances      int           `json:"instances"`
	Learners       int           `json:"learners"`
	Readers        int           `json:"readers"`
	Phases         []PhaseReport `json:"phases"`
	Acknowledged   int           `json:"acknowledged_answers"`
	Lost           int           `json:"lost_answers"`
	RestartSeconds float64       `json:"restart_seconds"`
	ReplicaLag     []float64     `json:"replica_lag_seconds"` // per live instance after the replica came back
	Problems       []string      `json:"problems"`            // broken invariants; empty when the run passed
}

// Run plays plan against t and checks the invariants; the report's
// Problems list what failed.
func Run(ctx context.Context, t *Topology, plan Plan) (*Report, error) {
	logf := plan.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	rec := &recorder{}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: 90 * time.Second,
	}}
	defer client.CloseIdleConnections()
	run := strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	people := make([]*learner, plan.Learners+plan.Readers)
	logf("signing up %d learners through HAProxy", len(people))
	setupCtx, cancelSetup := context.WithTimeout(ctx, 3*time.Minute)
	defer cancelSetup()
	sem := make(chan struct{}, 4)
	errs := make(chan error, len(people))
	var wg sync.WaitGroup
	for i := range people {
		people[i] = &learner{base: t.Balancer.URL(), client: client, rec: rec, email: fmt.Sprintf("scale%d.%s@example.com", i, run)}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			errs <- people[i].signUp(setupCtx)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return nil, err
		}
	}
	lessons, quizzes, err := people[0].course(ctx)
	if err != nil {
		return nil, err
	}
	rec.mu.Lock()
	rec.samples = nil // sign-ups are set-up, not a phase
	rec.mu.Unlock()

	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	var players sync.WaitGroup
	for i, p := range people {
		players.Add(1)
		go func() {
			defer players.Done()
			if i < plan.Learners {
				p.play(loadCtx, lessons, quizzes, i)
			} else {
				p.browse(loadCtx, lessons, i)
			}
		}()
	}

	rep := &Report{Instances: len(t.Instances), Learners: plan.Learners, Readers: plan.Readers}
	replica := newReplicaReads()
	// The kill's window: from the signal to the process being gone. A
	// request sent before it was gone and answered after the signal was in
	// flight on it.
	var killAt, killedAt time.Time
	bounds := make([]time.Time, len(phaseNames)+1)
	replicaReads := make([]int64, len(phaseNames))
	sleep := func(d time.Duration) {
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
	}
	for ph, name := range phaseNames {
		rec.phase.Store(int32(ph)) // #nosec G115 -- five phases
		bounds[ph] = time.Now()
		logf("phase %q", name)
		replica.sample(t)
		switch ph {
		case phaseKilled:
			// A fifth in, so the kill lands among requests in flight.
			sleep(plan.Phase / 5)
			killAt = time.Now()
			t.Kill(0)
			killedAt = time.Now()
			logf("killed %s (SIGKILL)", t.Instances[0].Name)
			sleep(plan.Phase - plan.Phase/5)
		case phaseRestarted:
			began := time.Now()
			if err := t.Restart(ctx, 0); err != nil {
				rep.Problems = append(rep.Problems, "restart: "+err.Error())
			}
			rep.RestartSeconds = time.Since(began).Seconds()
			logf("restarted %s in %.1f s", t.Instances[0].Name, rep.RestartSeconds)
			sleep(plan.Phase - time.Since(began))
		case phaseReplicaDown:
			t.StopReplica()
			logf("replica stopped")
			// Within a probe (a second) every instance knows.
			sleep(1500 * time.Millisecond)
			for _, in := range t.Live() {
				if st, err := replicaState(in); err != nil || st.OK {
					rep.Problems = append(rep.Problems, fmt.Sprintf("%s: replica still trusted 1.5 s after it stopped (%+v, %v)", in.Name, st, err))
				}
			}
			replica.sample(t)
			downFrom := replica.total
			sleep(plan.Phase - 1500*time.Millisecond)
			replica.sample(t)
			if served := replica.total - downFrom; served != 0 {
				rep.Problems = append(rep.Problems, fmt.Sprintf("the replica answered %d reads while it was down", served))
			}
		case phaseReplicaBack:
			began := time.Now()
			if err := t.StartReplica(ctx); err != nil {
				rep.Problems = append(rep.Problems, err.Error())
			}
			// Trusted again within a probe or two of accepting connections.
			for _, in := range t.Live() {
				st, err := waitReplicaOK(ctx, in, 15*time.Second)
				if err != nil {
					rep.Problems = append(rep.Problems, fmt.Sprintf("%s: %v", in.Name, err))
				}
				rep.ReplicaLag = append(rep.ReplicaLag, st.LagSeconds)
			}
			logf("replica back and trusted after %.1f s", time.Since(began).Seconds())
			sleep(plan.Phase - time.Since(began))
		default:
			sleep(plan.Phase)
		}
		replica.sample(t)
		replicaReads[ph] = replica.total
	}
	bounds[len(phaseNames)] = time.Now()
	stopLoad()
	players.Wait()

	prev := int64(0)
	for ph, name := range phaseNames {
		p := summarize(rec.samples, ph, name, bounds[ph+1].Sub(bounds[ph]), killAt, killedAt)
		p.ReplicaReads, prev = replicaReads[ph]-prev, replicaReads[ph]
		rep.Phases = append(rep.Phases, p)
		if p.Errors > p.InFlightErrors {
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s: %d errors on requests that were not in flight on the killed instance: %s",
				name, p.Errors-p.InFlightErrors, strings.Join(p.Unexpected, "; ")))
		}
		if p.Rejected > 0 {
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s: %d requests refused with a 4xx", name, p.Rejected))
		}
		if p.Answers == 0 {
			rep.Problems = append(rep.Problems, name+": no answer acknowledged")
		}
	}
	for _, ph := range []int{phaseSteady, phaseReplicaBack} {
		if rep.Phases[ph].ReplicaReads == 0 {
			rep.Problems = append(rep.Problems, phaseNames[ph]+": the replica answered no reads")
		}
	}
	rep.Acknowledged = len(rec.acks)
	if rep.Lost, err = lostAnswers(ctx, t, rec.acks); err != nil {
		return rep, err
	}
	if rep.Lost > 0 {
		rep.Problems = append(rep.Problems, fmt.Sprintf("%d acknowledged answers are not in PostgreSQL", rep.Lost))
	}
	return rep, nil
}

// summarize computes one phase's figures from the samples that began in it.
func summarize(all []sample, ph int, name string, took time.Duration, killAt, killedAt time.Time) PhaseReport {
	p := PhaseReport{Name: name, Seconds: took.Seconds()}
	var lat, answerLat []time.Duration
	for _, s := range all {
		if s.phase != ph {
			continue
		}
		p.Requests++
		d := s.end.Sub(s.start)
		lat = append(lat, d)
		if s.retry {
			p.Retries++
		}
		switch {
		case s.failed():
			p.Errors++
			// In flight when the instance died: sent before it was gone,
			// answered after it was signalled.
			if !killAt.IsZero() && !s.start.After(killedAt) && !s.end.Before(killAt) {
				p.InFlightErrors++
			} else if len(p.Unexpected) < 5 {
				p.Unexpected = append(p.Unexpected, fmt.Sprintf("%s (retry %v) HTTP %d, sent %s after the kill, took %s: %.200s",
					s.class, s.retry, s.status, s.start.Sub(killAt).Round(time.Millisecond), s.end.Sub(s.start).Round(time.Millisecond), s.cause))
			}
		case s.status >= 400 && !(s.status == http.StatusConflict && s.retry && s.class == "answer"):
			p.Rejected++
		case s.class == "answer" && s.status == http.StatusOK:
			p.Answers++
			answerLat = append(answerLat, d)
		}
	}
	p.RequestsPerSec = float64(p.Requests) / took.Seconds()
	p.AnswersPerSec = float64(p.Answers) / took.Seconds()
	p.P99Millis = p99(lat)
	p.AnswerP99 = p99(answerLat)
	return p
}

// p99 is the nearest-rank 99th percentile in milliseconds.
func p99(d []time.Duration) float64 {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := (len(s)*99+99)/100 - 1
	return float64(s[i].Microseconds()) / 1000
}

// lostAnswers counts acknowledged answers missing from the primary.
func lostAnswers(ctx context.Context, t *Topology, acks []ack) (int, error) {
	db, err := database.Open(ctx, t.Primary.URL("baton"), 10*time.Second)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	attempts := make([]string, len(acks))
	steps := make([]string, len(acks))
	for i, a := range acks {
		attempts[i], steps[i] = a.attempt, a.step
	}
	var stored int
	err = db.Pool.QueryRow(ctx, `SELECT count(*) FROM unnest($1::uuid[], $2::text[]) AS k(attempt_id, step_id)
		WHERE EXISTS (SELECT 1 FROM attempt_answers a WHERE a.attempt_id = k.attempt_id AND a.step_id = k.step_id)`,
		attempts, steps).Scan(&stored)
	if err != nil {
		return 0, fmt.Errorf("checking acknowledged answers: %w", err)
	}
	return len(acks) - stored, nil
}

// replicaReads sums the instances' baton_db_replica_reads_total across
// their restarts (a restarted instance counts from zero again).
type replicaReads struct {
	last  map[string]int64
	total int64
}

func newReplicaReads() *replicaReads { return &replicaReads{last: map[string]int64{}} }

func (r *replicaReads) sample(t *Topology) {
	for _, in := range t.Instances {
		v, err := metric(in, "baton_db_replica_reads_total")
		if err != nil {
			continue // killed
		}
		last := r.last[in.Name]
		if v < last {
			last = 0
		}
		r.total += v - last
		r.last[in.Name] = v
	}
}

var probe = &http.Client{Timeout: 3 * time.Second}

// metric reads one counter from an instance's /metrics (open on loopback).
func metric(in *Instance, name string) (int64, error) {
	res, err := probe.Get("http://" + in.Addr + "/metrics")
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return int64(f), err
		}
	}
	return 0, fmt.Errorf("%s: no %s in /metrics", in.Name, name)
}

// replicaJSON is /readyz's replica object.
type replicaJSON struct {
	LagSeconds float64 `json:"lag_seconds"`
	OK         bool    `json:"ok"`
}

func replicaState(in *Instance) (replicaJSON, error) {
	res, err := probe.Get("http://" + in.Addr + "/readyz")
	if err != nil {
		return replicaJSON{}, err
	}
	defer res.Body.Close()
	var body struct {
		Replica *replicaJSON `json:"replica"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		return replicaJSON{}, err
	}
	if body.Replica == nil {
		return replicaJSON{}, errors.New("/readyz reports no replica")
	}
	return *body.Replica, nil
}

func waitReplicaOK(ctx context.Context, in *Instance, timeout time.Duration) (replicaJSON, error) {
	deadline := time.Now().Add(timeout)
	for {
		st, err := replicaState(in)
		if err == nil && st.OK {
			return st, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return st, fmt.Errorf("replica not trusted again within %s (%+v, %v)", timeout, st, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
