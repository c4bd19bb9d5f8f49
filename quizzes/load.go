package quizzes

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/baton-course/baton/server/contentfile"
	"go.yaml.in/yaml/v3"
)

var idPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Choices per step: fewer is no decision, more overwhelms.
const (
	minChoices = 2
	maxChoices = 4
)

// LoadAll loads every *.yaml scenario in fsys. modules is the set of module
// slugs a scenario may name (nil accepts any). It returns contentfile.Problems
// listing everything wrong.
func LoadAll(fsys fs.FS, modules map[string]bool) ([]*Scenario, error) {
	files, _ := fs.Glob(fsys, "*.yaml")
	sort.Strings(files)
	var all contentfile.Problems
	var out []*Scenario
	seen := map[string]string{}
	for _, f := range files {
		src, err := fs.ReadFile(fsys, f)
		if err != nil {
			all.Add(f, 1, "cannot read: %v", err)
			continue
		}
		sc, err := Parse(f, src, modules)
		if err != nil {
			all = append(all, err.(contentfile.Problems)...)
			continue
		}
		if prev, dup := seen[sc.Slug]; dup {
			all.Add(f, 1, "duplicate scenario slug %q (also %s)", sc.Slug, prev)
			continue
		}
		seen[sc.Slug] = f
		out = append(out, sc)
	}
	if len(all) > 0 {
		return nil, all
	}
	return out, nil
}

// Parse loads and validates one scenario file. It returns
// contentfile.Problems listing everything wrong.
func Parse(file string, src []byte, modules map[string]bool) (*Scenario, error) {
	var p contentfile.Problems
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		p.Add(file, contentfile.ErrorLine(err, 0), "invalid YAML: %s", contentfile.ErrorText(err))
		return nil, p
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		p.Add(file, 1, "a scenario must be a YAML mapping")
		return nil, p
	}
	sum := sha256.Sum256(src)
	sc := &Scenario{
		Steps: map[string]*Step{}, Endings: map[string]*Ending{},
		Version: hex.EncodeToString(sum[:8]), Source: src, File: file,
	}
	top := fields(&p, file, root.Content[0], "slug", "module", "title", "pass_percent", "max_attempts", "cooldown", "intro", "start", "steps", "endings")
	sc.Slug = str(top["slug"])
	sc.Module = str(top["module"])
	sc.Title = str(top["title"])
	sc.Intro = strings.TrimSpace(str(top["intro"]))
	sc.Start = str(top["start"])

	switch want := strings.TrimSuffix(path.Base(file), ".yaml"); {
	case !idPattern.MatchString(sc.Slug):
		p.Add(file, contentfile.NodeLine(top["slug"], 0, 1), "slug %q must be lowercase words joined by hyphens", sc.Slug)
	case sc.Slug != want:
		p.Add(file, contentfile.NodeLine(top["slug"], 0, 1), "slug %q must match the file name %q", sc.Slug, want)
	}
	if sc.Module == "" {
		p.Add(file, contentfile.NodeLine(top["module"], 0, 1), "missing module")
	} else if modules != nil && !modules[sc.Module] {
		p.Add(file, contentfile.NodeLine(top["module"], 0, 1), "unknown module %q", sc.Module)
	}
	if sc.Title == "" {
		p.Add(file, contentfile.NodeLine(top["title"], 0, 1), "missing title")
	}
	if sc.Intro == "" {
		p.Add(file, contentfile.NodeLine(top["intro"], 0, 1), "missing intro")
	}
	sc.PassPercent = intField(&p, file, top["pass_percent"], "pass_percent", 1, 100, true)
	if n := top["max_attempts"]; n != nil && n.Tag != "!!null" {
		v := intField(&p, file, n, "max_attempts", 1, 1000, true)
		sc.MaxAttempts = &v
	}
	if n := top["cooldown"]; n != nil {
		d, err := time.ParseDuration(n.Value)
		if err != nil || d < 0 {
			p.Add(file, n.Line, "cooldown %q must be a duration such as 10m or 24h", n.Value)
		}
		sc.Cooldown = d
	}

	choiceIDs := map[string]int{}
	if n := top["steps"]; n == nil || n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.Add(file, contentfile.NodeLine(n, 0, 1), "steps must be a non-empty list")
	} else {
		for _, sn := range n.Content {
			st := parseStep(&p, file, sn, choiceIDs)
			if st == nil {
				continue
			}
			if _, dup := sc.Steps[st.ID]; dup {
				p.Add(file, st.line, "duplicate step id %q", st.ID)
				continue
			}
			sc.Steps[st.ID] = st
			sc.StepOrder = append(sc.StepOrder, st.ID)
		}
	}
	if n := top["endings"]; n == nil || n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.Add(file, contentfile.NodeLine(n, 0, 1), "endings must be a non-empty list")
	} else {
		for _, en := range n.Content {
			f := fields(&p, file, en, "id", "title", "text")
			e := &Ending{ID: str(f["id"]), Title: str(f["title"]), Text: strings.TrimSpace(str(f["text"])), line: en.Line}
			switch {
			case !idPattern.MatchString(e.ID):
				p.Add(file, e.line, "ending id %q must be lowercase words joined by hyphens", e.ID)
				continue
			case sc.Steps[e.ID] != nil:
				p.Add(file, e.line, "ending id %q is also a step id", e.ID)
			case sc.Endings[e.ID] != nil:
				p.Add(file, e.line, "duplicate ending id %q", e.ID)
			}
			if e.Title == "" || e.Text == "" {
				p.Add(file, e.line, "ending %q needs a title and a text", e.ID)
			}
			sc.Endings[e.ID] = e
		}
	}
	if len(p) > 0 {
		return nil, p
	}
	checkGraph(&p, sc, contentfile.NodeLine(top["start"], 0, 1))
	if len(p) > 0 {
		return nil, p
	}
	computeBest(sc)
	for _, skill := range Skills {
		if sc.BestSkills.Get(skill) <= 0 {
			p.Add(file, contentfile.NodeLine(top["steps"], 0, 1), "no path earns any %s points, so that skill cannot be scored", skill)
		}
	}
	if sc.BestTotal <= 0 {
		p.Add(file, contentfile.NodeLine(top["steps"], 0, 1), "the best path earns no points")
	}
	if len(p) > 0 {
		return nil, p
	}
	return sc, nil
}

