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
	"slices"
	"strings"
	"syscall"

	"github.com/baton-course/baton/quizzes"
	"github.com/baton-course/baton/server/memlimit"
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
		case "play":
			return playCommand(args[1:], os.Stdin, os.Stdout)
		default:
			fmt.Fprintf(os.Stderr, "baton: unknown command %q (usage: baton [serve | check-content | play SLUG [--variant V]])\n", args[0])
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
// sets another. Without a limit the heap goal grows with the bursts of
// sign-ins and the memory stays mapped long after. The base, 64 MiB, is
// more than the server holds live with a thousand open sessions; each
// argon2id hash adds its 19 MiB only while it runs (package memlimit), so a
// sign-in storm does not leave everyone else's requests a few MiB of
// headroom and the collector running flat out (a fixed 64 MiB that had to
// include the hashes cut lessons beside a storm to a quarter of their rate;
// a fixed 48 MiB halved them again).
func limitMemory(gomemlimit string) {
	if gomemlimit == "" {
		memlimit.Manage(baseMemoryLimit) // for the life of the process
	}
}

// baseMemoryLimit is the soft limit while no password is being hashed.
const baseMemoryLimit = 64 << 20

// checkContentCommand validates the course and scenarios for authors: what
// every path of every variant earns, and every problem as file:line:
// message. It exits 1 when anything is wrong.
func checkContentCommand() int {
	course, modules, err := loadCourse()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	reports, problems := quizzes.CheckAll(quizzes.Content(), modules)
	words := 0
	for _, l := range course.Lessons() {
		words += l.Words
	}
	fmt.Printf("%d modules, %d lessons (%d words), %d scenarios\n", len(course.Modules), len(course.Lessons()), words, len(reports))
	for _, r := range reports {
		printReport(os.Stdout, r)
	}
	if len(problems) > 0 {
		fmt.Fprintf(os.Stderr, "\n%v\n", problems)
		return 1
	}
	fmt.Println("\ncontent ok")
	return 0
}

// printReport tells an author what every path through each variant earns:
// how many pass, which endings passing and failing paths reach, and
// whether the three skills are measured apart.
func printReport(w io.Writer, r quizzes.Report) {
	sc := r.Scenario
	fmt.Fprintf(w, "\n%s (%s), %d variant(s)\n", sc.Slug, sc.File, len(sc.Variants))
	for _, vr := range r.Variants {
		v := vr.Variant
		if v.ID != "" {
			fmt.Fprintf(w, "  variant %s: %s\n", v.ID, v.Title)
		}
		fmt.Fprintf(w, "    paths %d, passing %d (%.1f%%), best %d%%, worst %d%%, longest %d decisions\n",
			vr.Paths, vr.Passing, 100*vr.PassingShare(), vr.BestPercent, vr.WorstPercent, vr.Longest)
		for _, e := range v.Endings {
			paths := vr.Endings[e.ID]
			mark := ""
			if r.Endings[e.ID].Shared() {
				mark = "   <- reached by passing and failing paths"
			}
			fmt.Fprintf(w, "    ending %-42s passing %6d  failing %6d%s\n", e.ID, paths.Passing, paths.Failing, mark)
		}
		for _, skill := range quizzes.Skills {
			fmt.Fprintf(w, "    %-12s best path earns %3d points over %d decisions\n",
				skill, vr.BestPathSkills.Get(skill), vr.BestPathDecisions[skill])
		}
		for _, pair := range slices.Sorted(maps.Keys(vr.Correlation)) {
			fmt.Fprintf(w, "    r(%s) across choices %.2f\n", pair, vr.Correlation[pair])
		}
	}
	if len(r.TurnedRules) > 0 {
		fmt.Fprintf(w, "  variants disagree on the best move at: %s\n", strings.Join(r.TurnedRules, ", "))
	} else if len(sc.Variants) > 1 {
		fmt.Fprintf(w, "  every variant has the same best moves (no variant where the usual rule is wrong)\n")
	}
	if sc.MeasurementNote != "" {
		fmt.Fprintf(w, "  measurement note: %s\n", sc.MeasurementNote)
	}
}
