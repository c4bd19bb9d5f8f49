package main

import (
	"context"
	"errors"
	"math"
	"sync"
	"time"
)

// The answer path alone, apart from starts. The issue sets two bars: the
// answer rate (≥ 0.8 × pgbench) and the start-then-answer loop (≥ 0.6 ×,
// the loop phase). To measure answers alone, the attempts they answer are
// started before the answer phase's clock runs, by a phase of its own
// (start), which is the start path alone at the same level and is reported
// as such. A learner has at most one open attempt per scenario, so the
// stock comes from a pool of learners inserted for it (insertLearners):
// enough of them, times the scenarios, for the answers a phase can make.

// slot is one (learner, scenario) pair of the answer pool: it holds at most
// one open attempt.
type slot struct {
	l    *learner
	quiz string
}

// stockedAttempt is a started attempt waiting for its answers.
type stockedAttempt struct {
	slot
	st       startResponse
	answered int // answers it has had so far
}

// answerPool is the answer phase's learners, the attempts started for them
// and the slots free for a new start.
type answerPool struct {
	stock []stockedAttempt
	free  []slot
	steps float64 // answers an attempt takes, from the SQL probe at first

	// Attempts the answer phases finished and the answers they took: the
	// probe's seven attempts are a small sample of the scenarios' variants.
	finished, finishedAnswers int
}

// stepsPerAttempt is the answers an attempt takes: measured on the
// attempts finished so far once there are enough of them, else the probe's.
func (p *answerPool) stepsPerAttempt() float64 {
	if p.finished >= 100 {
		return float64(p.finishedAnswers) / float64(p.finished)
	}
	return p.steps
}

// poolAttemptsPerSecond sizes the pool: it can hold the open attempts of
// this many attempts answered per second of a phase (some 12,000 to 20,000
// answers a second, past anything this machine class does).
const poolAttemptsPerSecond = 4000

func newAnswerPool(learners []*learner, quizzes []string, steps float64) *answerPool {
	p := &answerPool{steps: steps}
	// Scenario-major, so successive starts are by different learners.
	for _, q := range quizzes {
		for _, l := range learners {
			p.free = append(p.free, slot{l: l, quiz: q})
		}
	}
	return p
}

// poolLearners is how many learners the pool needs for phases of dur.
func poolLearners(dur time.Duration, scenarios int) int {
	return int(math.Ceil(poolAttemptsPerSecond * dur.Seconds() / float64(max(scenarios, 1))))
}

// stockWanted is how many open attempts the answer phase at level should
// find: enough for half as many answers again as the last answer phase at
// this level made or, the first time at a level, for the more of 1.5 ×
// this round's pgbench rate (answers alone have been measured past
// pgbench's rate) and half as many again as the last answer phase at any
// level made; capped by the pool.
func (b *bench) stockWanted(level int) int {
	here, anyLevel, target := 0.0, 0.0, 0.0
	for _, p := range b.rep.Phases {
		if p.Profiled || p.ElapsedS <= 0 || len(p.Classes) == 0 {
			continue
		}
		switch c := p.Classes[0]; {
		case p.Phase == "answer" && c.Class == "answer":
			anyLevel = 1.5 * c.RPS
			if p.Level == level {
				here = anyLevel
			}
		case p.Phase == "pgbench" && p.Level == level:
			target = 1.5 * c.RPS
		}
	}
	rate := here
	if rate == 0 {
		rate = max(target, anyLevel)
	}
	if rate == 0 {
		rate = 2000
	}
	n := int(math.Ceil(rate * b.o.Duration.Seconds() / b.pool.stepsPerAttempt()))
	return min(n, len(b.pool.stock)+len(b.pool.free))
}

// startStock starts attempts in free slots, level at a time, until the
// stock holds what the next answer phase needs; each start is timed. It
// gives up after four phase lengths.
func (b *bench) startStock(ctx context.Context, level int) loadResult {
	p := b.pool
	need := b.stockWanted(level) - len(p.stock)
	jobs := make(chan slot, max(need, 0))
	for i := 0; i < need && len(p.free) > 0; i++ {
		jobs <- p.free[0]
		p.free = p.free[1:]
	}
	close(jobs)
	start := time.Now()
	var mu sync.Mutex
	recs := b.workers(ctx, level, start.Add(4*b.o.Duration), func(w *worker) {
		for s := range jobs {
			w.l = s.l
			err := w.startAttempt(s.quiz)
			mu.Lock()
			if err == nil {
				p.stock = append(p.stock, stockedAttempt{slot: s, st: *w.attempt})
			} else {
				p.free = append(p.free, s) // not started, or in an unknown state: a later start resumes it
			}
			mu.Unlock() // past the deadline every remaining slot goes back, unstarted
		}
	})
	return mergeLoad(start, recs)
}

// answerStock has level workers answer the stocked attempts, each to its
// end, until the phase's time is up or the stock is spent. An attempt the
// clock stops midway goes back into the stock at the step it reached.
func (b *bench) answerStock(ctx context.Context, level int) (loadResult, bool) {
	p := b.pool
	jobs := make(chan stockedAttempt, len(p.stock))
	for _, a := range p.stock {
		jobs <- a
	}
	p.stock = nil
	close(jobs)
	start := time.Now()
	deadline := start.Add(b.o.Duration)
	var mu sync.Mutex
	recs := b.workers(ctx, level, deadline, func(w *worker) {
		for a := range jobs {
			cur := a.st
			w.l, w.attempt = a.l, &cur
			for {
				at := *w.attempt // answerStep forgets the attempt on any error
				_, err := w.answerStep()
				if errors.Is(err, errStop) {
					mu.Lock()
					p.stock = append(p.stock, stockedAttempt{slot: a.slot, st: at, answered: a.answered})
					mu.Unlock()
					break
				}
				if err == nil {
					a.answered++
				}
				if err != nil || w.attempt == nil { // failed (a later start resumes it) or finished
					mu.Lock()
					p.free = append(p.free, a.slot)
					if err == nil {
						p.finished++
						p.finishedAnswers += a.answered
					}
					mu.Unlock()
					break
				}
			}
		}
	})
	ranOut := time.Now().Before(deadline) && ctx.Err() == nil
	return mergeLoad(start, recs), ranOut
}

// workers runs level workers doing work until it returns, each with its
// own recorder, and returns their recorders.
func (b *bench) workers(ctx context.Context, level int, deadline time.Time, work func(w *worker)) []*recorder {
	recs := make([]*recorder, level)
	var wg sync.WaitGroup
	for i := range level {
		w := &worker{ctx: ctx, h: b.h, base: b.base, c: b.course, rec: newRecorder(), deadline: deadline, n: i}
		recs[i] = w.rec
		wg.Add(1)
		go func() {
			defer wg.Done()
			work(w)
		}()
	}
	wg.Wait()
	return recs
}

// mergeLoad is the merged recording of workers that began at start.
func mergeLoad(start time.Time, recs []*recorder) loadResult {
	out := loadResult{Elapsed: time.Since(start), Rec: newRecorder()}
	for _, r := range recs {
		out.Rec.merge(r)
	}
	return out
}
