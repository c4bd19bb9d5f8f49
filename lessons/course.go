// Package lessons is Baton's course: the modules and lessons authored as
// Markdown files with YAML front matter, embedded in the binary. It loads and
// validates them (every problem as file:line), renders each lesson once to
// sanitized HTML, syncs them into PostgreSQL, and records each learner's
// reading progress, quick-check answers and private reflections.
package lessons

import (
	"embed"
	"io/fs"

	"github.com/baton-course/baton/server/contentfile"
)

//go:embed content
var content embed.FS

// Content is the course as shipped in the binary.
func Content() fs.FS {
	return contentfile.Embedded(content, "content")
}

// Course is the whole loaded course, in course order.
type Course struct {
	Modules []*Module
	bySlug  map[string]*Lesson
	order   []*Lesson
	aids    map[string]*Aid // by module slug (LoadAids)
}

// Module is a unit of the course: lessons and (in package quizzes) a scenario.
type Module struct {
	Slug     string
	Title    string
	Summary  string
	Position int
	Lessons  []*Lesson
}

// Lesson is one rendered lesson.
type Lesson struct {
	Slug        string
	Module      *Module
	Title       string
	Minutes     int
	Position    int
	Objective   string
	HTML        string
	Words       int
	Checks      []QuickCheck
	Reflections []Reflection
	Hash        string // SHA-256 of the source file: a change makes a new version
	File        string
}

// QuickCheck is a single-choice question with feedback on every option.
type QuickCheck struct {
	ID       string
	Question string
	Options  []Option
}

// Option is one answer of a quick check. IDs are "a", "b", ... by position.
type Option struct {
	ID       string
	Text     string
	Correct  bool
	Feedback string
}

// Reflection is a prompt whose answer the learner writes and keeps privately.
type Reflection struct {
	ID     string
	Prompt string
}

// Lesson finds a lesson by slug.
func (c *Course) Lesson(slug string) (*Lesson, bool) {
	l, ok := c.bySlug[slug]
	return l, ok
}

// Lessons lists every lesson in course order.
func (c *Course) Lessons() []*Lesson { return c.order }

// Module finds a module by slug.
func (c *Course) Module(slug string) (*Module, bool) {
	for _, m := range c.Modules {
		if m.Slug == slug {
			return m, true
		}
	}
	return nil, false
}

// Neighbours returns the slugs of the lessons before and after slug in course
// order ("" at either end).
func (c *Course) Neighbours(slug string) (prev, next string) {
	for i, l := range c.order {
		if l.Slug != slug {
			continue
		}
		if i > 0 {
			prev = c.order[i-1].Slug
		}
		if i+1 < len(c.order) {
			next = c.order[i+1].Slug
		}
	}
	return prev, next
}

// Check finds a quick check of the lesson.
func (l *Lesson) Check(id string) (QuickCheck, bool) {
	for _, q := range l.Checks {
		if q.ID == id {
			return q, true
		}
	}
	return QuickCheck{}, false
}

// Reflection finds a reflection prompt of the lesson.
func (l *Lesson) Reflection(id string) (Reflection, bool) {
	for _, r := range l.Reflections {
		if r.ID == id {
			return r, true
		}
	}
	return Reflection{}, false
}
