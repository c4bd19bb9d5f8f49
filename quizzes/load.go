package quizzes

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"path"
	"regexp"
	"slices"
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

// endStep is the route target that ends the scenario.
const endStep = "end"

// LoadAll loads every *.yaml scenario in fsys and holds each to the
// course's bar (Check). modules is the set of module slugs a scenario may
// name (nil accepts any). It returns contentfile.Problems listing
// everything wrong.
func LoadAll(fsys fs.FS, modules map[string]bool) ([]*Scenario, error) {
	reports, problems := CheckAll(fsys, modules)
	if len(problems) > 0 {
		return nil, problems
	}
	out := make([]*Scenario, len(reports))
	for i, r := range reports {
		out[i] = r.Scenario
	}
	return out, nil
}

// CheckAll reads every *.yaml scenario in fsys: a report for each file
// whose structure parses (so an author sees every path's outcome even
// while a check fails), and every problem of every file.
func CheckAll(fsys fs.FS, modules map[string]bool) ([]Report, contentfile.Problems) {
	files, _ := fs.Glob(fsys, "*.yaml")
	sort.Strings(files)
	var all contentfile.Problems
	var out []Report
	seen := map[string]string{}
	for _, f := range files {
		src, err := fs.ReadFile(fsys, f)
		if err != nil {
			all.Add(f, 1, "cannot read: %v", err)
			continue
		}
		sc, err := parse(f, src, modules)
		if err != nil {
			all = append(all, err.(contentfile.Problems)...)
			continue
		}
		if prev, dup := seen[sc.Slug]; dup {
			all.Add(f, 1, "duplicate scenario slug %q (also %s)", sc.Slug, prev)
			continue
		}
		seen[sc.Slug] = f
		rep := Check(sc)
		all = append(all, rep.Problems...)
		out = append(out, rep)
	}
	return out, all
}

// Parse loads one scenario file and holds it to the course's bar: the
// structure, and every check of check.go over every path of every variant.
// It returns contentfile.Problems listing everything wrong.
func Parse(file string, src []byte, modules map[string]bool) (*Scenario, error) {
	sc, err := parse(file, src, modules)
	if err != nil {
		return nil, err
	}
	if p := Check(sc).Problems; len(p) > 0 {
		return nil, p
	}
	return sc, nil
}

// ParseStored reads a version an attempt is pinned to, as it was stored: it
// passed the checks of its day, so only its structure is checked again
// (format 1, before state and variants, included).
func ParseStored(file string, src []byte) (*Scenario, error) {
	return parse(file, src, nil)
}

