package quizzes

import (
	"strings"
	"time"
)

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

// BatchStatement is one of the coalesced statements with its parameter
// types and a set of (empty) arguments, for EXPLAIN.
type BatchStatement struct{ SQL, Types, Args string }

// BatchStatements are the coalesced statements by name.
func BatchStatements() map[string]BatchStatement {
	empty := func(n int) string { return strings.TrimSuffix(strings.Repeat("'{}',", n), ",") }
	return map[string]BatchStatement{
		"read standings": {SQL: sqlReadStandings, Types: "uuid[], text[]", Args: empty(2)},
		"insert starts":  {SQL: sqlInsertStarts, Types: "uuid[], text[], text[], text[], text[], bigint[], text[], timestamptz[], int[], timestamptz[], timestamptz[]", Args: empty(11)},
		"write moves":    {SQL: sqlWriteMoves, Types: "uuid[], uuid[], text[], int[], text[], text[], text[], int[], int[], int[]", Args: empty(10)},
		"write finishes": {SQL: sqlWriteFinishes, Types: "uuid[], uuid[], text[], int[], text[], text[], int[], int[], int[], text[], int[], bool[], int[], int[], int[], timestamptz[], timestamptz[], int[]",
			Args: empty(18)},
	}
}

// StandingReads counts the batches that read starts' standings.
func (s *Store) StandingReads() *BatchStats { return &s.standings.stats }
