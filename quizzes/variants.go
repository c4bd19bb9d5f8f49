package quizzes

import (
	"maps"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

var (
	paramName   = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	placeholder = regexp.MustCompile(`\{([^{}]*)\}`)
)

// variants reads the variants and resolves each against the base graph:
// overrides applied, then parameters substituted into every text.
func (r *reader) variants(n *yaml.Node, base *Variant, choiceIDs map[string]int) []*Variant {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		r.add(n.Line, "variants must be a non-empty list of {id, title, params, overrides}")
		return nil
	}
	var out []*Variant
	var names []string // the parameter names every variant declares
	used := map[string]bool{}
	for i, vn := range n.Content {
		f := fields(r.p, r.file, vn, "id", "title", "params", "overrides")
		id := str(f["id"])
		if !idPattern.MatchString(id) {
			r.add(vn.Line, "variant id %q must be lowercase words joined by hyphens", id)
			continue
		}
		for _, prev := range out {
			if prev.ID == id {
				r.add(vn.Line, "duplicate variant id %q", id)
			}
		}
		params := map[string]string{}
		if pn := f["params"]; pn != nil {
			if pn.Kind != yaml.MappingNode {
				r.add(pn.Line, "params must map names to text")
			} else {
				for _, kv := range pairs(r.p, r.file, pn) {
					k, val := kv[0], kv[1]
					if !paramName.MatchString(k.Value) {
						r.add(k.Line, "parameter name %q must be lowercase words joined by _", k.Value)
					}
					if val.Kind != yaml.ScalarNode || strings.TrimSpace(val.Value) == "" || strings.ContainsAny(val.Value, "{}") {
						r.add(val.Line, "parameter %s needs plain text", k.Value)
					}
					params[k.Value] = strings.TrimSpace(val.Value)
				}
			}
		}
		keys := slices.Sorted(maps.Keys(params))
		if i == 0 {
			names = keys
		} else if !slices.Equal(keys, names) {
			r.add(vn.Line, "variant %q declares parameters %v; every variant declares the same ones (%v)", id, keys, names)
		}
		v := base.copy()
		v.ID, v.line = id, vn.Line
		r.override(v, f["overrides"], choiceIDs)
		notePlaceholders(used, str(f["title"]))
		for name := range usedParams(v) { // the variant's own texts, overrides included
			used[name] = true
		}
		v.Title = r.substitute(str(f["title"]), params, vn.Line)
		if v.Title == "" {
			r.add(vn.Line, "variant %q needs a title", id)
		}
		r.resolve(v, params)
		out = append(out, v)
	}
	if len(names) > 0 {
		for _, name := range names {
			if !used[name] {
				r.add(n.Line, "parameter %s is declared but no text uses {%s}", name, name)
			}
		}
	}
	return out
}

// usedParams is the set of parameter names a variant's texts mention
// before substitution.
func usedParams(v *Variant) map[string]bool {
	used := map[string]bool{}
	note := func(s string) { notePlaceholders(used, s) }
	for _, st := range v.Steps {
		for _, f := range st.Text {
			note(f.Text)
		}
		for _, c := range st.Choices {
			note(c.Text)
			for _, f := range c.Feedback {
				note(f.Text)
			}
		}
	}
	for _, e := range v.Endings {
		note(e.Title)
		for _, f := range e.Text {
			note(f.Text)
		}
	}
	return used
}

// copy is a deep copy of the graph, so a variant's overrides and text
// stay its own. Conditions are compiled once and shared.
func (v *Variant) copy() *Variant {
	out := &Variant{Scenario: v.Scenario, Start: v.Start, Steps: map[string]*Step{}, StepOrder: v.StepOrder}
	for id, st := range v.Steps {
		cp := *st
		cp.Text = slices.Clone(st.Text)
		cp.Choices = make([]*Choice, len(st.Choices))
		for i, c := range st.Choices {
			cc := *c
			cc.Feedback, cc.Effects, cc.Next = slices.Clone(c.Feedback), slices.Clone(c.Effects), slices.Clone(c.Next)
			cp.Choices[i] = &cc
		}
		out.Steps[id] = &cp
	}
	for _, e := range v.Endings {
		cp := *e
		cp.Text = slices.Clone(e.Text)
		out.Endings = append(out.Endings, &cp)
	}
	return out
}

