package quizzes

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Problems lists everything wrong with the scenarios, each "file:line: message".
type Problems []string

func (p Problems) Error() string {
	return fmt.Sprintf("%d scenario problem(s):\n%s", len(p), strings.Join(p, "\n"))
}

type problems struct {
	file string
	list Problems
}

func (p *problems) add(line int, format string, args ...any) {
	p.list = append(p.list, fmt.Sprintf("%s:%d: %s", p.file, line, fmt.Sprintf(format, args...)))
}

var idPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Choices per step: fewer is no decision, more overwhelms.
const (
	minChoices = 2
	maxChoices = 4
)

// LoadAll loads every *.yaml scenario in fsys. modules is the set of module
// slugs a scenario may name (nil accepts any).
func LoadAll(fsys fs.FS, modules map[string]bool) ([]*Scenario, error) {
	files, _ := fs.Glob(fsys, "*.yaml")
	sort.Strings(files)
	var all Problems
	var out []*Scenario
	seen := map[string]string{}
	for _, f := range files {
		src, err := fs.ReadFile(fsys, f)
		if err != nil {
			all = append(all, fmt.Sprintf("%s:1: cannot read: %v", f, err))
			continue
		}
		sc, err := Parse(f, src, modules)
		if err != nil {
			all = append(all, err.(Problems)...)
			continue
		}
		if prev, dup := seen[sc.Slug]; dup {
			all = append(all, fmt.Sprintf("%s:1: duplicate scenario slug %q (also %s)", f, sc.Slug, prev))
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

// Parse loads and validates one scenario file.
func Parse(file string, src []byte, modules map[string]bool) (*Scenario, error) {
	p := &problems{file: file}
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		p.add(yamlLine(err), "invalid YAML: %s", yamlText(err))
		return nil, p.list
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		p.add(1, "a scenario must be a YAML mapping")
		return nil, p.list
	}
	sum := sha256.Sum256(src)
	sc := &Scenario{
		Steps: map[string]*Step{}, Endings: map[string]*Ending{},
		Version: hex.EncodeToString(sum[:8]), Source: src, File: file,
	}
	top := fields(p, root.Content[0], "slug", "module", "title", "pass_percent", "max_attempts", "cooldown", "intro", "start", "steps", "endings")
	sc.Slug = str(top["slug"])
	sc.Module = str(top["module"])
	sc.Title = str(top["title"])
	sc.Intro = strings.TrimSpace(str(top["intro"]))
	sc.Start = str(top["start"])

	switch want := strings.TrimSuffix(path.Base(file), ".yaml"); {
	case !idPattern.MatchString(sc.Slug):
		p.add(lineOf(top["slug"], 1), "slug %q must be lowercase words joined by hyphens", sc.Slug)
	case sc.Slug != want:
		p.add(lineOf(top["slug"], 1), "slug %q must match the file name %q", sc.Slug, want)
	}
	if sc.Module == "" {
		p.add(lineOf(top["module"], 1), "missing module")
	} else if modules != nil && !modules[sc.Module] {
		p.add(lineOf(top["module"], 1), "unknown module %q", sc.Module)
	}
	if sc.Title == "" {
		p.add(lineOf(top["title"], 1), "missing title")
	}
	if sc.Intro == "" {
		p.add(lineOf(top["intro"], 1), "missing intro")
	}
	sc.PassPercent = intField(p, top["pass_percent"], "pass_percent", 1, 100, true)
	if n := top["max_attempts"]; n != nil && n.Tag != "!!null" {
		v := intField(p, n, "max_attempts", 1, 1000, true)
		sc.MaxAttempts = &v
	}
	if n := top["cooldown"]; n != nil {
		d, err := time.ParseDuration(n.Value)
		if err != nil || d < 0 {
			p.add(n.Line, "cooldown %q must be a duration such as 10m or 24h", n.Value)
		}
		sc.Cooldown = d
	}

	choiceIDs := map[string]int{}
	if n := top["steps"]; n == nil || n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.add(lineOf(n, 1), "steps must be a non-empty list")
	} else {
		for _, sn := range n.Content {
			st := parseStep(p, sn, choiceIDs)
			if st == nil {
				continue
			}
			if _, dup := sc.Steps[st.ID]; dup {
				p.add(st.line, "duplicate step id %q", st.ID)
				continue
			}
			sc.Steps[st.ID] = st
			sc.StepOrder = append(sc.StepOrder, st.ID)
		}
	}
	if n := top["endings"]; n == nil || n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.add(lineOf(n, 1), "endings must be a non-empty list")
	} else {
		for _, en := range n.Content {
			f := fields(p, en, "id", "title", "text")
			e := &Ending{ID: str(f["id"]), Title: str(f["title"]), Text: strings.TrimSpace(str(f["text"])), line: en.Line}
			switch {
			case !idPattern.MatchString(e.ID):
				p.add(e.line, "ending id %q must be lowercase words joined by hyphens", e.ID)
				continue
			case sc.Steps[e.ID] != nil:
				p.add(e.line, "ending id %q is also a step id", e.ID)
			case sc.Endings[e.ID] != nil:
				p.add(e.line, "duplicate ending id %q", e.ID)
			}
			if e.Title == "" || e.Text == "" {
				p.add(e.line, "ending %q needs a title and a text", e.ID)
			}
			sc.Endings[e.ID] = e
		}
	}
	if len(p.list) > 0 {
		return nil, p.list
	}
	checkGraph(p, sc, lineOf(top["start"], 1))
	if len(p.list) > 0 {
		return nil, p.list
	}
	computeBest(sc)
	for _, skill := range Skills {
		if sc.BestSkills.Get(skill) <= 0 {
			p.add(lineOf(top["steps"], 1), "no path earns any %s points, so that skill cannot be scored", skill)
		}
	}
	if sc.BestTotal <= 0 {
		p.add(lineOf(top["steps"], 1), "the best path earns no points")
	}
	if len(p.list) > 0 {
		return nil, p.list
	}
	return sc, nil
}

