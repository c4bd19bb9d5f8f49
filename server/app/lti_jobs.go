package app

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// ltiScoresArgs sends the LTI scores that are due (server/lti SendScores):
// inserted when a launched scenario's attempt finishes, and periodically as
// a sweep, so a score whose wake-up was lost, or whose platform was down,
// still goes out. A run with a failed score fails, and River runs it again
// with its backoff; each score keeps its own backoff too.
type ltiScoresArgs struct{}

func (ltiScoresArgs) Kind() string { return "lti_scores" }

// ltiScoresSweep is how often the periodic score job runs.
const ltiScoresSweep = 30 * time.Second

type ltiScoresWorker struct {
	river.WorkerDefaults[ltiScoresArgs]
	s *Services
}

func (w *ltiScoresWorker) Work(ctx context.Context, _ *river.Job[ltiScoresArgs]) error {
	sent, err := w.s.LTI.SendScores(ctx)
	if sent > 0 {
		w.s.log.Info("LTI scores sent", "scores", sent)
	}
	return err
}

// ltiScoresJob is the periodic sweep.
func ltiScoresJob() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(ltiScoresSweep),
		func() (river.JobArgs, *river.InsertOpts) { return ltiScoresArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})
}

// wakeLTIScores queues a run now; a lost wake-up only delays the score
// until the sweep.
func (s *Services) wakeLTIScores(client *river.Client[pgxTx]) func() {
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := client.Insert(ctx, ltiScoresArgs{}, &river.InsertOpts{MaxAttempts: 5}); err != nil {
			s.log.Warn("LTI score job not queued; the sweep will send it", "err", err)
		}
	}
}
