package quizzes

import "time"

// HoldAnswers keeps answer batches from leaving; release lets one batch go
// once waiting answers are queued, so a test can choose what one batch holds.
func (s *Store) HoldAnswers() (release func(waiting int)) { return hold(s.answers) }

// HoldFinishes is HoldAnswers for the answers that finish attempts.
func (s *Store) HoldFinishes() (release func(waiting int)) { return hold(s.finishes) }

// HoldStarts is HoldAnswers for the starts' inserts.
func (s *Store) HoldStarts() (release func(waiting int)) { return hold(s.starts) }

func hold[In, Out any](b *coalescer[In, Out]) (release func(waiting int)) {
	b.mu.Lock()
	b.flights = batchFlights
	b.mu.Unlock()
	return func(waiting int) {
		for {
			b.mu.Lock()
			if len(b.queue) >= waiting {
				b.flights = 1
				b.mu.Unlock()
				go b.fly()
				return
			}
			b.mu.Unlock()
			time.Sleep(time.Millisecond)
		}
	}
}

// QueuedStarts is how many starts' inserts wait for their batch.
func (s *Store) QueuedStarts() int {
	s.starts.mu.Lock()
	defer s.starts.mu.Unlock()
	return len(s.starts.queue)
}
