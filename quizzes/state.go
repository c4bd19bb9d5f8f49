package quizzes

import (
	"encoding/binary"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

// State is what a path has done so far, one value per declared variable in
// declaration order: a meter's number, or 0/1 for a flag. It is small and
// stored with the attempt.
type State []int

// key is the state as a map key.
func (st State) key() string {
	b := make([]byte, 0, 2*len(st))
	for _, v := range st {
		b = binary.AppendVarint(b, int64(v))
	}
	return string(b)
}

// stateVar is one declared piece of state.
type stateVar struct {
	Name     string // "trust.ewan" or "brief_written"
	Flag     bool
	Min, Max int
	Start    int
	line     int
}

var stateName = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$`)

// endFacts are the names only ending conditions may use besides the state.
var endFacts = []string{"percent", "passed", "vision", "alignment", "inspiration"}

func reservedName(name string) bool {
	for _, r := range endFacts {
		if name == r || strings.HasPrefix(name, r+".") {
			return true
		}
	}
	return name == "end" || strings.HasPrefix(name, "end.")
}

// schema is a scenario's declared state and the typed environments its
// conditions compile against: a struct type built from the declarations (a
// nested struct per "group."), so expr rejects an unknown name or a type
// mismatch when the file loads, not when a learner reaches it.
type schema struct {
	vars  []stateVar
	index map[string]int
	step  envType // state only
	end   envType // state and the path's result
}

// envType is a generated struct type and, per field, where it is found.
type envType struct {
	typ    reflect.Type
	fields [][]int // by state variable index, then endFacts
}

func newSchema(vars []stateVar) *schema {
	s := &schema{vars: vars, index: map[string]int{}}
	for i, v := range vars {
		s.index[v.Name] = i
	}
	s.step = s.envType(false)
	s.end = s.envType(true)
	return s
}

func (s *schema) envType(withResult bool) envType {
	type leaf struct {
		name string
		typ  reflect.Type
	}
	var leaves []leaf
	for _, v := range s.vars {
		leaves = append(leaves, leaf{v.Name, typeOf(v.Flag)})
	}
	if withResult {
		for _, f := range endFacts {
			leaves = append(leaves, leaf{f, typeOf(f == "passed")})
		}
	}
	// Top-level names in first-seen order; "a.b" puts b in a nested struct a.
	var order []string
	members := map[string][]reflect.StructField{}
	paths := make([][]int, len(leaves))
	for i, l := range leaves {
		group, name, nested := strings.Cut(l.name, ".")
		if _, seen := members[group]; !seen {
			members[group] = []reflect.StructField{}
			order = append(order, group)
		}
		top := slices.Index(order, group)
		if !nested {
			paths[i] = []int{top}
			members[group] = nil // a plain field, not a group
			continue
		}
		paths[i] = []int{top, len(members[group])}
		members[group] = append(members[group], field(len(members[group]), name, l.typ))
	}
	fields := make([]reflect.StructField, len(order))
	for i, name := range order {
		if m := members[name]; m != nil {
			fields[i] = field(i, name, reflect.StructOf(m))
		}
	}
	for i, l := range leaves {
		if len(paths[i]) == 1 {
			fields[paths[i][0]] = field(paths[i][0], l.name, l.typ)
		}
	}
	return envType{typ: reflect.StructOf(fields), fields: paths}
}

func typeOf(flag bool) reflect.Type {
	if flag {
		return reflect.TypeFor[bool]()
	}
	return reflect.TypeFor[int]()
}

// field is a generated struct field that expr knows by name.
func field(i int, name string, t reflect.Type) reflect.StructField {
	return reflect.StructField{Name: fmt.Sprintf("F%d", i), Type: t, Tag: reflect.StructTag(`expr:"` + name + `"`)}
}

// start is the state every path begins in.
func (s *schema) start() State {
	st := make(State, len(s.vars))
	for i, v := range s.vars {
		st[i] = v.Start
	}
	return st
}

// Outcome facts an ending condition may name besides the state.
type resultFacts struct {
	Percent int
	Passed  bool
	Skills  Points
}

// env is the value conditions run against: st (and r, for endings).
func (s *schema) env(st State, r *resultFacts) any {
	t := s.step
	if r != nil {
		t = s.end
	}
	v := reflect.New(t.typ).Elem()
	for i, val := range st[:min(len(st), len(s.vars))] { // a malformed stored state must not panic
		f := v.FieldByIndex(t.fields[i])
		if s.vars[i].Flag {
			f.SetBool(val != 0)
		} else {
			f.SetInt(int64(val))
		}
	}
	if r != nil {
		n := len(s.vars)
		v.FieldByIndex(t.fields[n]).SetInt(int64(r.Percent))
		v.FieldByIndex(t.fields[n+1]).SetBool(r.Passed)
		v.FieldByIndex(t.fields[n+2]).SetInt(int64(r.Skills.Vision))
		v.FieldByIndex(t.fields[n+3]).SetInt(int64(r.Skills.Alignment))
		v.FieldByIndex(t.fields[n+4]).SetInt(int64(r.Skills.Inspiration))
	}
	return v.Interface()
}

// Cond is a condition compiled once, at load, against a typed environment.
type Cond struct {
	Source  string
	program *vm.Program
}

// compile compiles src as a boolean condition over the step environment
// (forEnding: also the result facts).
func (s *schema) compile(src string, forEnding bool) (*Cond, error) {
	t := s.step
	if forEnding {
		t = s.end
	}
	// No clock: a condition must mean the same at load, when every path is
	// proved, as when a learner reaches it years later.
	p, err := expr.Compile(src, expr.Env(reflect.New(t.typ).Elem().Interface()), expr.AsBool(),
		expr.DisableBuiltin("now"), expr.DisableBuiltin("date"), expr.DisableBuiltin("duration"), expr.DisableBuiltin("timezone"))
	if err != nil {
		return nil, fmt.Errorf("condition %q: %s", src, conditionError(err))
	}
	return &Cond{Source: src, program: p}, nil
}

// conditionError is expr's message without its source excerpt, and with
// the generated struct types it speaks of named as what they are.
func conditionError(err error) string {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	if i := strings.Index(msg, "type struct {"); i >= 0 {
		if j := strings.Index(msg[i:], "} has no field "); j >= 0 {
			return "no such state: " + strings.TrimSpace(msg[i+j+len("} has no field "):])
		}
	}
	return msg
}

// holds evaluates c in env; a nil condition always holds. Conditions are
// type-checked booleans over a fixed environment, so evaluation cannot fail
// at run time; if it somehow did, the condition counts as false.
func (c *Cond) holds(env any) bool {
	if c == nil {
		return true
	}
	out, err := expr.Run(c.program, env)
	b, _ := out.(bool)
	return err == nil && b
}

// Effect changes one state variable: set it, or add to it.
type Effect struct {
	Var   int
	Add   bool
	Value int
}

// apply returns st with the effects applied, meters clamped to their range.
func (s *schema) apply(st State, effects []Effect) State {
	if len(effects) == 0 {
		return st
	}
	out := append(State(nil), st...)
	for _, e := range effects {
		v := s.vars[e.Var]
		if e.Add {
			out[e.Var] += e.Value
		} else {
			out[e.Var] = e.Value
		}
		if !v.Flag {
			out[e.Var] = min(max(out[e.Var], v.Min), v.Max)
		}
	}
	return out
}

// valid reports whether st could be this schema's state (a stored attempt's
// state, read back).
func (s *schema) valid(st State) bool {
	if len(st) != len(s.vars) {
		return false
	}
	for i, v := range s.vars {
		if v.Flag && st[i] != 0 && st[i] != 1 || !v.Flag && (st[i] < v.Min || st[i] > v.Max) {
			return false
		}
	}
	return true
}
