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
			st := lessons.LessonState{Progress: p}
			got, err := encodeMine(l, st)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := json.Marshal(mineView(l, st))
			if !bytes.Equal(got, want) {
				t.Fatalf("%s:\n got %s\nwant %s", l.Slug, got, want)
			}
		}
	}
}
