package scaletest

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/baton-course/baton/server/app"
)

func TestMain(m *testing.M) {
	// The topology's instances are this test binary re-run as Baton.
	if os.Getenv("BATON_TEST_RUN_SERVER") == "1" {
		os.Exit(app.Command(nil))
	}
	os.Exit(m.Run())
}

// startTopology starts the whole topology with instances that are this
// binary serving as Baton.
func startTopology(t *testing.T) *Topology {
	t.Helper()
	// Not t.TempDir(): its parent is closed to the clusters' account.
	dir, err := os.MkdirTemp("", "baton-scale-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	topo, err := Start(context.Background(), Options{Dir: dir, Binary: os.Args[0], Env: []string{"BATON_TEST_RUN_SERVER=1"}, Instances: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(topo.Close)
	return topo
}

// TestTopology is make scale's short version: three instances behind
// HAProxy on PgBouncer and a replica, learners answering through HAProxy
// while an instance is killed and restarted and the replica stops and
// returns. Every acknowledged answer is in PostgreSQL, the only errors are
// requests in flight on the killed instance, reads fall back to the primary
// while the replica is down and return to it after.
func TestTopology(t *testing.T) {
	if testing.Short() {
		t.Skip("topology")
	}
	topo := startTopology(t)
	rep, err := Run(context.Background(), topo, Plan{Learners: 6, Readers: 2, Phase: 3 * time.Second, Log: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	rep.Write(&out)
	t.Log("\n" + out.String())
	if rep.Acknowledged < 50 {
		t.Errorf("only %d answers acknowledged: the load did not run", rep.Acknowledged)
	}
	for _, p := range rep.Problems {
		t.Error(p)
	}
}
