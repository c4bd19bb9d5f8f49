package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/baton-course/baton/server/accounts"
)

// capacity is what the issue asks of the server beyond throughput: what a
// sign-in costs, whether a sign-in storm starves everyone else, the memory
// many open sessions take, and how fast and small the server starts.
type capacity struct {
	Login    *classStats     `json:"login,omitempty"`
	Storm    *stormResult    `json:"login_storm,omitempty"`
	Sessions *sessionsResult `json:"open_sessions,omitempty"`
	Sync     *syncResult     `json:"synchronized_start,omitempty"`
	Startup  *startupResult  `json:"startup,omitempty"`
}

// stormResult is lesson reads running beside as many sign-ins at once,
// compared with the same reads alone at the same level in the same run.
type stormResult struct {
	Level          int        `json:"level"`
	Lesson         classStats `json:"lesson"`
	Login          classStats `json:"login"`
	LessonAloneRPS float64    `json:"lesson_alone_rps"`
	RateRatio      float64    `json:"lesson_rate_ratio"`
}

// sessionsResult is many signed-in learners reading at a person's pace,
// each on its own connection, and the server's memory while they do.
type sessionsResult struct {
	Learners  int        `json:"learners"`
	Lesson    classStats `json:"lesson"`
	PeakRSSMB float64    `json:"server_peak_rss_mb"` // during this phase only
	RSSMB     float64    `json:"server_rss_mb"`      // at its end
}

// startupResult times the server starting as `make run` does (embedded
// PostgreSQL, demo data), first on an empty data directory, then again.
type startupResult struct {
	FirstS        float64 `json:"first_start_s"`
	WarmS         float64 `json:"warm_start_s"`
	IdleRSSMB     float64 `json:"idle_rss_mb"`      // after the first start, idle
	WarmIdleRSSMB float64 `json:"warm_idle_rss_mb"` // after the warm start, idle
}

// stats summarises one class of the phase's requests; a phase that recorded
// none of them failed to run.
func (r loadResult) stats(class string) (classStats, error) {
	c := r.Rec.classes[class]
	if c == nil {
		return classStats{}, fmt.Errorf("the phase recorded no %s requests", class)
	}
	cs := newClassStats(class, c.lat, c.errors, r.Elapsed, c.samples)
	cs.Deferred = c.deferred
	return cs, nil
}

