// Package app is one Baton process: configuration, the wiring of every area
// onto one database pool, the job queue, demo data, and the commands the
// binary runs.
package app

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"syscall"

	"github.com/baton-course/baton/quizzes"
	"github.com/baton-course/baton/server/accounts"
)

// Command runs the binary's command line (args without the program name)
// and returns its exit code. With no arguments, or "serve", it serves until
// SIGINT or SIGTERM.
func Command(args []string) int {
	if len(args) > 0 {
		switch args[0] {
		case "serve":
		case "check-content":
			return checkContentCommand()
		default:
			fmt.Fprintf(os.Stderr, "baton: unknown command %q (usage: baton [serve | check-content])\n", args[0])
			return 2
		}
	}
	cfg, err := LoadConfig(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "baton: configuration:", err)
		return 2
	}
	log := newLogger(os.Stderr, cfg.LogFormat)
	limitMemory(os.Getenv("GOMEMLIMIT"))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	app, err := Open(ctx, cfg, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "baton:", err)
		return 1
	}
	defer app.Close()
	if err := app.Run(ctx); err != nil {
		log.Error("server stopped", "cause", err)
		return 1
	}
	return 0
}

// limitMemory sets the Go runtime's soft memory limit unless GOMEMLIMIT
// sets another. Each sign-in briefly needs 19 MiB for argon2id; without a
// limit the heap goal grows with those bursts and the memory stays mapped
// long after. The limit leaves room for every hashing slot at once on top of
// 32 MiB, more than the server holds live with a thousand open sessions, and
// is never under 64 MiB, which keeps the collector from running flat out
// while sign-ins churn through their 19 MiB each (a 48 MiB floor halved the
// rate of reads beside a sign-in storm).
func limitMemory(gomemlimit string) {
	if gomemlimit == "" {
		debug.SetMemoryLimit(max(64<<20, 32<<20+accounts.HashingMemory()))
	}
}

// checkContentCommand validates the course and scenarios for authors and
// prints every problem as file:line: message.
func checkContentCommand() int {
	c, err := checkContent()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	words := 0
	for _, l := range c.course.Lessons() {
		words += l.Words
	}
	fmt.Printf("content ok: %d modules, %d lessons (%d words), %d scenarios\n",
		len(c.course.Modules), len(c.course.Lessons()), words, len(c.scenarios))
	for _, sc := range c.scenarios {
		if err := printAnalysis(os.Stdout, sc); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", sc.File, err)
			return 1
		}
	}
	return 0
}

// printAnalysis tells an author what every path through sc earns: how many
// pass, which endings passing and failing paths share, and whether the
// three skills are measured apart.
func printAnalysis(w io.Writer, sc *quizzes.Scenario) error {
	a, err := quizzes.Analyze(sc)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%s (%s)\n", sc.Slug, sc.File)
	fmt.Fprintf(w, "  paths %d, passing %d (%.1f%%), best %d%%, worst %d%%\n",
		a.Paths, a.Passing, 100*a.PassingShare(), a.BestPercent, a.WorstPercent)
	ids := slices.Sorted(maps.Keys(a.Endings))
	for _, id := range ids {
		e := a.Endings[id]
		mark := ""
		if e.Shared() {
			mark = "   <- reached by passing and failing paths"
		}
		fmt.Fprintf(w, "  ending %-44s passing %6d  failing %6d%s\n", id, e.Passing, e.Failing, mark)
	}
	for _, skill := range quizzes.Skills {
		fmt.Fprintf(w, "  %-12s best path earns %3d points over %d decisions\n",
			skill, a.BestPathSkills.Get(skill), a.BestPathDecisions[skill])
	}
	for _, pair := range slices.Sorted(maps.Keys(a.Correlation)) {
		fmt.Fprintf(w, "  r(%s) across choices %.2f\n", pair, a.Correlation[pair])
	}
	return nil
}
