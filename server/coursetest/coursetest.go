// Package coursetest gives domain tests the shipped course, loaded once per
// test binary: the lessons and every scenario, checked as start-up checks
// them.
package coursetest

import (
	"sync"
	"testing"

	"github.com/baton-course/baton/lessons"
	"github.com/baton-course/baton/quizzes"
)

var loaded struct {
	once      sync.Once
	course    *lessons.Course
	scenarios []*quizzes.Scenario
	err       error
}

// Load returns the course and its scenarios, failing t if they do not load.
func Load(t testing.TB) (*lessons.Course, []*quizzes.Scenario) {
	t.Helper()
	loaded.once.Do(func() {
		if loaded.course, loaded.err = lessons.Load(lessons.Content()); loaded.err != nil {
			return
		}
		modules := map[string]bool{}
		for _, m := range loaded.course.Modules {
			modules[m.Slug] = true
		}
		loaded.scenarios, loaded.err = quizzes.LoadAll(quizzes.Content(), modules)
	})
	if loaded.err != nil {
		t.Fatal(loaded.err)
	}
	return loaded.course, loaded.scenarios
}

// Course is Load's course.
func Course(t testing.TB) *lessons.Course {
	t.Helper()
	c, _ := Load(t)
	return c
}

// Scenarios is Load's scenarios.
func Scenarios(t testing.TB) []*quizzes.Scenario {
	t.Helper()
	_, s := Load(t)
	return s
}
