package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
)

// Three runs, compared: absolute figures drift between runs on a shared
// machine, and one run's ratio can be an outlier, so -repeat runs the whole
// bench several times (each from a fresh cluster and server), writes each
// run's report beside -out, and prints each run's key ratios and their
// median.

// keyFigure is one figure across the repeated runs.
type keyFigure struct {
	Name   string    `json:"name"`
	Values []float64 `json:"values"` // one per run; a run that did not measure it is left out
	Median float64   `json:"median"`
}

// repeatReport is what -out holds after -repeat.
type repeatReport struct {
	Tool    string      `json:"tool"`
	Runs    []string    `json:"runs"` // each run's JSON report
	Figures []keyFigure `json:"figures"`
}

// runFile is run i's report file: bench.json gives bench-run2.json.
func runFile(out string, i int) string {
	if base, ok := strings.CutSuffix(out, ".json"); ok {
		return fmt.Sprintf("%s-run%d.json", base, i)
	}
	return fmt.Sprintf("%s-run%d", out, i)
}

// keyRatios are the figures the targets judge, from one run, and their
// names in the order the report gives them.
func keyRatios(rep *report) (map[string]float64, []string) {
	out := map[string]float64{}
	var order []string
	add := func(name string, v float64) {
		out[name] = v
		order = append(order, name)
	}
	for _, r := range rep.Ratios {
		if slices.Contains(targetLevels, r.Level) {
			add(fmt.Sprintf("%d learners: %s", r.Level, r.Name), r.Value)
		}
	}
	if s := rep.Capacity.Sync; s != nil {
		add("synchronized start: start p95 ms", s.Start.P95Ms)
		add("synchronized start: sign-in p95 ms", s.SignIn.P95Ms)
		add("synchronized start: errors", float64(s.SignIn.Errors+s.Start.Errors+s.FirstAnswer.Errors))
	}
	failed := 0
	for _, t := range rep.Targets {
		if !t.Pass {
			failed++
		}
	}
	add("targets missed", float64(failed))
	return out, order
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// compareRuns lines up the runs' key figures, in the order the first run
// that has each names them.
func compareRuns(runs []map[string]float64, order []string) []keyFigure {
	var out []keyFigure
	for _, name := range order {
		f := keyFigure{Name: name}
		for _, r := range runs {
			if v, ok := r[name]; ok {
				f.Values = append(f.Values, v)
			}
		}
		f.Median = round3(median(f.Values))
		out = append(out, f)
	}
	return out
}

func formatRuns(figs []keyFigure, runs int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n%d runs compared (each its own cluster and server)\n", runs)
	tw := tabwriter.NewWriter(&b, 2, 0, 2, ' ', 0)
	for _, f := range figs {
		vals := make([]string, len(f.Values))
		for i, v := range f.Values {
			vals[i] = fmt.Sprintf("%.3f", v)
		}
		fmt.Fprintf(tw, "  %s\t%s\tmedian %.3f\t\n", f.Name, strings.Join(vals, "  "), f.Median)
	}
	_ = tw.Flush()
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

func repeatRuns(ctx context.Context, o options) int {
	var runs []map[string]float64
	var order []string
	rr := repeatReport{Tool: "baton server/cmd/bench -repeat"}
	code := 0
	for i := 1; i <= o.Repeat && ctx.Err() == nil; i++ {
		logf("run %d of %d", i, o.Repeat)
		file := runFile(o.Out, i)
		rep, err := runAndReport(ctx, o, file)
		if err != nil {
			code = 1
		}
		if rep == nil || rep.Targets == nil {
			continue
		}
		rr.Runs = append(rr.Runs, file)
		k, names := keyRatios(rep)
		for _, n := range names {
			if !slices.Contains(order, n) {
				order = append(order, n)
			}
		}
		runs = append(runs, k)
	}
	rr.Figures = compareRuns(runs, order)
	fmt.Print(formatRuns(rr.Figures, len(runs)))
	if b, err := json.MarshalIndent(rr, "", "  "); err == nil {
		if err := os.WriteFile(o.Out, append(b, '\n'), 0o644); err != nil { // #nosec G306 -- a report
			fmt.Fprintln(os.Stderr, "bench:", err)
			code = 1
		} else {
			fmt.Printf("\nJSON summary of the runs: %s\n", o.Out)
		}
	}
	return code
}
