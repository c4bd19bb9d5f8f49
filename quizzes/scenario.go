// Package quizzes is Baton's scenario engine: branching workplace scenarios
// authored as YAML, and the pure rules that load and check them, step
// through them, score them, govern retakes and schedule spaced review. It
// also stores attempts (store.go). It knows nothing of HTTP.
package quizzes

import (
	"embed"
	"io/fs"
	"time"
)

//go:embed scenarios
var scenarios embed.FS

// Content is the scenarios shipped in the binary.
func Content() fs.FS {
	sub, err := fs.Sub(scenarios, "scenarios")
	if err != nil {
		panic(err) // the embed directive guarantees the folder exists
	}
	return sub
}

// Skills are the three skills every score is reported on.
var Skills = []string{"vision", "alignment", "inspiration"}

// Points are scores on the three skills.
type Points struct {
	Vision      int `json:"vision"`
	Alignment   int `json:"alignment"`
	Inspiration int `json:"inspiration"`
}

// Total is the sum over the skills.
func (p Points) Total() int { return p.Vision + p.Alignment + p.Inspiration }

// Add returns p + q.
func (p Points) Add(q Points) Points {
	return Points{p.Vision + q.Vision, p.Alignment + q.Alignment, p.Inspiration + q.Inspiration}
}

// Get returns the points of one skill by key.
func (p Points) Get(skill string) int {
	switch skill {
	case "vision":
		return p.Vision
	case "alignment":
		return p.Alignment
	case "inspiration":
		return p.Inspiration
	}
	return 0
}

func (p *Points) set(skill string, v int) {
	switch skill {
	case "vision":
		p.Vision = v
	case "alignment":
		p.Alignment = v
	case "inspiration":
		p.Inspiration = v
	}
}

// Scenario is one loaded, validated scenario quiz.
type Scenario struct {
	Slug        string
	Module      string
	Title       string
	Intro       string
	PassPercent int
	MaxAttempts *int          // nil: unlimited
	Cooldown    time.Duration // minimum time between attempts
	Start       string
	Steps       map[string]*Step
	Endings     map[string]*Ending
	StepOrder   []string // as written, for stable listings
	// Version identifies the scenario's content (a hash of its file); an
	// attempt pins it so later edits never rewrite history.
	Version string
	Source  []byte
	File    string

	// Computed from the graph at load time.
	BestTotal  int    // the highest total any path earns
	BestSkills Points // per skill, the most any path earns on that skill
	BestPath   []string
}

// Step is a situation with choices.
type Step struct {
	ID      string
	Text    string
	Choices []Choice
	// Longest is how many decisions the longest path from this step to an
	// ending takes, this one included; BestFrom is the most points any path
	// from here earns (both computed at load time).
	Longest  int
	BestFrom int
	line     int
}

// Choice is one move in a step.
type Choice struct {
	ID       string
	Text     string
	Feedback string
	Points   Points
	Next     string // the next step, or
	Ending   string // the ending this choice leads to
	line     int
}

// Ending closes a path.
type Ending struct {
	ID    string
	Title string
	Text  string
	line  int
}

// Choice finds a choice of the step.
func (s *Step) Choice(id string) (Choice, bool) {
	for _, c := range s.Choices {
		if c.ID == id {
			return c, true
		}
	}
	return Choice{}, false
}
