// Package quizzes is Baton's scenario engine: branching workplace scenarios
// authored as YAML, and the pure rules that load and check them, step
// through them, score them, govern retakes and schedule spaced review. It
// also stores attempts (store.go). It knows nothing of HTTP.
package quizzes

import (
	"embed"
	"io/fs"
	"time"

	"github.com/baton-course/baton/server/contentfile"
)

//go:embed scenarios
var scenarios embed.FS

// Content is the scenarios shipped in the binary.
func Content() fs.FS {
	return contentfile.Embedded(scenarios, "scenarios")
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

// Scenario is one loaded, validated scenario quiz: what every variant
// shares (its identity, retake rules, state and graph as written) and the
// variants themselves, each a fully resolved graph.
type Scenario struct {
	Slug        string
	Module      string
	Title       string
	Intro       string
	PassPercent int
	MaxAttempts *int          // nil: unlimited
	Cooldown    time.Duration // minimum time between attempts
	// MeasurementNote is the author's reason for a scenario whose skills
	// are not measured apart (see the skill rules in check.go).
	MeasurementNote string
	// Version identifies the scenario's content (a hash of its file); an
	// attempt pins it so later edits never rewrite history.
	Version string
	Source  []byte
	File    string
	// Format1 marks a file in the format before state and variants: only
	// versions stored by attempts are read in it.
	Format1  bool
	Variants []*Variant

	state *schema
}

// Variant returns the variant with id; an attempt stored before variants
// existed names "", which is a format-1 scenario's only variant.
func (sc *Scenario) Variant(id string) (*Variant, bool) {
	for _, v := range sc.Variants {
		if v.ID == id {
			return v, true
		}
	}
	return nil, false
}

// Variant is one version of a scenario's situation (cast, company,
// constraint, sometimes a different best move), resolved: its parameters
// substituted into every text and its overrides applied.
type Variant struct {
	ID        string
	Title     string
	Scenario  *Scenario
	Start     string
	Steps     map[string]*Step
	StepOrder []string  // as written, for stable listings
	Endings   []*Ending // in the order they are tried

	// Computed from every reachable state at load time.
	BestTotal  int    // the highest total any path earns
	BestSkills Points // per skill, the most any path earns on that skill
	nodes      map[string]node
	line       int // where the variant is declared (1 for format 1)
}

// Step is a situation with choices.
type Step struct {
	ID      string
	Text    Text
	Assumes *Cond
	Choices []*Choice // as written; Offered says which a state shows
	line    int
}

// Choice is one move in a step.
type Choice struct {
	ID       string
	Text     string
	When     *Cond // offered only when true (nil: always)
	Feedback Text
	Points   Points
	Effects  []Effect
	Next     []Route // tried in order; the last has no condition
	Ending   string  // format 1 only: the ending this choice leads to
	line     int
}

// Route is where a choice leads when its condition holds: a step, or the
// end of the scenario (To == "").
type Route struct {
	When *Cond
	To   string
	line int
}

// Ending closes a path; the first whose condition holds over the final
// state and score is the path's.
type Ending struct {
	ID    string
	Title string
	Text  Text
	When  *Cond
	line  int
}

// Text is prose made of fragments, each shown when its condition holds.
type Text []Fragment

// Fragment is a piece of text with the conditions it is shown under (When)
// and the ones its wording takes for granted (Assumes, checked at load).
type Fragment struct {
	Text    string
	When    *Cond
	Assumes *Cond
	line    int
}

// Choice finds a choice of the step by authoring id.
func (s *Step) Choice(id string) (*Choice, bool) {
	for _, c := range s.Choices {
		if c.ID == id {
			return c, true
		}
	}
	return nil, false
}