// override applies a variant's overrides, keyed by choice or step id: a
// choice's text, feedback, points, effects, next or when, a step's text.
// Each field given replaces the written one.
func (r *reader) override(v *Variant, n *yaml.Node, choiceIDs map[string]int) {
	if n == nil {
		return
	}
	if n.Kind != yaml.MappingNode {
		r.add(n.Line, "overrides must map choice or step ids to the fields they change")
		return
	}
	for _, kv := range pairs(r.p, r.file, n) {
		k, on := kv[0], kv[1]
		if st := v.Steps[k.Value]; st != nil {
			f := fields(r.p, r.file, on, "text")
			if f["text"] != nil {
				st.Text = r.text(f["text"])
			}
			continue
		}
		if _, ok := choiceIDs[k.Value]; !ok {
			r.add(k.Line, "override of %q: no step or choice has that id", k.Value)
			continue
		}
		c := v.choice(k.Value)
		f := fields(r.p, r.file, on, "text", "feedback", "points", "effects", "next", "when")
		if f["text"] != nil {
			if c.Text = strings.TrimSpace(str(f["text"])); c.Text == "" {
				r.add(f["text"].Line, "override of %q: a choice needs text", c.ID)
			}
		}
		if f["feedback"] != nil {
			c.Feedback = r.text(f["feedback"])
		}
		if f["points"] != nil {
			c.Points = r.points(f["points"])
		}
		if f["effects"] != nil {
			c.Effects = r.effects(f["effects"])
		}
		if f["next"] != nil {
			c.Next = r.routes(f["next"], c.ID)
		}
		if f["when"] != nil {
			c.When = r.cond(f["when"], false)
		}
	}
}

// choice finds a choice of the variant by authoring id.
func (v *Variant) choice(id string) *Choice {
	for _, sid := range v.StepOrder {
		if c, ok := v.Steps[sid].Choice(id); ok {
			return c
		}
	}
	return nil
}

// ending finds an ending by id.
func (v *Variant) ending(id string) *Ending {
	for _, e := range v.Endings {
		if e.ID == id {
			return e
		}
	}
	return nil
}

// resolve substitutes the variant's parameters into every text.
func (r *reader) resolve(v *Variant, params map[string]string) {
	texts := func(t Text) {
		for i := range t {
			t[i].Text = r.substitute(t[i].Text, params, t[i].line)
		}
	}
	for _, st := range v.Steps {
		texts(st.Text)
		for _, c := range st.Choices {
			c.Text = r.substitute(c.Text, params, c.line)
			texts(c.Feedback)
		}
	}
	for _, e := range v.Endings {
		e.Title = r.substitute(e.Title, params, e.line)
		texts(e.Text)
	}
}

// substitute replaces each {name} in s by the parameter; an unknown name,
// or a brace that is no placeholder, is a problem at line.
func (r *reader) substitute(s string, params map[string]string, line int) string {
	out := placeholder.ReplaceAllStringFunc(s, func(m string) string {
		name := m[1 : len(m)-1]
		val, ok := params[name]
		if !ok {
			r.add(line, "{%s}: no such parameter (declared: %v)", name, slices.Sorted(maps.Keys(params)))
			return m
		}
		return val
	})
	if rest := placeholder.ReplaceAllString(s, ""); strings.ContainsAny(rest, "{}") {
		r.add(line, "a lone brace in %q: braces only mark {parameters}", shorten(s))
	}
	return out
}

func shorten(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

func notePlaceholders(used map[string]bool, s string) {
	for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
		used[m[1]] = true
	}
}
