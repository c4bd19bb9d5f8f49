package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// The synchronized start (issue #20, item 5): a manager's assignment email
// at 9:00, everyone signing in, then everyone starting the same scenario at
// once. Sign-in is its own stream, measured apart: it is deliberately costly
// (argon2id, at most one hash per two cores), so it is spread over its
// window, as people opening an email are; the starts come after every
// sign-in has finished, spread uniformly over their window in a random
// order, each learner answering its first decision at once.

// syncResult is what the synchronized start measured.
type syncResult struct {
	Learners     int        `json:"learners"`
	Scenario     string     `json:"scenario"`
	SignInOverS  float64    `json:"sign_in_over_s"` // the window the sign-ins were spread over
	StartWithinS float64    `json:"start_within_s"` // the window the starts were spread over
	Spread       string     `json:"spread"`
	SignIn       classStats `json:"sign_in"`
	Start        classStats `json:"start"`
	FirstAnswer  classStats `json:"first_answer"`
	SignInTookS  float64    `json:"sign_in_took_s"` // first sign-in sent to last answered
	StartTookS   float64    `json:"start_took_s"`   // first start sent to last first answer answered
	PeakRSSMB    float64    `json:"server_peak_rss_mb"`
	SignInQueueS float64    `json:"sign_in_behind_s"` // the most a sign-in was sent behind its schedule
	// The cores work other than the bench, the server and PostgreSQL took
	// while the learners signed in: hashing has one core at most, so a
	// busy machine is what sign-in feels first.
	SignInOtherCores float64 `json:"sign_in_other_cores"`
	// Learners whose sign-in failed (counted in its errors) were given a
	// session directly, so that the starts are measured with every learner.
	SessionsIssued int `json:"sessions_issued_after_failed_sign_in"`
	// Sign-ins the server deferred (503 with Retry-After: more were waiting
	// to be hashed than it could finish before their deadline), each sent
	// again after the wait it named, as the app does; the sign-in's latency
	// runs from its first try.
	SignInDeferrals int `json:"sign_in_deferrals"`
}

// syncOptions are the synchronized start's size: the issue's 1,000
// learners signing in over 60 s and starting within 10 s by default.
type syncOptions struct {
	Learners int           `json:"learners"`
	SignIn   time.Duration `json:"-"`
	Window   time.Duration `json:"-"`
}

// syncAddress is learner i's client address: one each, from the range set
// aside for benchmarks (RFC 2544), named by the bench as a proxy would.
func syncAddress(i int) string { return fmt.Sprintf("198.19.%d.%d", (i/250)%250, 1+i%250) }

// timed sends one request and records it in rec under class.
func timed(ctx context.Context, h *client, rec *recorder, mu *sync.Mutex, class, method, url, token, from string, body []byte, out any) error {
	t := time.Now()
	_, err := h.doFrom(ctx, method, url, token, from, body, out)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	mu.Lock()
	rec.add(class, time.Since(t), err)
	mu.Unlock()
	return err
}

// at waits until t (or the end of ctx).
func at(ctx context.Context, t time.Time) {
	select {
	case <-time.After(time.Until(t)):
	case <-ctx.Done():
	}
}

