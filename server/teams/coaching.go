package teams

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/baton-course/baton/quizzes"
	"github.com/baton-course/baton/server/privacy"
	"github.com/baton-course/baton/server/problem"
)

// CoachingBrief is what a manager takes into one-to-ones about one
// scenario: per variant the team met, what the team tends to do, how it
// chose at every step with the recommended move marked, and questions to
// ask. It is made only of the noisy analytics and the scenario's content,
// so it shows no member's choice.
type CoachingBrief struct {
	Team     TeamRef          `json:"team"`
	Scenario CoachingScenario `json:"scenario"`
	MinGroup int              `json:"min_group"`
	Noise    Noise            `json:"noise"`
	// Hidden says the privacy floor hides every step of every variant (or
	// no member finished the scenario); Message says so for people.
	Hidden   bool              `json:"hidden"`
	Message  string            `json:"message"`
	Variants []CoachingVariant `json:"variants"`
}

// CoachingScenario names the scenario and the version whose content the
// brief is written from.
type CoachingScenario struct {
	Slug        string `json:"slug"`
	Title       string `json:"title"`
	Module      string `json:"module"`
	ModuleTitle string `json:"module_title"`
	Version     string `json:"version"`
}

// CoachingVariant is the brief for one variant members met.
type CoachingVariant struct {
	Variant VariantRef `json:"variant"`
	// Members finished their first attempt of the variant (exact);
	// EarlierVersion of them played a version before the brief's, whose
	// answers count against today's steps as the analytics count them.
	Members        int  `json:"members"`
	EarlierVersion int  `json:"members_on_earlier_versions"`
	Suppressed     bool `json:"suppressed"`
	// Summary is one sentence on what the team tends to do at its most
	// telling step (TellingStep); empty when the floor hides every step.
	Summary     string         `json:"summary"`
	TellingStep string         `json:"telling_step"`
	Steps       []CoachingStep `json:"steps"`
	Questions   []string       `json:"questions"`
}

// CoachingStep is one step the variant can reach, in the order learners
// meet the steps.
type CoachingStep struct {
	Position   int    `json:"position"`
	StepID     string `json:"step_id"`
	Text       string `json:"text"`
	OnBestPath bool   `json:"on_best_path"`
	// Suppressed: fewer than MinGroup members are counted as answering,
	// so no share shows (the choices and the recommended move still do:
	// they are content).
	Suppressed bool             `json:"suppressed"`
	Choices    []CoachingChoice `json:"choices"`
}

// CoachingChoice is one move of a step and the team's (noisy) share on it.
type CoachingChoice struct {
	ID          string `json:"id"`
	Text        string `json:"text"`
	Recommended bool   `json:"recommended"`
	// Percent is the share of the variant's members counted as taking the
	// move on their first attempt (noisy, like the analytics' counts); nil
	// when the step is suppressed.
	Percent *int `json:"percent"`
	// Estimate corrects Percent for the noise; nil under
	// privacy.EstimateMin members.
	Estimate *int `json:"estimated_percent"`
}

// share is what the brief reads a choice's pull as: the noise-corrected
// estimate where there is one, else the counted share.
func (c CoachingChoice) share() (int, bool) {
	switch {
	case c.Estimate != nil:
		return *c.Estimate, true
	case c.Percent != nil:
		return *c.Percent, true
	}
	return 0, false
}