func parseStep(p *problems, n *yaml.Node, choiceIDs map[string]int) *Step {
	f := fields(p, n, "id", "text", "choices")
	st := &Step{ID: str(f["id"]), Text: strings.TrimSpace(str(f["text"])), line: n.Line}
	if !idPattern.MatchString(st.ID) {
		p.add(st.line, "step id %q must be lowercase words joined by hyphens", st.ID)
		return nil
	}
	if st.Text == "" {
		p.add(st.line, "step %q has no text", st.ID)
	}
	cn := f["choices"]
	if cn == nil || cn.Kind != yaml.SequenceNode {
		p.add(st.line, "step %q has no choices", st.ID)
		return st
	}
	if len(cn.Content) < minChoices || len(cn.Content) > maxChoices {
		p.add(cn.Line, "step %q has %d choices; a step needs %d to %d", st.ID, len(cn.Content), minChoices, maxChoices)
	}
	for _, c := range cn.Content {
		cf := fields(p, c, "id", "text", "feedback", "points", "next", "ending")
		ch := Choice{ID: str(cf["id"]), Text: strings.TrimSpace(str(cf["text"])), Feedback: strings.TrimSpace(str(cf["feedback"])),
			Next: str(cf["next"]), Ending: str(cf["ending"]), line: c.Line}
		if !idPattern.MatchString(ch.ID) {
			p.add(ch.line, "choice id %q must be lowercase words joined by hyphens", ch.ID)
		} else if prev, dup := choiceIDs[ch.ID]; dup {
			p.add(ch.line, "duplicate choice id %q (also line %d)", ch.ID, prev)
		}
		choiceIDs[ch.ID] = ch.line
		if ch.Text == "" {
			p.add(ch.line, "choice %q has no text", ch.ID)
		}
		if ch.Feedback == "" {
			p.add(ch.line, "choice %q has no feedback: say why the move works or backfires", ch.ID)
		}
		if (ch.Next == "") == (ch.Ending == "") {
			p.add(ch.line, "choice %q needs exactly one of next or ending", ch.ID)
		}
		if pn := cf["points"]; pn == nil {
			p.add(ch.line, "choice %q has no points", ch.ID)
		} else if pn.Kind != yaml.MappingNode {
			p.add(pn.Line, "points must map skills to whole numbers")
		} else {
			for i := 0; i+1 < len(pn.Content); i += 2 {
				k, v := pn.Content[i], pn.Content[i+1]
				if !isSkill(k.Value) {
					p.add(k.Line, "unknown skill %q (skills are vision, alignment, inspiration)", k.Value)
					continue
				}
				val, err := strconv.Atoi(v.Value)
				if err != nil || val < -10 || val > 10 {
					p.add(v.Line, "points for %s must be a whole number from -10 to 10", k.Value)
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
func checkGraph(p *problems, sc *Scenario, startLine int) {
	if sc.Steps[sc.Start] == nil {
		p.add(startLine, "start %q is not a step", sc.Start)
		return
	}
	for _, id := range sc.StepOrder {
		for _, c := range sc.Steps[id].Choices {
			if c.Next != "" && sc.Steps[c.Next] == nil {
				p.add(c.line, "choice %q leads to unknown step %q", c.ID, c.Next)
			}
			if c.Ending != "" && sc.Endings[c.Ending] == nil {
				p.add(c.line, "choice %q leads to unknown ending %q", c.ID, c.Ending)
			}
		}
	}
	if len(p.list) > 0 {
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
				p.add(c.line, "choice %q leads back to step %q: scenarios must not loop", c.ID, c.Next)
			case unseen:
				visit(c.Next)
			}
		}
		state[id] = done
	}
	visit(sc.Start)
	for _, id := range sc.StepOrder {
		if state[id] == unseen {
			p.add(sc.Steps[id].line, "step %q cannot be reached from start", id)
		}
	}
	for id, e := range sc.Endings {
		if !reachedEnding[id] {
			p.add(e.line, "ending %q cannot be reached", id)
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
}

const minInt = -1 << 31

// fields reads a mapping node, reporting keys outside allowed.
func fields(p *problems, n *yaml.Node, allowed ...string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	if n.Kind != yaml.MappingNode {
		p.add(n.Line, "expected a mapping with keys %s", strings.Join(allowed, ", "))
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		ok := false
		for _, a := range allowed {
			ok = ok || a == k.Value
		}
		if !ok {
			p.add(k.Line, "unknown field %q (allowed: %s)", k.Value, strings.Join(allowed, ", "))
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

func lineOf(n *yaml.Node, def int) int {
	if n == nil {
		return def
	}
	return n.Line
}

func intField(p *problems, n *yaml.Node, name string, lo, hi int, required bool) int {
	if n == nil {
		if required {
			p.add(1, "missing %s", name)
		}
		return 0
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil || v < lo || v > hi {
		p.add(n.Line, "%s must be a whole number from %d to %d", name, lo, hi)
	}
	return v
}

var yamlLineRe = regexp.MustCompile(`line (\d+): ?`)

func yamlLine(err error) int {
	if m := yamlLineRe.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 1
}

func yamlText(err error) string {
	return strings.TrimSpace(yamlLineRe.ReplaceAllString(strings.TrimPrefix(err.Error(), "yaml: "), ""))
}
