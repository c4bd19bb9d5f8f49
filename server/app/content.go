package app

import (
	"sync"

	"github.com/baton-course/baton/lessons"
	"github.com/baton-course/baton/quizzes"
)

// content is the course and its scenarios, loaded and rendered once per
// process: it is the same for every request and every test.
type content struct {
	course    *lessons.Course
	scenarios []*quizzes.Scenario
}

var (
	contentOnce sync.Once
	loaded      content
	contentErr  error
)

func loadContent() (content, error) {
	contentOnce.Do(func() { loaded, contentErr = checkContent() })
	return loaded, contentErr
}

// checkContent loads and validates everything; "baton check-content" and
// start-up both run it.
func checkContent() (content, error) {
	course, modules, err := loadCourse()
	if err != nil {
		return content{}, err
	}
	scenarios, err := quizzes.LoadAll(quizzes.Content(), modules)
	if err != nil {
		return content{}, err
	}
	return content{course: course, scenarios: scenarios}, nil
}

// loadCourse loads the lessons and the set of module slugs scenarios may
// name.
func loadCourse() (*lessons.Course, map[string]bool, error) {
	course, err := lessons.Load(lessons.Content())
	if err != nil {
		return nil, nil, err
	}
	if err := lessons.LoadAids(lessons.Aids(), course); err != nil {
		return nil, nil, err
	}
	modules := map[string]bool{}
	for _, m := range course.Modules {
		modules[m.Slug] = true
	}
	return course, modules, nil
}