// Coaching is the team's coaching brief for a scenario; an unknown
// scenario is 404 like a team the caller does not manage.
func (s *Service) Coaching(ctx context.Context, m Managed, slug string) (CoachingBrief, error) {
	if err := m.valid(); err != nil {
		return CoachingBrief{}, err
	}
	sc, ok := s.catalog.Get(slug)
	if !ok {
		return CoachingBrief{}, problem.New(problem.NotFound, "No such scenario.")
	}
	noise, err := privacy.Load(ctx, s.db, s.sealer)
	if err != nil {
		return CoachingBrief{}, err
	}
	firsts, err := s.firstAttempts(ctx, m.team.ID)
	if err != nil {
		return CoachingBrief{}, err
	}
	b := CoachingBrief{Team: TeamRef{ID: m.team.ID, Name: m.team.Name},
		Scenario: CoachingScenario{Slug: sc.Slug, Title: sc.Title, Module: sc.Module, Version: sc.Version},
		MinGroup: MinGroup, Noise: Noise{Noisy: true, TruthProbability: privacy.TruthProbability,
			EstimateMin: privacy.EstimateMin, Note: NoiseNote}, Hidden: true, Variants: []CoachingVariant{}}
	if mod, ok := s.course.Module(sc.Module); ok {
		b.Scenario.ModuleTitle = mod.Title
	}
	for _, v := range sc.Variants {
		members := firsts[variantKey{sc.Slug, v.ID}]
		if len(members) == 0 {
			continue // a variant nobody met has nothing to coach
		}
		cv := coachingVariant(v, variantAnalytics(noise, v, members))
		for _, f := range members {
			if f.version != sc.Version {
				cv.EarlierVersion++
			}
		}
		b.Hidden = b.Hidden && cv.Summary == ""
		b.Variants = append(b.Variants, cv)
	}
	switch {
	case len(b.Variants) == 0:
		b.Message = "No member of the team has finished this scenario yet, so there is nothing to say about how the team chose. The questions will appear once members have played it."
	case b.Hidden:
		b.Message = fmt.Sprintf("Too few members have finished this scenario for anything to be shown: each step needs at least %d, "+
			"so that no one's choice can be singled out. The recommended moves and the questions below come from the scenario alone.", MinGroup)
	}
	return b, nil
}

// coachingVariant writes the brief of one variant from its analytics.
func coachingVariant(v *quizzes.Variant, a ScenarioAnalytics) CoachingVariant {
	cv := CoachingVariant{Variant: a.Variant, Members: a.Members, Suppressed: a.Suppressed, Steps: []CoachingStep{}}
	for _, st := range a.Steps {
		step := v.Steps[st.StepID]
		rec := v.Recommended(st.StepID)
		if rec.ChoiceID == "" {
			continue // a step this variant never reaches
		}
		cs := CoachingStep{Position: len(cv.Steps) + 1, StepID: st.StepID, Text: st.Text, OnBestPath: rec.OnBestPath,
			Suppressed: st.Suppressed, Choices: []CoachingChoice{}}
		for _, ch := range step.Choices {
			cc := CoachingChoice{ID: ch.ID, Text: ch.Text, Recommended: ch.ID == rec.ChoiceID}
			for _, c := range st.Choices {
				if c.ID == ch.ID && a.Members > 0 {
					cc.Percent, cc.Estimate = percent(c.First, a.Members), c.Estimate
				}
			}
			cs.Choices = append(cs.Choices, cc)
		}
		cv.Steps = append(cv.Steps, cs)
	}
	if t, ok := tellingStep(cv.Steps); ok {
		cv.TellingStep, cv.Summary = t.step.StepID, t.sentence()
		cv.Questions = questions(v, t)
	} else if t, ok := closestCall(v, cv.Steps); ok {
		cv.TellingStep = t.step.StepID
		cv.Questions = questions(v, t)
	}
	return cv
}

func percent(n, of int) *int {
	p := (100*n + of/2) / of
	return &p
}

// telling is a step and the two moves the brief talks about there: the
// recommended one and the most tempting other one.
type telling struct {
	step                 CoachingStep
	best, tempting       CoachingChoice
	bestShare, tempShare int
}

// tellingStep is the step where the team's pull away from the
// recommended move is strongest: the largest lead of another move over
// the recommended one (or, when the team took the recommended move
// everywhere, its smallest lead). Only steps the floor shows count.
func tellingStep(steps []CoachingStep) (telling, bool) {
	var out telling
	found := false
	for _, st := range steps {
		if st.Suppressed {
			continue
		}
		var best, tempting CoachingChoice
		bestShare, tempShare, hasBest, hasOther := 0, -1, false, false
		for _, c := range st.Choices {
			p, ok := c.share()
			switch {
			case !ok:
			case c.Recommended:
				best, bestShare, hasBest = c, p, true
			case p > tempShare:
				tempting, tempShare, hasOther = c, p, true
			}
		}
		if !hasBest || !hasOther {
			continue
		}
		if !found || tempShare-bestShare > out.tempShare-out.bestShare {
			out = telling{step: st, best: best, tempting: tempting, bestShare: bestShare, tempShare: tempShare}
			found = true
		}
	}
	return out, found
}

