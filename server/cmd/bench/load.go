package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
)

// client is the load generator's one HTTP client: keep-alive connections
// enough for every worker, so a phase measures requests, not TCP set-up.
type client struct {
	c *http.Client // for the odd request that wants net/http's whole client
	w *wire        // for the measured requests (wire.go)
}

func newClient(maxConc int) *client {
	tr := &http.Transport{
		MaxIdleConns:        maxConc * 2,
		MaxIdleConnsPerHost: maxConc * 2,
		IdleConnTimeout:     5 * time.Minute,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &client{c: &http.Client{Transport: tr, Timeout: 60 * time.Second}, w: newWire(maxConc*2, 60*time.Second)}
}

// closeIdle closes the connections kept alive for the next request.
func (h *client) closeIdle() {
	h.c.CloseIdleConnections()
	h.w.closeIdle()
}

type statusError struct {
	Status     int
	Body       string
	RetryAfter time.Duration // when the server said to try again (429, 503)
}

func (e *statusError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Status, e.Body) }

// do sends a request and reads the whole answer; a status outside 2xx is an
// error. out, when not nil, receives the decoded JSON body.
func (h *client) do(ctx context.Context, method, url, token string, body []byte, out any) (int, error) {
	return h.doFrom(ctx, method, url, token, "", body, out)
}

// doFrom is do for a client at address from, which a proxy in front of the
// server (trusted through BATON_TRUSTED_PROXIES) names in X-Forwarded-For;
// "" sends none.
func (h *client) doFrom(ctx context.Context, method, url, token, from string, body []byte, out any) (int, error) {
	header := make(map[string]string, 3)
	if body != nil {
		header["Content-Type"] = "application/json"
	}
	if token != "" {
		header["Authorization"] = "Bearer " + token
	}
	if from != "" {
		header["X-Forwarded-For"] = from
	}
	res, err := h.w.roundTrip(ctx, method, url, header, body)
	if err != nil {
		return 0, err
	}
	status, b := res.status, res.body
	if status/100 != 2 {
		return status, &statusError{Status: status, Body: strings.TrimSpace(string(b[:min(len(b), 300)])), RetryAfter: res.retryAfter}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return status, fmt.Errorf("decode %s %s: %w", method, url, err)
		}
	}
	return status, nil
}

// recorder keeps one worker's latencies and errors by endpoint class.
type recorder struct {
	classes  map[string]*classRec
	order    []string
	journeys int // whole learner journeys completed (journey phase)
}

type classRec struct {
	lat     []time.Duration // every completed request, failed ones included
	errors  int
	samples []string // the first few error messages
	// deferred counts sign-ins the server deferred (503 with Retry-After),
	// each sent again: not errors, but time the sign-in spent waiting.
	deferred int
}

func newRecorder() *recorder { return &recorder{classes: map[string]*classRec{}} }

func (r *recorder) class(name string) *classRec {
	c := r.classes[name]
	if c == nil {
		c = &classRec{}
		r.classes[name] = c
		r.order = append(r.order, name)
	}
	return c
}

func (r *recorder) add(class string, d time.Duration, err error) {
	c := r.class(class)
	c.lat = append(c.lat, d)
	if err != nil {
		c.errors++
		if len(c.samples) < 3 {
			c.samples = append(c.samples, err.Error())
		}
	}
}

func (r *recorder) merge(o *recorder) {
	r.journeys += o.journeys
	for _, name := range o.order {
		src := o.classes[name]
		dst := r.class(name)
		dst.lat = append(dst.lat, src.lat...)
		dst.errors += src.errors
		dst.deferred += src.deferred
		for _, s := range src.samples {
			if len(dst.samples) < 5 {
				dst.samples = append(dst.samples, s)
			}
		}
	}
}

// learner is one signed-up account and its tokens.
type learner struct {
	ID       string
	Email    string
	Password string
	Token    string // the server's access token
	RefToken string // a token for the reference handler, signed with the bench's key
}

// course is what the workers walk through.
type course struct {
	Lessons []string
	Quizzes []string
}

// errStop ends a worker's loop: the phase is over.
var errStop = errors.New("phase over")

type stepView struct {
	ID      string `json:"id"`
	Choices []struct {
		ID string `json:"id"`
	} `json:"choices"`
}

type startResponse struct {
	ID   string    `json:"id"`
	Step *stepView `json:"step"`
}

type answerRequest struct {
	StepID   string `json:"step_id"`
	ChoiceID string `json:"choice_id"`
}