// parse reads a scenario's structure: fields, state, conditions, graph and
// variants, resolved. It does not enumerate paths.
func parse(file string, src []byte, modules map[string]bool) (*Scenario, error) {
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
	sc := &Scenario{Version: hex.EncodeToString(sum[:8]), Source: src, File: file}
	top := fields(&p, file, root.Content[0], "slug", "module", "title", "pass_percent", "max_attempts", "cooldown", "intro",
		"measurement_note", "state", "variants", "start", "steps", "endings")
	sc.Slug = str(top["slug"])
	sc.Module = str(top["module"])
	sc.Title = str(top["title"])
	sc.Intro = strings.TrimSpace(str(top["intro"]))
	sc.MeasurementNote = strings.TrimSpace(str(top["measurement_note"]))
	sc.Format1 = top["variants"] == nil

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
	} else if !sc.Format1 && strings.ContainsAny(sc.Title, "{}") {
		p.Add(file, contentfile.NodeLine(top["title"], 0, 1), "the title is shown before a variant is chosen: it cannot use {parameters}")
	}
	if sc.Intro == "" {
		p.Add(file, contentfile.NodeLine(top["intro"], 0, 1), "missing intro")
	} else if !sc.Format1 && strings.ContainsAny(sc.Intro, "{}") {
		p.Add(file, contentfile.NodeLine(top["intro"], 0, 1), "the intro is shown before a variant is chosen: it cannot use {parameters}")
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
	sc.state = parseState(&p, file, top["state"])

	r := &reader{p: &p, file: file, state: sc.state, format1: sc.Format1}
	base := &Variant{Scenario: sc, Start: str(top["start"]), Steps: map[string]*Step{}}
	choiceIDs := map[string]int{}
	if n := top["steps"]; n == nil || n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.Add(file, contentfile.NodeLine(n, 0, 1), "steps must be a non-empty list")
	} else {
		for _, sn := range n.Content {
			st := r.step(sn, choiceIDs)
			if st == nil {
				continue
			}
			if _, dup := base.Steps[st.ID]; dup {
				p.Add(file, st.line, "duplicate step id %q", st.ID)
				continue
			}
			base.Steps[st.ID] = st
			base.StepOrder = append(base.StepOrder, st.ID)
		}
	}
	if n := top["endings"]; n == nil || n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.Add(file, contentfile.NodeLine(n, 0, 1), "endings must be a non-empty list")
	} else {
		base.Endings = r.endings(n, base.Steps)
	}
	if len(p) > 0 {
		return nil, p
	}
	if sc.Format1 {
		base.Title = sc.Title // its only situation is the scenario itself
		sc.Variants = []*Variant{base}
	} else {
		sc.Variants = r.variants(top["variants"], base, choiceIDs)
	}
	if len(p) > 0 {
		return nil, unique(p)
	}
	for _, v := range sc.Variants {
		checkGraph(&p, v, contentfile.NodeLine(top["start"], 0, 1))
	}
	if len(p) > 0 {
		return nil, p
	}
	for _, v := range sc.Variants {
		if !v.computeNodes() {
			p.Add(file, max(v.line, 1), "variant %q reaches more than %d (step, state) pairs: the checker cannot prove its endings; use fewer independent flags or split the scenario", v.ID, MaxNodes)
		}
	}
	if len(p) > 0 {
		return nil, p
	}
	return sc, nil
}

