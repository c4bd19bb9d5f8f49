package web

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/baton-course/baton/lessons"
)

// The shortcut for a learner with no answers on a lesson encodes exactly
// what the general path does, for every lesson of the course.
func TestUntouchedLessonEncodingMatches(t *testing.T) {
	t.Parallel()
	course, err := lessons.Load(lessons.Content())
	if err != nil {
		t.Fatal(err)
	}
	done := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	for _, p := range []lessons.Progress{{}, {Percent: 40}, {Percent: 100, Completed: true, CompletedAt: &done}} {
		for _, l := range course.Lessons() {
			for order := range optionOrders {
				st := lessons.LessonState{Progress: p}
				got, err := encodeMine(l, st, order)
				if err != nil {
					t.Fatal(err)
				}
				want, _ := json.Marshal(mineView(l, st, order))
				if !bytes.Equal(got, want) {
					t.Fatalf("%s, order %d:\n got %s\nwant %s", l.Slug, order, got, want)
				}
			}
		}
	}
}

// Options are shuffled: across the orders learners are spread over, a
// check's options do not always come in the order written, and every order
// keeps every option.
func TestCheckOptionsAreShuffled(t *testing.T) {
	t.Parallel()
	course, err := lessons.Load(lessons.Content())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range course.Lessons() {
		for _, q := range l.Checks {
			firsts := map[string]bool{}
			for order := range optionOrders {
				got := shuffledOptions(order, l.Slug, q)
				if len(got) != len(q.Options) {
					t.Fatalf("%s/%s: %d options shown of %d", l.Slug, q.ID, len(got), len(q.Options))
				}
				firsts[got[0].ID] = true
			}
			if len(firsts) < 2 {
				t.Errorf("%s/%s: every order starts with option %v", l.Slug, q.ID, firsts)
			}
		}
	}
}