// closestCall is the telling step when the floor hides the team: the step
// of the best path where another move earns closest to the recommended one.
func closestCall(v *quizzes.Variant, steps []CoachingStep) (telling, bool) {
	var out telling
	gap, found := 0, false
	for _, st := range steps {
		if !st.OnBestPath {
			continue
		}
		step := v.Steps[st.StepID]
		var best, tempting CoachingChoice
		bestPts, tempPts, hasBest, hasOther := 0, 0, false, false
		for i, c := range st.Choices {
			pts := step.Choices[i].Points.Total()
			switch {
			case c.Recommended:
				best, bestPts, hasBest = c, pts, true
			case !hasOther || pts > tempPts:
				tempting, tempPts, hasOther = c, pts, true
			}
		}
		if hasBest && hasOther && (!found || bestPts-tempPts < gap) {
			out, gap, found = telling{step: st, best: best, tempting: tempting}, bestPts-tempPts, true
		}
	}
	return out, found
}

// sentence says what the team tends to do at the telling step.
func (t telling) sentence() string {
	where := fmt.Sprintf("At step %d (%s)", t.step.Position, quote(gist(t.step.Text, 12)))
	if t.tempShare == t.bestShare {
		return fmt.Sprintf("%s, the team split evenly between %s and the best move, %s (about %d%% each).",
			where, quote(gist(t.tempting.Text, 16)), quote(gist(t.best.Text, 16)), t.bestShare)
	}
	if t.tempShare > t.bestShare {
		who := "most of the team"
		if t.tempShare <= 50 {
			who = "the team most often"
		}
		return fmt.Sprintf("%s, %s chose %s (about %d%%); the best move was %s (about %d%%).",
			where, who, quote(gist(t.tempting.Text, 16)), t.tempShare, quote(gist(t.best.Text, 16)), t.bestShare)
	}
	return fmt.Sprintf("The team most often took the best move at every step shown; the closest call was step %d (%s), "+
		"where %s drew about %d%% against about %d%% for the best move, %s.",
		t.step.Position, quote(gist(t.step.Text, 12)), quote(gist(t.tempting.Text, 16)), t.tempShare, t.bestShare, quote(gist(t.best.Text, 16)))
}

// questions are two or three one-to-one questions about the telling
// step, from its text, the tempting move's feedback and the recommended
// move: open questions that ask for the member's own reasoning and
// experience, never what they chose.
func questions(v *quizzes.Variant, t telling) []string {
	situation := quote(gist(t.step.Text, 12))
	tempting := quote(gist(t.tempting.Text, 16))
	out := []string{fmt.Sprintf("In step %d (%s), what would make %s feel like the right move, and what would it cost?",
		t.step.Position, situation, tempting)}
	if c, ok := v.Steps[t.step.StepID].Choice(t.tempting.ID); ok {
		if why := firstSentence(c.Feedback.Unconditional()); why != "" {
			out = append(out, fmt.Sprintf("The scenario says of that move: %s When have you seen that happen in our own work?", quote(why)))
		}
	}
	out = append(out, fmt.Sprintf("The recommended move was %s. When could you do that in a real situation this month, and what would get in the way?",
		quote(gist(t.best.Text, 16))))
	return out
}

// gist is the first sentence of a text up to any semicolon, cut to at
// most words words.
func gist(s string, words int) string {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, "; "); i > 0 {
		s = s[:i]
	}
	s = firstSentence(s)
	s = strings.TrimRight(s, ".,")
	f := strings.Fields(s)
	if len(f) <= words {
		return strings.Join(f, " ")
	}
	return strings.TrimRight(strings.Join(f[:words], " "), ".,;:") + "…"
}

// firstSentence is s up to its first full stop, question or exclamation
// mark followed by a space (or the end), so "8:40" and "e.g." mid-word
// stay whole.
func firstSentence(s string) string {
	s = strings.TrimSpace(s)
	for i, r := range s {
		if r != '.' && r != '?' && r != '!' {
			continue
		}
		next := i + utf8.RuneLen(r)
		if next == len(s) || s[next] == ' ' {
			return s[:next]
		}
	}
	return s
}

func quote(s string) string { return "“" + s + "”" }

// courseScenarios lists the current scenarios in course order: module by
// module as the course orders them, then any whose module the course does
// not name (none ship).
func (s *Service) courseScenarios() []*quizzes.Scenario {
	out := make([]*quizzes.Scenario, 0, len(s.catalog.All()))
	seen := map[string]bool{}
	for _, m := range s.course.Modules {
		for _, sc := range s.catalog.ForModule(m.Slug) {
			out = append(out, sc)
			seen[sc.Slug] = true
		}
	}
	for _, sc := range s.catalog.All() {
		if !seen[sc.Slug] {
			out = append(out, sc)
		}
	}
	return out
}