func (b *bench) syncStart(ctx context.Context, conn *pgx.Conn, so syncOptions) error {
	n := so.Learners
	quiz := b.course.Quizzes[0]
	logf("synchronized start: %d learners sign in over %s, then start %s within %s", n, so.SignIn, quiz, so.Window)
	learners, err := b.insertLearners(ctx, conn, n, "sync", false)
	if err != nil {
		return err
	}
	if err := resetPeakRSS(b.server.pid()); err != nil {
		return fmt.Errorf("reset the server's peak RSS: %w", err)
	}
	// Each learner is a browser of its own: its own connection.
	clients := make([]*client, n)
	for i := range clients {
		clients[i] = newClient(1)
	}
	defer func() {
		for _, c := range clients {
			c.closeIdle()
		}
	}()
	rec := newRecorder()
	var mu sync.Mutex
	var wg sync.WaitGroup
	var behind time.Duration
	var deferrals atomic.Int64

	// Sign-ins, uniformly over their window.
	mc0, self0, app0, pg0 := readMachineCPU(), selfCPU(), procCPU(b.server.pid()), treeCPUSeconds(b.cluster.Pid())
	signInBegan := time.Now()
	for i, l := range learners {
		due := signInBegan.Add(time.Duration(int64(so.SignIn) * int64(i) / int64(n)))
		at(ctx, due)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		behind = max(behind, time.Since(due))
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, _ := json.Marshal(map[string]string{"email": l.Email, "password": l.Password})
			var res authResponse
			took, err := clients[i].signInPatiently(ctx, b.base, syncAddress(i), body, &res, func() { deferrals.Add(1) })
			if ctx.Err() != nil {
				return
			}
			mu.Lock()
			rec.add("login", took, err)
			mu.Unlock()
			if err == nil {
				l.Token = res.AccessToken
			}
		}()
	}
	wg.Wait()
	signInTook := time.Since(signInBegan)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	ours := selfCPU() - self0 + procCPU(b.server.pid()) - app0 + treeCPUSeconds(b.cluster.Pid()) - pg0
	otherCores := max(0, float64(readMachineCPU().Busy-mc0.Busy)/clkTck-ours) / signInTook.Seconds()
	// A sign-in that failed is counted where it failed; the learner still
	// starts, with a session issued directly, so the start stream is the
	// same size whatever sign-in did.
	var unsigned []*learner
	for _, l := range learners {
		if l.Token == "" {
			unsigned = append(unsigned, l)
		}
	}
	if len(unsigned) > 0 {
		if err := b.issueSessions(ctx, conn, unsigned); err != nil {
			return err
		}
	}

	// Starts, uniformly over their window in a random order, each followed
	// by the answer to the attempt's first decision.
	order := rand.Perm(n) // #nosec G404 -- an order of arrival, not a secret
	startBegan := time.Now()
	for k, i := range order {
		l := learners[i]
		at(ctx, startBegan.Add(time.Duration(int64(so.Window)*int64(k)/int64(n))))
		if ctx.Err() != nil {
			return ctx.Err()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var st startResponse
			if err := timed(ctx, clients[i], rec, &mu, "start", http.MethodPost, b.base+"/api/quizzes/"+quiz+"/attempts", l.Token, syncAddress(i), nil, &st); err != nil {
				return
			}
			if st.Step == nil || len(st.Step.Choices) == 0 {
				mu.Lock()
				rec.add("answer", 0, fmt.Errorf("start %s: no step to answer", quiz))
				mu.Unlock()
				return
			}
			body, _ := json.Marshal(answerRequest{StepID: st.Step.ID, ChoiceID: st.Step.Choices[0].ID})
			_ = timed(ctx, clients[i], rec, &mu, "answer", http.MethodPost, b.base+"/api/attempts/"+st.ID+"/answers", l.Token, syncAddress(i), body, nil)
		}()
	}
	wg.Wait()
	startTook := time.Since(startBegan)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	st, err := readProc(b.server.pid())
	if err != nil {
		return err
	}
	stats := func(class string, elapsed time.Duration) classStats {
		c := rec.class(class)
		return newClassStats(class, c.lat, c.errors, elapsed, c.samples)
	}
	r := &syncResult{Learners: n, Scenario: quiz, SignInOverS: so.SignIn.Seconds(), StartWithinS: so.Window.Seconds(),
		Spread: "uniform in time, in a random order of learners; the starts after every sign-in has finished",
		SignIn: stats("login", signInTook), Start: stats("start", startTook), FirstAnswer: stats("answer", startTook),
		SignInTookS: round3(signInTook.Seconds()), StartTookS: round3(startTook.Seconds()),
		PeakRSSMB: round1(float64(st.PeakRSSKB) / 1024), SignInQueueS: round3(behind.Seconds()), SessionsIssued: len(unsigned),
		SignInOtherCores: round3(otherCores), SignInDeferrals: int(deferrals.Load())}
	b.rep.Capacity.Sync = r
	logf("synchronized start: sign-in p95 %.0fms err %d; start p95 %.0fms err %d; first answer p95 %.0fms err %d; peak RSS %.1f MB",
		r.SignIn.P95Ms, r.SignIn.Errors, r.Start.P95Ms, r.Start.Errors, r.FirstAnswer.P95Ms, r.FirstAnswer.Errors, r.PeakRSSMB)
	return nil
}

// procCPU is a process's CPU seconds so far (0 if it cannot be read).
func procCPU(pid int) float64 {
	st, _ := readProc(pid)
	return st.cpuSeconds()
}

func selfCPU() float64 { return procCPU(os.Getpid()) }
