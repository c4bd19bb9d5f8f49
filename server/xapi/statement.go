package xapi

import (
	"fmt"
	"time"
)

// Statement is the part of an xAPI 1.0.3 statement Baton sends.
type Statement struct {
	ID        string   `json:"id"`
	Actor     Actor    `json:"actor"`
	Verb      Verb     `json:"verb"`
	Object    Activity `json:"object"`
	Result    *Result  `json:"result,omitempty"`
	Context   *Context `json:"context,omitempty"`
	Timestamp string   `json:"timestamp"`
}

// Actor is the learner: an account under BATON_PUBLIC_URL, or their email
// address when the admin opted in (BATON_XAPI_MBOX=1).
type Actor struct {
	ObjectType string   `json:"objectType"`
	Account    *Account `json:"account,omitempty"`
	Mbox       string   `json:"mbox,omitempty"`
}

// Account is an actor's identity at Baton.
type Account struct {
	HomePage string `json:"homePage"`
	Name     string `json:"name"`
}

// Verb is an ADL verb.
type Verb struct {
	ID      string            `json:"id"`
	Display map[string]string `json:"display"`
}

// The ADL verbs of the profile.
var (
	Attempted = Verb{ID: "http://adlnet.gov/expapi/verbs/attempted", Display: map[string]string{"en-US": "attempted"}}
	Answered  = Verb{ID: "http://adlnet.gov/expapi/verbs/answered", Display: map[string]string{"en-US": "answered"}}
	Passed    = Verb{ID: "http://adlnet.gov/expapi/verbs/passed", Display: map[string]string{"en-US": "passed"}}
	Failed    = Verb{ID: "http://adlnet.gov/expapi/verbs/failed", Display: map[string]string{"en-US": "failed"}}
	Completed = Verb{ID: "http://adlnet.gov/expapi/verbs/completed", Display: map[string]string{"en-US": "completed"}}
)

// The ADL activity types of the profile.
const (
	TypeModule      = "http://adlnet.gov/expapi/activities/module"
	TypeLesson      = "http://adlnet.gov/expapi/activities/lesson"
	TypeAssessment  = "http://adlnet.gov/expapi/activities/assessment"
	TypeInteraction = "http://adlnet.gov/expapi/activities/cmi.interaction"
	TypeProfile     = "http://adlnet.gov/expapi/activities/profile"
)

// Activity is a statement's object or a context activity.
type Activity struct {
	ObjectType string      `json:"objectType"`
	ID         string      `json:"id"`
	Definition *Definition `json:"definition,omitempty"`
}

// Definition describes an activity; a step is a choice interaction.
type Definition struct {
	Type            string            `json:"type"`
	Name            map[string]string `json:"name,omitempty"`
	Description     map[string]string `json:"description,omitempty"`
	InteractionType string            `json:"interactionType,omitempty"`
	Choices         []Component       `json:"choices,omitempty"`
}

// Component is one choice of a choice interaction.
type Component struct {
	ID          string            `json:"id"`
	Description map[string]string `json:"description"`
}

// Result is what a decision or an attempt came to.
type Result struct {
	Score      *Score         `json:"score,omitempty"`
	Success    *bool          `json:"success,omitempty"`
	Completion *bool          `json:"completion,omitempty"`
	Response   string         `json:"response,omitempty"`
	Duration   string         `json:"duration,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

// Score is a finished attempt's percent (0 to 100) and its scaled share.
type Score struct {
	Scaled float64 `json:"scaled"`
	Raw    int     `json:"raw"`
	Min    int     `json:"min"`
	Max    int     `json:"max"`
}

// Context places a statement: its attempt (registration), scenario and
// module, and Baton's extensions.
type Context struct {
	Registration      string             `json:"registration,omitempty"`
	Platform          string             `json:"platform"`
	Language          string             `json:"language,omitempty"`
	ContextActivities *ContextActivities `json:"contextActivities,omitempty"`
	Extensions        map[string]any     `json:"extensions,omitempty"`
}

// ContextActivities are the activities a statement belongs to.
type ContextActivities struct {
	Parent   []Activity `json:"parent,omitempty"`
	Grouping []Activity `json:"grouping,omitempty"`
	Category []Activity `json:"category,omitempty"`
}

// Skills are points or percentages on Baton's three skills.
type Skills struct {
	Vision      int `json:"vision"`
	Alignment   int `json:"alignment"`
	Inspiration int `json:"inspiration"`
}

// timestamp is an xAPI timestamp: RFC 3339 in UTC, to the millisecond.
func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// isoDuration is d as an ISO 8601 duration, to the hundredth of a second
// (xAPI keeps no more).
func isoDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	cs := d.Round(10*time.Millisecond) / (10 * time.Millisecond)
	h, cs := cs/360000, cs%360000
	m, cs := cs/6000, cs%6000
	return fmt.Sprintf("PT%dH%dM%d.%02dS", h, m, cs/100, cs%100)
}

func lang(s string) map[string]string { return map[string]string{"en": s} }

func yes() *bool { t := true; return &t }