// resetPeakRSS starts the kernel's peak-RSS count (VmHWM) of pid afresh, so
// the next reading is the peak of what happens from now on.
func resetPeakRSS(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// signInLoad measures sign-ins alone at level.
func (b *bench) signInLoad(ctx context.Context, level int) error {
	logf("c=%-3d sign-ins alone", level)
	res := runLoad(ctx, b.h, b.base, b.refBase, b.learners, b.course, "login", level, b.o.Duration)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	cs, err := res.stats("login")
	if err != nil {
		return err
	}
	b.rep.Capacity.Login = &cs
	logf("c=%-3d login: %.1f/s p99 %.0fms err %d", level, cs.RPS, cs.P99Ms, cs.Errors)
	return nil
}

// storm runs level learners reading lessons while level others sign in.
func (b *bench) storm(ctx context.Context, level int) error {
	logf("c=%-3d lesson reads during a sign-in storm", level)
	var wg sync.WaitGroup
	var reads, logins loadResult
	wg.Add(2)
	go func() {
		defer wg.Done()
		reads = runLoad(ctx, b.h, b.base, b.refBase, b.rotate(level), b.course, "lesson", level, b.o.Duration)
	}()
	go func() {
		defer wg.Done()
		logins = runLoad(ctx, b.h, b.base, b.refBase, b.learners, b.course, "login", level, b.o.Duration)
	}()
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	st := &stormResult{Level: level}
	var err error
	if st.Lesson, err = reads.stats("lesson"); err != nil {
		return err
	}
	if st.Login, err = logins.stats("login"); err != nil {
		return err
	}
	b.rep.Capacity.Storm = st
	logf("c=%-3d storm: lesson %.0f/s p99 %.1fms err %d; login %.1f/s err %d", level,
		st.Lesson.RPS, st.Lesson.P99Ms, st.Lesson.Errors, st.Login.RPS, st.Login.Errors)
	return nil
}

// openSessions gives n learners open sessions and has them read at a
// person's pace, each on its own connection, while the server's peak RSS is
// watched.
//
// Signing in n learners through the API would spend n argon2id hashes
// (about 40 s for 1,000 on two cores) on what the sign-in phase already
// measures, so the accounts are inserted directly and their access tokens
// are issued with the server's own current signing key, exactly as the
// server issues them.
func (b *bench) openSessions(ctx context.Context, conn *pgx.Conn, n int) error {
	logf("%d learners holding open sessions", n)
	learners, err := b.insertLearners(ctx, conn, n, "session", true)
	if err != nil {
		return err
	}
	if err := resetPeakRSS(b.server.pid()); err != nil {
		return fmt.Errorf("reset the server's peak RSS: %w", err)
	}
	h := newClient(n) // a connection per learner, apart from the other phases'
	defer h.closeIdle()
	res := runLoad(ctx, h, b.base, b.refBase, learners, b.course, "session", n, b.o.Duration+3*time.Second)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	st, err := readProc(b.server.pid())
	if err != nil {
		return err
	}
	lesson, err := res.stats("lesson")
	if err != nil {
		return err
	}
	s := &sessionsResult{Learners: n, Lesson: lesson,
		PeakRSSMB: round1(float64(st.PeakRSSKB) / 1024), RSSMB: round1(float64(st.CurrentRSSKB) / 1024)}
	b.rep.Capacity.Sessions = s
	logf("%d open sessions: lesson %.0f/s p99 %.1fms err %d; server peak RSS %.1f MB", n,
		s.Lesson.RPS, s.Lesson.P99Ms, s.Lesson.Errors, s.PeakRSSMB)
	return nil
}

// startup starts the built server as `make run` does, on an empty data
// directory and then again on the same one, timing each start to a ready
// /readyz and reading its memory once it has idled.
func (b *bench) startup(ctx context.Context, serverBin string) error {
	logf("first and warm start of the server with its embedded PostgreSQL")
	dataDir := filepath.Join(b.tmp, "startup-data")
	res := &startupResult{}
	for i, into := range []struct{ took, idle *float64 }{{&res.FirstS, &res.IdleRSSMB}, {&res.WarmS, &res.WarmIdleRSSMB}} {
		addr, err := freePort()
		if err != nil {
			return err
		}
		env := envWith(map[string]string{"BATON_ADDR": addr, "BATON_DATA_DIR": dataDir, "DATABASE_URL": "",
			"BATON_DEMO": "1", "BATON_PPROF_ADDR": ""})
		began := time.Now()
		c, err := startChild(fmt.Sprintf("startup-%d", i+1), serverBin, nil, env, filepath.Join(b.tmp, fmt.Sprintf("startup-%d.log", i+1)))
		if err != nil {
			return err
		}
		err = waitHTTP(ctx, c, "http://"+addr+"/readyz", 60*time.Second)
		*into.took = round3(time.Since(began).Seconds())
		if err == nil {
			select { // idle: no requests, the way a quiet night looks
			case <-time.After(3 * time.Second):
			case <-ctx.Done():
			}
			var st procStat
			if st, err = readProc(c.pid()); err == nil {
				*into.idle = round1(float64(st.CurrentRSSKB) / 1024)
			}
		}
		c.stop()
		if err != nil {
			return fmt.Errorf("start %d: %w", i+1, err)
		}
	}
	b.rep.Capacity.Startup = res
	logf("first start %.1fs (idle %.1f MB), warm start %.1fs (idle %.1f MB)", res.FirstS, res.IdleRSSMB, res.WarmS, res.WarmIdleRSSMB)
	return nil
}

// insertLearners inserts n learner accounts directly, all with the probe
// learner's password (so they can sign in with it), and with sessions on
// those accounts and access tokens issued with the server's own current
// signing key, exactly as the server issues them at sign-in, unless
// sessions is false: then they must sign in through the API.
//
// Signing n learners up through the API would spend n argon2id hashes on
// what no phase that uses them measures (sign-ups are not what any target
// is about), and sign-ups from one address are limited to 60 a minute.
func (b *bench) insertLearners(ctx context.Context, conn *pgx.Conn, n int, tag string, sessions bool) ([]*learner, error) {
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	rows, err := conn.Query(ctx, `INSERT INTO users (email, name, password_hash)
		SELECT $4 || g || '.' || $2 || '@bench.baton.example', 'Bench learner ' || g,
		       (SELECT password_hash FROM users WHERE id = $1)
		FROM generate_series(1, $3::int) g RETURNING id, email`, b.probe.ID, run, n, tag)
	if err != nil {
		return nil, err
	}
	learners, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*learner, error) {
		l := &learner{Password: b.probe.Password}
		return l, r.Scan(&l.ID, &l.Email)
	})
	if err != nil || !sessions {
		return learners, err
	}
	return learners, b.issueSessions(ctx, conn, learners)
}

// issueSessions gives learners sessions and access tokens issued with the
// server's current signing key, as the server issues them at sign-in.
func (b *bench) issueSessions(ctx context.Context, conn *pgx.Conn, learners []*learner) error {
	ids := make([]string, len(learners))
	for i, l := range learners {
		ids[i] = l.ID
	}
	var key accounts.SigningKey
	if err := conn.QueryRow(ctx, `SELECT kid, secret FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1`).
		Scan(&key.Kid, &key.Secret); err != nil {
		return fmt.Errorf("the server's signing key: %w", err)
	}
	// Each learner needs a live session: the server checks the token's.
	rows, err := conn.Query(ctx, `INSERT INTO sessions (user_id, expires_at)
		SELECT u, now() + interval '1 day' FROM unnest($1::uuid[]) WITH ORDINALITY AS t(u, n) ORDER BY n RETURNING id`, ids)
	if err != nil {
		return err
	}
	sessionIDs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for i, l := range learners {
		if l.Token, err = sessionToken(key, l.ID, sessionIDs[i], time.Hour); err != nil {
			return err
		}
	}
	return nil
}
