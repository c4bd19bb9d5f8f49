// Command scale is make scale: it builds Baton from this tree, starts the
// topology of server/scaletest (a primary, a streaming replica, PgBouncer in
// transaction mode, three instances, HAProxy), plays learners through
// HAProxy in phases while it kills an instance and stops the replica, and
// prints the figures per phase (and writes them as JSON). It exits 1 when
// an invariant broke: an acknowledged answer lost, an error on a request
// that was not in flight on the killed instance, reads not falling back.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/baton-course/baton/server/scaletest"
)

func main() { os.Exit(scaleMain()) }

func scaleMain() int {
	phase := flag.Duration("phase", 30*time.Second, "length of each phase")
	learners := flag.Int("learners", 24, "learners answering scenarios")
	readers := flag.Int("readers", 8, "learners only reading (what the replica serves)")
	instances := flag.Int("instances", 3, "Baton instances behind HAProxy")
	out := flag.String("out", "scale.json", "where to write the report as JSON (empty: nowhere)")
	keep := flag.Bool("keep", false, "keep the working directory (clusters, configurations, logs)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logf := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "scale: "+format+"\n", args...)
	}

	dir, err := os.MkdirTemp("", "baton-scale-")
	if err != nil {
		logf("%v", err)
		return 1
	}
	if *keep {
		logf("working directory %s", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	bin := filepath.Join(dir, "baton")
	logf("building Baton")
	// The API is measured, so the committed frontend/dist is embedded as it
	// is rather than rebuilt.
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./server") // #nosec G204 -- the go tool, our own temp dir
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		logf("build: %v (run from the repository's root)", err)
		return 1
	}
	logf("starting the topology: primary, replica, PgBouncer, %d instances, HAProxy", *instances)
	topo, err := scaletest.Start(ctx, scaletest.Options{Dir: dir, Binary: bin, Instances: *instances})
	if err != nil {
		logf("%v", err)
		return 1
	}
	defer topo.Close()
	rep, err := scaletest.Run(ctx, topo, scaletest.Plan{Learners: *learners, Readers: *readers, Phase: *phase, Log: logf})
	if rep != nil {
		rep.Write(os.Stdout)
		if *out != "" {
			b, _ := json.MarshalIndent(rep, "", "  ")
			if werr := os.WriteFile(*out, append(b, '\n'), 0o600); werr != nil {
				err = errors.Join(err, werr)
			}
		}
	}
	if err != nil {
		logf("%v", err)
		return 1
	}
	if len(rep.Problems) > 0 {
		return 1
	}
	return 0
}