type answerResponse struct {
	Finished bool      `json:"finished"`
	Step     *stepView `json:"step"`
}

// worker is one simulated learner in a phase.
type worker struct {
	ctx      context.Context
	h        *client
	base     string // the server's base URL
	refBase  string // the reference handler's base URL
	l        *learner
	c        *course
	rec      *recorder
	deadline time.Time
	n        int // the worker's number

	lessonIdx int
	attempts  int
	percent   map[string]int
	attempt   *startResponse // the attempt being played, nil between attempts
}

// call sends one timed request unless the phase is over.
func (w *worker) call(class, method, url, token string, body []byte, out any) error {
	if w.ctx.Err() != nil || time.Now().After(w.deadline) {
		return errStop
	}
	start := time.Now()
	_, err := w.h.do(w.ctx, method, url, token, body, out)
	if w.ctx.Err() != nil {
		return errStop // interrupted: not a server error
	}
	w.rec.add(class, time.Since(start), err)
	return err
}

func (w *worker) nextLesson() string {
	s := w.c.Lessons[(w.n+w.lessonIdx)%len(w.c.Lessons)]
	w.lessonIdx++
	return s
}

func (w *worker) getLesson(class string) error {
	return w.call(class, http.MethodGet, w.base+"/api/lessons/"+w.nextLesson(), w.l.Token, nil, nil)
}

func (w *worker) getRefLesson() error {
	return w.call("ref", http.MethodGet, w.refBase+"/ref/lessons/"+w.nextLesson(), w.l.RefToken, nil, nil)
}

// deferPatience is how long a deferred sign-in is sent again before it
// counts as failed (the app's own patience is 90 s).
const deferPatience = 90 * time.Second

// signInPatiently signs in from address from (""  for none). A sign-in the
// server defers (503 with Retry-After: more wait to be hashed than it can
// finish in time) is sent again after the wait it names, as the app does,
// each time calling deferred. It returns the last answer's error and the time
// since the first try.
func (h *client) signInPatiently(ctx context.Context, base, from string, body []byte, out any, deferred func()) (time.Duration, error) {
	start := time.Now()
	for {
		_, err := h.doFrom(ctx, http.MethodPost, base+"/api/auth/login", "", from, body, out)
		se, ok := errors.AsType[*statusError](err)
		if ctx.Err() != nil || !ok || se.Status != http.StatusServiceUnavailable || se.RetryAfter <= 0 || time.Since(start)+se.RetryAfter >= deferPatience {
			return time.Since(start), err
		}
		deferred()
		select {
		case <-time.After(se.RetryAfter):
		case <-ctx.Done():
		}
	}
}

// signIn signs the learner in with their password: the deliberately
// expensive request (see signInPatiently).
func (w *worker) signIn() error {
	body, _ := json.Marshal(map[string]string{"email": w.l.Email, "password": w.l.Password})
	if w.ctx.Err() != nil || time.Now().After(w.deadline) {
		return errStop
	}
	took, err := w.h.signInPatiently(w.ctx, w.base, "", body, nil, func() { w.rec.class("login").deferred++ })
	if w.ctx.Err() != nil {
		return errStop
	}
	w.rec.add("login", took, err)
	return err
}

func (w *worker) getModules() error {
	return w.call("modules", http.MethodGet, w.base+"/api/modules", w.l.Token, nil, nil)
}

// saveProgress moves the reading percent of the next lesson forward by one.
func (w *worker) saveProgress(slug string, step int) error {
	if slug == "" {
		slug = w.nextLesson()
	}
	if w.percent == nil {
		w.percent = map[string]int{}
	}
	p := min(w.percent[slug]+step, 100)
	w.percent[slug] = p
	body := fmt.Appendf(nil, `{"percent":%d}`, p)
	return w.call("progress", http.MethodPut, w.base+"/api/lessons/"+slug+"/progress", w.l.Token, body, nil)
}

// startAttempt starts (or resumes) an attempt at the worker's next scenario.
func (w *worker) startAttempt(slug string) error {
	if slug == "" {
		slug = w.c.Quizzes[(w.n+w.attempts)%len(w.c.Quizzes)]
		w.attempts++
	}
	var st startResponse
	if err := w.call("start", http.MethodPost, w.base+"/api/quizzes/"+slug+"/attempts", w.l.Token, nil, &st); err != nil {
		return err
	}
	if st.ID == "" || st.Step == nil || len(st.Step.Choices) == 0 {
		w.rec.class("start").errors++
		return fmt.Errorf("start %s: no step to answer", slug)
	}
	w.attempt = &st
	return nil
}

