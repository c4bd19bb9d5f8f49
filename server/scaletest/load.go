package scaletest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// sample is one request as the load saw it.
type sample struct {
	phase      int
	class      string // "answer", "start", "read", "progress"
	start, end time.Time
	status     int // 0: no HTTP answer at all
	retry      bool
	cause      string // why a failed request failed
}

// failed is a request that did not get the answer it should have.
func (s sample) failed() bool { return s.status == 0 || s.status >= 500 }

// recorder collects samples from every learner.
type recorder struct {
	mu      sync.Mutex
	samples []sample
	phase   atomic.Int32
	acks    []ack // answers acknowledged with 200
}

// ack is an answer the server acknowledged: it must be in PostgreSQL.
type ack struct{ attempt, step string }

func (r *recorder) add(s sample) {
	r.mu.Lock()
	r.samples = append(r.samples, s)
	r.mu.Unlock()
}

func (r *recorder) acked(a ack) {
	r.mu.Lock()
	r.acks = append(r.acks, a)
	r.mu.Unlock()
}

// learner is one person playing the journey through the balancer.
type learner struct {
	base   string
	client *http.Client
	rec    *recorder
	email  string
	token  string
}

const learnerPassword = "amber-kettle-lighthouse-42"

// call sends one request and records it under class. A request that got
// no answer or a 502/503/504 (the balancer could not complete it: it was in
// flight on an instance that died) is retried up to three times, as a
// client may; each try is its own sample.
func (l *learner) call(ctx context.Context, class, method, path string, body, out any) (int, error) {
	var payload []byte
	if body != nil {
		payload, _ = json.Marshal(body)
	}
	for try := 0; ; try++ {
		req, err := http.NewRequestWithContext(ctx, method, l.base+path, bytes.NewReader(payload))
		if err != nil {
			return 0, err
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if l.token != "" {
			req.Header.Set("Authorization", "Bearer "+l.token)
		}
		s := sample{phase: int(l.rec.phase.Load()), class: class, start: time.Now(), retry: try > 0}
		res, err := l.client.Do(req)
		var data []byte
		if err == nil {
			data, err = io.ReadAll(res.Body)
			_ = res.Body.Close()
			if err == nil {
				s.status = res.StatusCode
			}
		}
		s.end = time.Now()
		if err != nil {
			s.cause = err.Error()
		} else if s.failed() {
			s.cause = strings.TrimSpace(string(data))
		}
		if ctx.Err() != nil {
			return 0, ctx.Err() // the run is over: not a sample
		}
		l.rec.add(s)
		if s.failed() && try < 3 {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if s.status == 0 {
			return 0, fmt.Errorf("%s %s: %w", method, path, err)
		}
		if out != nil && s.status < 300 {
			if err := json.Unmarshal(data, out); err != nil {
				return s.status, fmt.Errorf("%s %s: %w", method, path, err)
			}
		}
		return s.status, nil
	}
}

type authJSON struct {
	AccessToken string `json:"access_token"`
}

// signUp registers the learner and signs in again (the journey's sign-in),
// waiting out the per-address sign-up limit when many start at once.
func (l *learner) signUp(ctx context.Context) error {
	for {
		var a authJSON
		code, err := l.call(ctx, "signup", "POST", "/api/auth/register", map[string]string{"email": l.email, "password": learnerPassword, "name": "Scale learner"}, &a)
		if err != nil {
			return err
		}
		if code == http.StatusTooManyRequests {
			time.Sleep(time.Second)
			continue
		}
		if code != http.StatusCreated {
			return fmt.Errorf("sign up %s: HTTP %d", l.email, code)
		}
		break
	}
	var a authJSON
	code, err := l.call(ctx, "signin", "POST", "/api/auth/login", map[string]string{"email": l.email, "password": learnerPassword}, &a)
	if err != nil {
		return err
	}
	if code != http.StatusOK || a.AccessToken == "" {
		return fmt.Errorf("sign in %s: HTTP %d", l.email, code)
	}
	l.token = a.AccessToken
	return nil
}

type modulesJSON []struct {
	Lessons []struct {
		Slug string `json:"slug"`
	} `json:"lessons"`
	Quizzes []struct {
		Slug string `json:"slug"`
	} `json:"quizzes"`
}

type stepJSON struct {
	ID      string `json:"id"`
	Choices []struct {
		ID string `json:"id"`
	} `json:"choices"`
}

type attemptJSON struct {
	ID   string    `json:"id"`
	Step *stepJSON `json:"step"`
}

// course reads the module list: the lessons and scenarios to play.
func (l *learner) course(ctx context.Context) (lessons, quizzes []string, err error) {
	var mods modulesJSON
	code, err := l.call(ctx, "read", "GET", "/api/modules", nil, &mods)
	if err != nil {
		return nil, nil, err
	}
	if code != http.StatusOK {
		return nil, nil, fmt.Errorf("module list: HTTP %d", code)
	}
	for _, m := range mods {
		for _, ls := range m.Lessons {
			lessons = append(lessons, ls.Slug)
		}
		for _, q := range m.Quizzes {
			quizzes = append(quizzes, q.Slug)
		}
	}
	if len(lessons) == 0 || len(quizzes) == 0 {
		return nil, nil, errors.New("the module list has no lessons or no scenarios")
	}
	return lessons, quizzes, nil
}

// play is the answering learner's loop until ctx ends: the module list, a
// lesson, an attempt at a scenario answered to the end, their progress.
func (l *learner) play(ctx context.Context, lessons, quizzes []string, n int) {
	for i := n; ctx.Err() == nil; i++ {
		_, _ = l.call(ctx, "read", "GET", "/api/modules", nil, nil)
		_, _ = l.call(ctx, "read", "GET", "/api/lessons/"+lessons[i%len(lessons)], nil, nil)
		var a attemptJSON
		code, err := l.call(ctx, "start", "POST", "/api/quizzes/"+quizzes[i%len(quizzes)]+"/attempts", nil, &a)
		if err != nil || (code != http.StatusOK && code != http.StatusCreated) {
			continue
		}
		for step := a.Step; step != nil && len(step.Choices) > 0 && ctx.Err() == nil; {
			var next attemptJSON
			code, err := l.call(ctx, "answer", "POST", "/api/attempts/"+a.ID+"/answers",
				map[string]string{"step_id": step.ID, "choice_id": step.Choices[i%len(step.Choices)].ID}, &next)
			if err != nil || code != http.StatusOK {
				// A retried answer the first try had stored is a 409; either
				// way this attempt is left and a new one started.
				break
			}
			l.rec.acked(ack{attempt: a.ID, step: step.ID})
			step = next.Step
		}
		_, _ = l.call(ctx, "progress", "GET", "/api/progress", nil, nil)
	}
}

// browse is the reading learner's loop: pages and progress, no writes, so
// its reads are the replica's whenever the replica is fit to serve them.
func (l *learner) browse(ctx context.Context, lessons []string, n int) {
	for i := n; ctx.Err() == nil; i++ {
		_, _ = l.call(ctx, "read", "GET", "/api/modules", nil, nil)
		_, _ = l.call(ctx, "read", "GET", "/api/lessons/"+lessons[i%len(lessons)], nil, nil)
		_, _ = l.call(ctx, "progress", "GET", "/api/progress", nil, nil)
	}
}