// unique drops repeated problems (a base text resolved in every variant
// reports the same thing once per variant).
func unique(p contentfile.Problems) contentfile.Problems {
	seen := map[string]bool{}
	out := p[:0]
	for _, s := range p {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// parseState reads the declared state: a flag is name: true|false, a meter
// is name: {min, max, start}.
func parseState(p *contentfile.Problems, file string, n *yaml.Node) *schema {
	var vars []stateVar
	if n == nil {
		return newSchema(nil)
	}
	if n.Kind != yaml.MappingNode {
		p.Add(file, n.Line, "state must map names to a flag (true or false) or a meter ({min, max, start})")
		return newSchema(nil)
	}
	plain, groups := map[string]bool{}, map[string]bool{}
	for _, kv := range pairs(p, file, n) {
		k, val := kv[0], kv[1]
		v := stateVar{Name: k.Value, line: k.Line}
		switch {
		case !stateName.MatchString(v.Name):
			p.Add(file, k.Line, "state name %q must be lowercase words joined by _, with at most one group prefix (trust.ewan)", v.Name)
			continue
		case reservedName(v.Name):
			p.Add(file, k.Line, "state name %q is reserved (percent, passed, vision, alignment, inspiration and end mean the result)", v.Name)
			continue
		}
		group, _, nested := strings.Cut(v.Name, ".")
		if nested && plain[group] || !nested && groups[v.Name] {
			p.Add(file, k.Line, "%q is used both as a state name and as a group of names", group)
			continue
		}
		plain[v.Name], groups[group] = !nested, groups[group] || nested
		switch {
		case val.Kind == yaml.ScalarNode && (val.Value == "true" || val.Value == "false"):
			v.Flag, v.Max = true, 1
			if val.Value == "true" {
				v.Start = 1
			}
		case val.Kind == yaml.MappingNode:
			f := fields(p, file, val, "min", "max", "start")
			v.Min = intField(p, file, f["min"], v.Name+" min", -100, 100, true)
			v.Max = intField(p, file, f["max"], v.Name+" max", -100, 100, true)
			v.Start = intField(p, file, f["start"], v.Name+" start", -100, 100, true)
			if v.Min >= v.Max || v.Start < v.Min || v.Start > v.Max {
				p.Add(file, val.Line, "meter %s needs min < max and a start between them", v.Name)
			}
		default:
			p.Add(file, val.Line, "state %s must be a flag (true or false) or a meter ({min, max, start})", v.Name)
			continue
		}
		vars = append(vars, v)
	}
	return newSchema(vars)
}

// reader parses the parts of one file, recording problems as it goes.
type reader struct {
	p       *contentfile.Problems
	file    string
	state   *schema
	format1 bool
}

func (r *reader) add(line int, format string, args ...any) { r.p.Add(r.file, line, format, args...) }

// cond compiles a condition field; nil when absent.
func (r *reader) cond(n *yaml.Node, forEnding bool) *Cond {
	if n == nil {
		return nil
	}
	if r.format1 {
		r.add(n.Line, "conditions need format 2: declare variants")
		return nil
	}
	src := str(n)
	if src == "" {
		r.add(n.Line, "a condition must be an expression such as trust.ewan >= 5")
		return nil
	}
	c, err := r.state.compile(src, forEnding)
	if err != nil {
		r.add(n.Line, "%v", err)
		return nil
	}
	return c
}

// text reads a string, or a list of fragments {text, when, assumes}; an
// ending's fragments (forEnding) may also name the result.
func (r *reader) text(n *yaml.Node, forEnding ...bool) Text {
	ending := len(forEnding) > 0 && forEnding[0]
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		if s := strings.TrimSpace(n.Value); s != "" {
			return Text{{Text: s, line: n.Line}}
		}
		return nil
	}
	if n.Kind != yaml.SequenceNode || r.format1 {
		r.add(n.Line, "text must be a string or a list of fragments {text, when, assumes}")
		return nil
	}
	var out Text
	for _, fn := range n.Content {
		f := fields(r.p, r.file, fn, "text", "when", "assumes")
		fr := Fragment{Text: strings.TrimSpace(str(f["text"])), When: r.cond(f["when"], ending), Assumes: r.cond(f["assumes"], ending), line: fn.Line}
		if fr.Text == "" {
			r.add(fn.Line, "a fragment needs text")
			continue
		}
		out = append(out, fr)
	}
	return out
}

func (r *reader) step(n *yaml.Node, choiceIDs map[string]int) *Step {
	f := fields(r.p, r.file, n, "id", "text", "assumes", "choices")
	st := &Step{ID: str(f["id"]), Text: r.text(f["text"]), Assumes: r.cond(f["assumes"], false), line: n.Line}
	if !idPattern.MatchString(st.ID) || st.ID == endStep {
		r.add(st.line, "step id %q must be lowercase words joined by hyphens, and not %q", st.ID, endStep)
		return nil
	}
	if len(st.Text) == 0 {
		r.add(st.line, "step %q has no text", st.ID)
	}
	cn := f["choices"]
	if cn == nil || cn.Kind != yaml.SequenceNode {
		r.add(st.line, "step %q has no choices", st.ID)
		return st
	}
	if len(cn.Content) < minChoices || (r.format1 && len(cn.Content) > maxChoices) {
		r.add(cn.Line, "step %q has %d choices; a step needs %d to %d", st.ID, len(cn.Content), minChoices, maxChoices)
	}
	for _, c := range cn.Content {
		cf := fields(r.p, r.file, c, "id", "text", "when", "feedback", "points", "effects", "next", "ending")
		ch := &Choice{ID: str(cf["id"]), Text: strings.TrimSpace(str(cf["text"])), When: r.cond(cf["when"], false),
			Feedback: r.text(cf["feedback"]), line: c.Line}
		if !idPattern.MatchString(ch.ID) {
			r.add(ch.line, "choice id %q must be lowercase words joined by hyphens", ch.ID)
		} else if prev, dup := choiceIDs[ch.ID]; dup {
			r.add(ch.line, "duplicate choice id %q (also line %d)", ch.ID, prev)
		}
		choiceIDs[ch.ID] = ch.line
		if ch.Text == "" {
			r.add(ch.line, "choice %q has no text", ch.ID)
		}
		if len(ch.Feedback) == 0 {
			r.add(ch.line, "choice %q has no feedback: say why the move works or backfires", ch.ID)
		}
		if pn := cf["points"]; pn == nil {
			r.add(ch.line, "choice %q has no points", ch.ID)
		} else {
			ch.Points = r.points(pn)
		}
		ch.Effects = r.effects(cf["effects"])
		switch {
		case r.format1 && (cf["next"] == nil) == (cf["ending"] == nil):
			r.add(ch.line, "choice %q needs exactly one of next or ending", ch.ID)
		case r.format1 && cf["ending"] != nil:
			ch.Ending = str(cf["ending"])
		case cf["ending"] != nil:
			r.add(cf["ending"].Line, "choice %q names an ending: in format 2 a choice leads to a step or to end, and the endings' conditions choose", ch.ID)
		case cf["next"] == nil:
			r.add(ch.line, "choice %q needs next: a step, end, or a list of routes", ch.ID)
		default:
			ch.Next = r.routes(cf["next"], ch.ID)
		}
		st.Choices = append(st.Choices, ch)
	}
	return st
}

func (r *reader) points(pn *yaml.Node) Points {
	var out Points
	if pn.Kind != yaml.MappingNode {
		r.add(pn.Line, "points must map skills to whole numbers")
		return out
	}
	for _, kv := range pairs(r.p, r.file, pn) {
		k, v := kv[0], kv[1]
		if !isSkill(k.Value) {
			r.add(k.Line, "unknown skill %q (skills are vision, alignment, inspiration)", k.Value)
			continue
		}
		val, err := strconv.Atoi(v.Value)
		if err != nil || val < -10 || val > 10 {
			r.add(v.Line, "points for %s must be a whole number from -10 to 10", k.Value)
			continue
		}
		out.set(k.Value, val)
	}
	return out
}

// effects reads {set: {name: value}, add: {meter: n}}.
func (r *reader) effects(n *yaml.Node) []Effect {
	if n == nil {
		return nil
	}
	if r.format1 {
		r.add(n.Line, "effects need format 2: declare variants")
		return nil
	}
	var out []Effect
	f := fields(r.p, r.file, n, "set", "add")
	for _, op := range []string{"set", "add"} {
		m := f[op]
		if m == nil {
			continue
		}
		if m.Kind != yaml.MappingNode {
			r.add(m.Line, "%s must map state names to values", op)
			continue
		}
		for _, kv := range pairs(r.p, r.file, m) {
			k, v := kv[0], kv[1]
			idx, ok := r.state.index[k.Value]
			if !ok {
				r.add(k.Line, "no such state %q", k.Value)
				continue
			}
			sv := r.state.vars[idx]
			e := Effect{Var: idx, Add: op == "add"}
			switch {
			case sv.Flag && e.Add:
				r.add(k.Line, "%s is a flag: set it to true or false", k.Value)
				continue
			case sv.Flag && (v.Value == "true" || v.Value == "false"):
				if v.Value == "true" {
					e.Value = 1
				}
			case sv.Flag:
				r.add(v.Line, "%s is a flag: set it to true or false", k.Value)
				continue
			default:
				n, err := strconv.Atoi(v.Value)
				if err != nil || n < -100 || n > 100 {
					r.add(v.Line, "%s %s needs a whole number", op, k.Value)
					continue
				}
				if !e.Add && (n < sv.Min || n > sv.Max) {
					r.add(v.Line, "set %s to %d: outside its range %d to %d", k.Value, n, sv.Min, sv.Max)
					continue
				}
				e.Value = n
			}
			out = append(out, e)
		}
	}
	return out
}

// routes reads next: a step id, end, or a list of {when, to}; the last
// route has no condition, so every state leads somewhere.
func (r *reader) routes(n *yaml.Node, choiceID string) []Route {
	target := func(n *yaml.Node) string {
		s := str(n)
		if s == "" {
			r.add(contentfile.NodeLine(n, 0, 1), "choice %q: a route needs a step id or end", choiceID)
		}
		if s == endStep && !r.format1 {
			return ""
		}
		return s
	}
	if n.Kind == yaml.ScalarNode {
		return []Route{{To: target(n), line: n.Line}}
	}
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 || r.format1 {
		r.add(n.Line, "next must be a step id, end, or a list of routes {when, to}")
		return nil
	}
	var out []Route
	for i, rn := range n.Content {
		f := fields(r.p, r.file, rn, "when", "to")
		if f["to"] == nil {
			r.add(rn.Line, "a route needs to: a step id or end")
			continue
		}
		rt := Route{When: r.cond(f["when"], false), To: target(f["to"]), line: rn.Line}
		if last := i == len(n.Content)-1; last != (f["when"] == nil) {
			r.add(rn.Line, "choice %q: every route but the last needs when, and the last has none (it is where every other state goes)", choiceID)
		}
		out = append(out, rt)
	}
	return out
}

func (r *reader) endings(n *yaml.Node, steps map[string]*Step) []*Ending {
	var out []*Ending
	seen := map[string]bool{}
	for i, en := range n.Content {
		f := fields(r.p, r.file, en, "id", "title", "text", "when")
		e := &Ending{ID: str(f["id"]), Title: str(f["title"]), Text: r.text(f["text"], true), When: r.cond(f["when"], true), line: en.Line}
		switch {
		case !idPattern.MatchString(e.ID):
			r.add(e.line, "ending id %q must be lowercase words joined by hyphens", e.ID)
			continue
		case steps[e.ID] != nil:
			r.add(e.line, "ending id %q is also a step id", e.ID)
		case seen[e.ID]:
			r.add(e.line, "duplicate ending id %q", e.ID)
		}
		seen[e.ID] = true
		if e.Title == "" || len(e.Text) == 0 {
			r.add(e.line, "ending %q needs a title and a text", e.ID)
		}
		if last := i == len(n.Content)-1; !r.format1 && last != (f["when"] == nil) {
			r.add(e.line, "ending %q: every ending but the last needs when, and the last has none (the fallback)", e.ID)
		}
		out = append(out, e)
	}
	return out
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
// route leads to a step of the variant or to the end.
func checkGraph(p *contentfile.Problems, v *Variant, startLine int) {
	file := v.Scenario.File
	if v.Steps[v.Start] == nil {
		p.Add(file, startLine, "start %q is not a step", v.Start)
		return
	}
	for _, id := range v.StepOrder {
		for _, c := range v.Steps[id].Choices {
			for _, rt := range c.Next {
				if rt.To != "" && v.Steps[rt.To] == nil {
					p.Add(file, rt.line, "choice %q leads to unknown step %q", c.ID, rt.To)
				}
			}
			if c.Ending != "" && v.ending(c.Ending) == nil {
				p.Add(file, c.line, "choice %q leads to unknown ending %q", c.ID, c.Ending)
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
	var visit func(id string)
	visit = func(id string) {
		state[id] = onPath
		for _, c := range v.Steps[id].Choices {
			for _, rt := range c.Next {
				switch state[rt.To] {
				case onPath:
					p.Add(file, rt.line, "choice %q leads back to step %q: scenarios must not loop", c.ID, rt.To)
				case unseen:
					if rt.To != "" {
						visit(rt.To)
					}
				}
			}
		}
		state[id] = done
	}
	visit(v.Start)
	if v.Scenario.Format1 {
		for _, id := range v.StepOrder {
			if state[id] == unseen {
				p.Add(file, v.Steps[id].line, "step %q cannot be reached from start", id)
			}
		}
	}
}

const minInt = -1 << 31

// pairs is a mapping node's key and value nodes, reporting a key written
// twice (YAML would otherwise keep both, and the second would silently
// win or split a name in two).
func pairs(p *contentfile.Problems, file string, n *yaml.Node) [][2]*yaml.Node {
	var out [][2]*yaml.Node
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if prev, dup := seen[k.Value]; dup {
			p.Add(file, k.Line, "%q is written twice (also line %d)", k.Value, prev)
			continue
		}
		seen[k.Value] = k.Line
		out = append(out, [2]*yaml.Node{k, n.Content[i+1]})
	}
	return out
}

// fields reads a mapping node, reporting keys outside allowed.
func fields(p *contentfile.Problems, file string, n *yaml.Node, allowed ...string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	if n.Kind != yaml.MappingNode {
		p.Add(file, n.Line, "expected a mapping with keys %s", strings.Join(allowed, ", "))
		return out
	}
	for _, kv := range pairs(p, file, n) {
		k := kv[0]
		if !slices.Contains(allowed, k.Value) {
			p.Add(file, k.Line, "unknown field %q (allowed: %s)", k.Value, strings.Join(allowed, ", "))
			continue
		}
		out[k.Value] = kv[1]
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