// answerStep answers the current step with its first listed choice.
func (w *worker) answerStep() (finished bool, err error) {
	a := w.attempt
	body, _ := json.Marshal(answerRequest{StepID: a.Step.ID, ChoiceID: a.Step.Choices[0].ID})
	var res answerResponse
	if err := w.call("answer", http.MethodPost, w.base+"/api/attempts/"+a.ID+"/answers", w.l.Token, body, &res); err != nil {
		w.attempt = nil // the next start resumes wherever the attempt is
		return false, err
	}
	if res.Finished {
		w.attempt = nil
		return true, nil
	}
	if res.Step == nil || len(res.Step.Choices) == 0 {
		w.attempt = nil
		w.rec.class("answer").errors++
		return false, errors.New("answer: unfinished attempt without a next step")
	}
	a.Step = res.Step
	return false, nil
}

// playScenario plays one attempt to its end.
func (w *worker) playScenario(slug string) error {
	if err := w.startAttempt(slug); err != nil {
		return err
	}
	for {
		done, err := w.answerStep()
		if err != nil || done {
			return err
		}
	}
}

// iteration is one unit of a phase's work for a worker.
type iteration func(w *worker) error

var phaseWork = map[string]iteration{
	"ref":    func(w *worker) error { return w.getRefLesson() },
	"lesson": func(w *worker) error { return w.getLesson("lesson") },
	"login":  func(w *worker) error { return w.signIn() },
	// session: a signed-in learner reading, with a pause between pages as a
	// person makes; many of them hold their connections and tokens open.
	"session": func(w *worker) error {
		if err := w.getLesson("lesson"); err != nil {
			return err
		}
		pause := 500*time.Millisecond + time.Duration(rand.Int64N(int64(time.Second))) // #nosec G404 -- think time, not a secret
		select {
		case <-time.After(min(pause, time.Until(w.deadline))):
		case <-w.ctx.Done():
		}
		return nil
	},
	"modules": func(w *worker) error { return w.getModules() },
	"progress": func(w *worker) error {
		return w.saveProgress("", 1)
	},
	// loop: the start-then-answer loop: start (or resume) an
	// attempt, answer every step, start the next. (The answer phase, in
	// answerpath.go, answers attempts started before its clock runs.)
	"loop": func(w *worker) error {
		if w.attempt == nil {
			return w.startAttempt("")
		}
		_, err := w.answerStep()
		return err
	},
	// journey: the learner's whole path: the course list, a lesson read to
	// the end, then the module's scenario played through and retaken.
	"journey": func(w *worker) error {
		if err := w.getModules(); err != nil {
			return err
		}
		slug := w.nextLesson()
		if err := w.call("lesson", http.MethodGet, w.base+"/api/lessons/"+slug, w.l.Token, nil, nil); err != nil {
			return err
		}
		if err := w.saveProgress(slug, 100); err != nil {
			return err
		}
		quiz := w.c.Quizzes[(w.n+w.attempts)%len(w.c.Quizzes)]
		w.attempts++
		if err := w.playScenario(quiz); err != nil {
			return err
		}
		if err := w.playScenario(quiz); err != nil { // the retake
			return err
		}
		w.rec.journeys++
		return nil
	},
}

// loadResult is one phase's merged recording.
type loadResult struct {
	Elapsed time.Duration
	Rec     *recorder
}

// runLoad runs conc workers doing the phase's work until dur has passed.
// Requests in flight at the deadline finish and count; the elapsed time runs
// to the last of them.
func runLoad(ctx context.Context, h *client, base, refBase string, learners []*learner, c *course,
	phase string, conc int, dur time.Duration) loadResult {
	work := phaseWork[phase]
	start := time.Now()
	deadline := start.Add(dur)
	recs := make([]*recorder, conc)
	var wg sync.WaitGroup
	for i := range conc {
		w := &worker{ctx: ctx, h: h, base: base, refBase: refBase, l: learners[i%len(learners)], c: c,
			rec: newRecorder(), deadline: deadline, n: i}
		recs[i] = w.rec
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				err := work(w)
				if errors.Is(err, errStop) || ctx.Err() != nil {
					return
				}
				if err != nil {
					time.Sleep(5 * time.Millisecond) // do not spin on a failing server
				}
			}
		}()
	}
	wg.Wait()
	out := loadResult{Elapsed: time.Since(start), Rec: newRecorder()}
	for _, r := range recs {
		out.Rec.merge(r)
	}
	return out
}