func parseStep(p *contentfile.Problems, file string, n *yaml.Node, choiceIDs map[string]int) *Step {
	f := fields(p, file, n, "id", "text", "choices")
	st := &Step{ID: str(f["id"]), Text: strings.TrimSpace(str(f["text"])), line: n.Line}
	if !idPattern.MatchString(st.ID) {
		p.Add(file, st.line, "step id %q must be lowercase words joined by hyphens", st.ID)
		return nil
	}
	if st.Text == "" {
		p.Add(file, st.line, "step %q has no text", st.ID)
	}
	cn := f["choices"]
	if cn == nil || cn.Kind != yaml.SequenceNode {
		p.Add(file, st.line, "step %q has no choices", st.ID)
		return st
	}
	if len(cn.Content) < minChoices || len(cn.Content) > maxChoices {
		p.Add(file, cn.Line, "step %q has %d choices; a step needs %d to %d", st.ID, len(cn.Content), minChoices, maxChoices)
	}
	for _, c := range cn.Content {
		cf := fields(p, file, c, "id", "text", "feedback", "points", "next", "ending")
		ch := Choice{ID: str(cf["id"]), Text: strings.TrimSpace(str(cf["text"])), Feedback: strings.TrimSpace(str(cf["feedback"])),
			Next: str(cf["next"]), Ending: str(cf["ending"]), line: c.Line}
		if !idPattern.MatchString(ch.ID) {
			p.Add(file, ch.line, "choice id %q must be lowercase words joined by hyphens", ch.ID)
		} else if prev, dup := choiceIDs[ch.ID]; dup {
			p.Add(file, ch.line, "duplicate choice id %q (also line %d)", ch.ID, prev)
		}
		choiceIDs[ch.ID] = ch.line
		if ch.Text == "" {
			p.Add(file, ch.line, "choice %q has no text", ch.ID)
		}
		if ch.Feedback == "" {
			p.Add(file, ch.line, "choice %q has no feedback: say why the move works or backfires", ch.ID)
		}
		if (ch.Next == "") == (ch.Ending == "") {
			p.Add(file, ch.line, "choice %q needs exactly one of next or ending", ch.ID)
		}
		if pn := cf["points"]; pn == nil {
			p.Add(file, ch.line, "choice %q has no points", ch.ID)
		} else if pn.Kind != yaml.MappingNode {
			p.Add(file, pn.Line, "points must map skills to whole numbers")
		} else {
			for i := 0; i+1 < len(pn.Content); i += 2 {
				k, v := pn.Content[i], pn.Content[i+1]
				if !isSkill(k.Value) {
					p.Add(file, k.Line, "unknown skill %q (skills are vision, alignment, inspiration)", k.Value)
					continue
				}
				val, err := strconv.Atoi(v.Value)
				if err != nil || val < -10 || val > 10 {
					p.Add(file, v.Line, "points for %s must be a whole number from -10 to 10", k.Value)
					continue
				}
				ch.Points.set(k.Value, val)
			}
		}
		st.Choices = append(st.Choices, ch)
	}
	return st
}

func isSkill(s string) bool {
	for _, k := range Skills {
		if k == s {
			return true
		}
	}
	return false
}

