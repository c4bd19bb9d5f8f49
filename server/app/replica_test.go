package app

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/embeddedpg"
)

// TestReadReplica runs Baton on a primary and a real streaming replica made
// by pg_basebackup -R: reads that may lag are served by the replica, a
// learner reads their own writes, a replica that lags past the bound or
// stops is left for the primary without an error, and the lag is reported.
func TestReadReplica(t *testing.T) {
	ctx := context.Background()
	primary, err := embeddedpg.Start(ctx, embeddedpg.Options{Dir: dataDir(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(primary.Stop)
	url, err := ensureDatabase(ctx, primary)
	if err != nil {
		t.Fatal(err)
	}
	db, err := database.Open(ctx, url, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := database.Migrate(ctx, db, quietLog); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	replicaCluster, err := embeddedpg.Start(ctx, embeddedpg.Options{Dir: dataDir(t), ReplicaOf: primary})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(replicaCluster.Stop)
	t.Logf("replica made and started in %s", time.Since(started).Round(time.Millisecond))
	replica, err := database.OpenReplica(ctx, replicaCluster.URL("baton"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = replica.Close() })

	svc, err := BuildWithReplica(ctx, testConfig(t), db, replica, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	h := svc.Web.Handler()
	call := func(method, path, token, body string) (int, map[string]any) {
		t.Helper()
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.RemoteAddr = "127.0.0.1:40000" // /metrics answers loopback
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var out map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		if path == "/metrics" {
			out = map[string]any{"text": rec.Body.String()}
		}
		return rec.Code, out
	}
	code, reg := call("POST", "/api/auth/register", "", `{"email":"ann@example.com","password":"a long enough password","name":"Ann"}`)
	if code != http.StatusCreated {
		t.Fatalf("register: %d %v", code, reg)
	}
	token := reg["access_token"].(string)
	userID := reg["user"].(map[string]any)["id"].(string)
	slug := svc.Course.Modules[0].Lessons[0].Slug
	lessonPercent := func() float64 {
		t.Helper()
		code, body := call("GET", "/api/lessons/"+slug, token, "")
		if code != http.StatusOK {
			t.Fatalf("lesson page: %d %v", code, body)
		}
		p, _ := body["progress"].(map[string]any)
		pct, _ := p["percent"].(float64)
		return pct
	}
	// A read outside any learner's write window, as a manager's would be.
	storedPercent := func() int {
		t.Helper()
		all, err := svc.Lessons.AllProgress(ctx, userID)
		if err != nil {
			t.Fatalf("progress read: %v (a replica's trouble must not reach the caller)", err)
		}
		return all[slug].Percent
	}
	replicaState := func() map[string]any {
		t.Helper()
		code, body := call("GET", "/readyz", "", "")
		if code != http.StatusOK {
			t.Fatalf("readyz: %d %v", code, body)
		}
		r, ok := body["replica"].(map[string]any)
		if !ok {
			t.Fatalf("readyz has no replica: %v", body)
		}
		return r
	}

	// A manager with the learner in a team: their reads of the team's
	// progress are reads that may lag.
	code, mgr := call("POST", "/api/auth/register", "", `{"email":"mo@example.com","password":"a long enough password","name":"Mo"}`)
	if code != http.StatusCreated {
		t.Fatalf("register manager: %d %v", code, mgr)
	}
	mgrToken := mgr["access_token"].(string)
	if _, err := db.Pool.Exec(ctx, "UPDATE users SET role = 'manager' WHERE id = $1", mgr["user"].(map[string]any)["id"]); err != nil {
		t.Fatal(err)
	}
	code, team := call("POST", "/api/teams", mgrToken, `{"name":"Ops"}`)
	if code != http.StatusCreated {
		t.Fatalf("create team: %d %v", code, team)
	}
	if code, body := call("POST", "/api/teams/join", token, `{"invite_code":"`+team["invite_code"].(string)+`"}`); code != http.StatusOK {
		t.Fatalf("join team: %d %v", code, body)
	}
	teamPercent := func() float64 {
		t.Helper()
		code, body := call("GET", "/api/teams/"+team["id"].(string)+"/progress", mgrToken, "")
		if code != http.StatusOK {
			t.Fatalf("team progress: %d %v", code, body)
		}
		members := body["members"].([]any)
		modules := members[0].(map[string]any)["modules"].([]any)
		return modules[0].(map[string]any)["percent"].(float64)
	}
	// The manager's and the learner's own writes keep them on the primary
	// for the read-your-writes window; let it pass.
	time.Sleep(database.DefaultMaxLag + 1500*time.Millisecond)

	waitFor(t, "the replica to be trusted", 15*time.Second, func() bool { st, _ := svc.Reads.Replica(); return st.OK })
	waitFor(t, "the account to reach the replica", 10*time.Second, func() bool {
		var n int
		_ = replica.Pool.QueryRow(ctx, "SELECT count(*) FROM users WHERE id = $1", userID).Scan(&n)
		return n == 1
	})
	before := svc.Reads.ReplicaReads()
	if lessonPercent() != 0 {
		t.Fatal("a new learner has progress")
	}
	if svc.Reads.ReplicaReads() <= before {
		t.Fatal("the lesson page was not read from the replica")
	}
	if r := replicaState(); r["ok"] != true {
		t.Fatalf("readyz replica = %v, want ok", r)
	}

	// A fresh write nobody reads, replayed before the pause, so that the
	// lag below counts from now.
	if code, _ := call("POST", "/api/auth/register", "", `{"email":"cy@example.com","password":"a long enough password","name":"Cy"}`); code != http.StatusCreated {
		t.Fatalf("register: %d", code)
	}
	waitFor(t, "the replica to replay the last write", 10*time.Second, func() bool {
		var n int
		_ = replica.Pool.QueryRow(ctx, "SELECT count(*) FROM users WHERE email = 'cy@example.com'").Scan(&n)
		return n == 1
	})
	// With replay paused the replica keeps yesterday's answer: the learner
	// still sees their own write (the window sends them to the primary),
	// while a read outside the window is the replica's, stale.
	if _, err := replica.Pool.Exec(ctx, "SELECT pg_wal_replay_pause()"); err != nil {
		t.Fatal(err)
	}
	if code, body := call("PUT", "/api/lessons/"+slug+"/progress", token, `{"percent":50}`); code != http.StatusOK {
		t.Fatalf("save progress: %d %v", code, body)
	}
	if got := lessonPercent(); got != 50 {
		t.Fatalf("the learner read %v%% after writing 50%%: read-your-writes broken", got)
	}
	if got := storedPercent(); got != 0 {
		t.Fatalf("a read outside the window saw %d%% while the replica's replay is paused: it did not go to the replica", got)
	}
	before = svc.Reads.ReplicaReads()
	if got := teamPercent(); got != 0 || svc.Reads.ReplicaReads() <= before {
		t.Fatalf("the manager's team progress showed %v%% while the replica's replay is paused: it did not come from the replica", got)
	}

	// Past the lag bound reads leave the replica, with no error, and the
	// lag is reported.
	waitFor(t, "the lag to pass the bound", 15*time.Second, func() bool { st, _ := svc.Reads.Replica(); return !st.OK })
	if got := storedPercent(); got != 50 {
		t.Fatalf("with the replica past its lag bound a read saw %d%%, want the primary's 50%%", got)
	}
	if got := teamPercent(); got == 0 {
		t.Fatal("with the replica past its lag bound the team progress did not show the learner's progress")
	}
	if r := replicaState(); r["ok"] != false || r["lag_seconds"].(float64) <= database.DefaultMaxLag.Seconds() {
		t.Fatalf("readyz replica = %v, want not ok with lag over %s", r, database.DefaultMaxLag)
	}
	if _, m := call("GET", "/metrics", "", ""); !strings.Contains(m["text"].(string), "baton_db_replica_lag_seconds ") {
		t.Fatal("/metrics has no baton_db_replica_lag_seconds")
	}

	// Replay resumed: the replica catches up and serves again.
	if _, err := replica.Pool.Exec(ctx, "SELECT pg_wal_replay_resume()"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the replica to catch up", 15*time.Second, func() bool { st, _ := svc.Reads.Replica(); return st.OK })
	before = svc.Reads.ReplicaReads()
	if got := storedPercent(); got != 50 || svc.Reads.ReplicaReads() <= before {
		t.Fatalf("after catching up the replica read %d%% (served %d reads)", got, svc.Reads.ReplicaReads()-before)
	}

	// The replica stops: the very next read falls back to the primary
	// without an error, before any probe has noticed.
	replicaCluster.Stop()
	if got := storedPercent(); got != 50 {
		t.Fatalf("with the replica down a read saw %d%%", got)
	}
	if got := lessonPercent(); got != 50 {
		t.Fatalf("with the replica down the lesson page showed %v%%", got)
	}
	if got := teamPercent(); got == 0 {
		t.Fatal("with the replica down the team progress did not show the learner's progress")
	}
	waitFor(t, "readyz to report the replica down", 5*time.Second, func() bool { return replicaState()["ok"] == false })
}