// checkGraph requires a directed acyclic graph from start in which every
// step and ending is reachable and every target exists.
func checkGraph(p *contentfile.Problems, sc *Scenario, startLine int) {
	if sc.Steps[sc.Start] == nil {
		p.Add(sc.File, startLine, "start %q is not a step", sc.Start)
		return
	}
	for _, id := range sc.StepOrder {
		for _, c := range sc.Steps[id].Choices {
			if c.Next != "" && sc.Steps[c.Next] == nil {
				p.Add(sc.File, c.line, "choice %q leads to unknown step %q", c.ID, c.Next)
			}
			if c.Ending != "" && sc.Endings[c.Ending] == nil {
				p.Add(sc.File, c.line, "choice %q leads to unknown ending %q", c.ID, c.Ending)
			}
		}
	}
	if len(*p) > 0 {
		return
	}
	// Depth-first search from start: a step met again while on the current
	// path closes a cycle.
	const (
		unseen = iota
		onPath
		done
	)
	state := map[string]int{}
	reachedEnding := map[string]bool{}
	var visit func(id string)
	visit = func(id string) {
		state[id] = onPath
		for _, c := range sc.Steps[id].Choices {
			if c.Ending != "" {
				reachedEnding[c.Ending] = true
				continue
			}
			switch state[c.Next] {
			case onPath:
				p.Add(sc.File, c.line, "choice %q leads back to step %q: scenarios must not loop", c.ID, c.Next)
			case unseen:
				visit(c.Next)
			}
		}
		state[id] = done
	}
	visit(sc.Start)
	for _, id := range sc.StepOrder {
		if state[id] == unseen {
			p.Add(sc.File, sc.Steps[id].line, "step %q cannot be reached from start", id)
		}
	}
	for id, e := range sc.Endings {
		if !reachedEnding[id] {
			p.Add(sc.File, e.line, "ending %q cannot be reached", id)
		}
	}
	// With every target valid and no cycle, every path ends; a step without
	// choices (a dead end) was already reported by the choice count.
}

// computeBest finds, over all paths, the best total and the most each skill
// can earn, by dynamic programming over the acyclic graph.
func computeBest(sc *Scenario) {
	type best struct {
		total int
		path  []string
	}
	memo := map[string]best{}
	skillMemo := map[string]Points{}
	var walk func(id string) best
	var walkSkills func(id string) Points
	walk = func(id string) best {
		if b, ok := memo[id]; ok {
			return b
		}
		b := best{total: minInt}
		for _, c := range sc.Steps[id].Choices {
			t, rest := c.Points.Total(), []string(nil)
			if c.Next != "" {
				nb := walk(c.Next)
				t, rest = t+nb.total, nb.path
			}
			if t > b.total {
				b = best{t, append([]string{c.ID}, rest...)}
			}
		}
		memo[id] = b
		return b
	}
	walkSkills = func(id string) Points {
		if s, ok := skillMemo[id]; ok {
			return s
		}
		var out Points
		for i, skill := range Skills {
			m := minInt
			for _, c := range sc.Steps[id].Choices {
				v := c.Points.Get(skill)
				if c.Next != "" {
					v += walkSkills(c.Next).Get(skill)
				}
				m = max(m, v)
			}
			out.set(Skills[i], m)
		}
		skillMemo[id] = out
		return out
	}
	b := walk(sc.Start)
	sc.BestTotal, sc.BestPath = b.total, b.path
	sc.BestSkills = walkSkills(sc.Start)
	var longest func(id string) int
	longest = func(id string) int {
		st := sc.Steps[id]
		if st.Longest == 0 {
			for _, c := range st.Choices {
				n := 1
				if c.Next != "" {
					n += longest(c.Next)
				}
				st.Longest = max(st.Longest, n)
			}
		}
		return st.Longest
	}
	for id, st := range sc.Steps {
		longest(id)
		st.BestFrom = walk(id).total
	}
}

const minInt = -1 << 31

// fields reads a mapping node, reporting keys outside allowed.
func fields(p *contentfile.Problems, file string, n *yaml.Node, allowed ...string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	if n.Kind != yaml.MappingNode {
		p.Add(file, n.Line, "expected a mapping with keys %s", strings.Join(allowed, ", "))
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		ok := false
		for _, a := range allowed {
			ok = ok || a == k.Value
		}
		if !ok {
			p.Add(file, k.Line, "unknown field %q (allowed: %s)", k.Value, strings.Join(allowed, ", "))
			continue
		}
		out[k.Value] = n.Content[i+1]
	}
	return out
}

func str(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return strings.TrimSpace(n.Value)
}

func intField(p *contentfile.Problems, file string, n *yaml.Node, name string, lo, hi int, required bool) int {
	if n == nil {
		if required {
			p.Add(file, 1, "missing %s", name)
		}
		return 0
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil || v < lo || v > hi {
		p.Add(file, n.Line, "%s must be a whole number from %d to %d", name, lo, hi)
	}
	return v
}
