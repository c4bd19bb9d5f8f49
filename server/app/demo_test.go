package app

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/web/webtest"
)

// The demo's team assignments are made as a manager makes them: its rows of
// team_assignments and assignments, and the audit events, match column by
// column those a manager creates through the HTTP API for the same team,
// learners and modules. Ids and timestamps only have to be present or
// absent alike; a missing row or column fails.
func TestDemoAssignmentsMatchRealOnes(t *testing.T) {
	t.Parallel()
	db := newTestDB(t)
	cfg := testConfig(t)
	cfg.Demo = true
	svc, err := Build(context.Background(), cfg, db, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	h := svc.Web.Handler()
	var demoTeam string
	if err := db.Pool.QueryRow(context.Background(), "SELECT id FROM teams WHERE invite_code = $1", demoInviteCode).Scan(&demoTeam); err != nil {
		t.Fatal(err)
	}

	var session struct {
		AccessToken string `json:"access_token"`
	}
	r := webtest.Call(t, h, "POST", "/api/auth/login", map[string]string{"email": demoAccounts[0].email, "password": DemoPassword})
	if r.Status != 200 {
		t.Fatalf("login %d %s", r.Status, r.Body)
	}
	r.JSON(t, &session)
	auth := []string{"Authorization", "Bearer " + session.AccessToken}
	var team struct{ ID string }
	r = webtest.Call(t, h, "POST", "/api/teams", map[string]string{"name": demoTeamName}, auth...)
	if r.Status != 201 {
		t.Fatalf("create team %d %s", r.Status, r.Body)
	}
	r.JSON(t, &team)
	for i := range demoAccounts[1:] {
		email := fmt.Sprintf("real%d@example.com", i)
		if r := webtest.Call(t, h, "POST", "/api/auth/register", map[string]string{"email": email, "password": DemoPassword, "name": "Real " + email}); r.Status != 201 {
			t.Fatalf("register %d %s", r.Status, r.Body)
		}
		// As the demo's are: invitations need a verified address.
		if _, err := db.Pool.Exec(context.Background(), "UPDATE users SET email_verified_at = now() WHERE email = $1", email); err != nil {
			t.Fatal(err)
		}
		if r := webtest.Call(t, h, "POST", "/api/teams/"+team.ID+"/members", map[string]string{"email": email}, auth...); r.Status != 202 {
			t.Fatalf("invite %d %s", r.Status, r.Body)
		} else {
			var sent struct{ Invitation struct{ ID string } }
			r.JSON(t, &sent)
			accept(t, h, email, sent.Invitation.ID)
		}
	}
	// The demo's modules and due dates, from the learners' rows: they are
	// there however the demo made them.
	for _, ta := range rowsOf(t, db, "SELECT module_slug, due_at FROM assignments WHERE team_id = $1 GROUP BY 1, 2 ORDER BY min(created_at)", demoTeam) {
		body := map[string]any{"module": ta["module_slug"], "due_at": ta["due_at"].(time.Time).UTC().Format(time.RFC3339), "team_id": team.ID}
		if r := webtest.Call(t, h, "POST", "/api/assignments", body, auth...); r.Status != 201 {
			t.Fatalf("assign %d %s", r.Status, r.Body)
		}
	}

	for _, q := range []struct{ what, sql string }{
		{"team_assignments", "SELECT * FROM team_assignments WHERE team_id = $1"},
		// Which team assignment each assignment came from, by its module.
		{"assignments", `SELECT a.*, ta.module_slug AS from_team_assignment FROM assignments a
			LEFT JOIN team_assignments ta ON ta.id = a.team_assignment_id WHERE a.team_id = $1`},
		// Who acted: the team's manager, or a learner answering an invitation.
		{"audit events", `SELECT actor_id = (SELECT manager_id FROM teams WHERE id = $1) AS by_manager, action, subject, details
			FROM audit_events WHERE subject = 'team:' || $1 AND action <> 'demo.seed' ORDER BY id`},
	} {
		demo, real := normalized(t, db, q.sql, demoTeam), normalized(t, db, q.sql, team.ID)
		if len(real) == 0 {
			t.Fatalf("%s: the manager's requests made none", q.what)
		}
		if q.what != "audit events" { // those keep their order
			slices.Sort(demo)
			slices.Sort(real)
		}
		if !slices.Equal(demo, real) {
			t.Errorf("%s differ:\ndemo:\n  %s\nmanager:\n  %s", q.what, strings.Join(demo, "\n  "), strings.Join(real, "\n  "))
		}
	}
}

// accept signs email in and accepts the invitation id.
func accept(t *testing.T, h http.Handler, email, id string) {
	t.Helper()
	var session struct {
		AccessToken string `json:"access_token"`
	}
	webtest.Call(t, h, "POST", "/api/auth/login", map[string]string{"email": email, "password": DemoPassword}).JSON(t, &session)
	if r := webtest.Call(t, h, "POST", "/api/invitations/"+id+"/accept", nil, "Authorization", "Bearer "+session.AccessToken); r.Status != 200 {
		t.Fatalf("accept %d %s", r.Status, r.Body)
	}
}

// rowsOf runs sql with one argument and returns its rows by column name.
func rowsOf(t *testing.T, db *database.DB, sql string, arg any) []map[string]any {
	t.Helper()
	rows, err := db.Pool.Query(context.Background(), sql, arg)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []map[string]any
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		row := map[string]any{}
		for i, f := range rows.FieldDescriptions() {
			row[f.Name] = vals[i]
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// normalized renders each row as "column=value ..." in column order, with
// ids (and ids inside JSON details) and timestamps other than due dates
// reduced to whether they are set.
func normalized(t *testing.T, db *database.DB, sql string, arg any) []string {
	t.Helper()
	var out []string
	for _, row := range rowsOf(t, db, sql, arg) {
		out = append(out, joinNormalized(row, "=", " "))
	}
	return out
}

// joinNormalized writes m's entries, normalized, in key order.
func joinNormalized(m map[string]any, eq, sep string) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+eq+normalize(k, m[k]))
	}
	return strings.Join(parts, sep)
}

func normalize(column string, v any) string {
	switch {
	case column == "actor_id" || column == "assigned_by":
		return fmt.Sprintf("%x", v) // the same manager on both sides
	case column == "id" || strings.HasSuffix(column, "_id") || (strings.HasSuffix(column, "_at") && column != "due_at"):
		if v == nil {
			return "null"
		}
		return "set"
	case column == "subject":
		prefix, _, _ := strings.Cut(fmt.Sprint(v), ":")
		return prefix + ":…"
	case column == "details":
		m, _ := v.(map[string]any)
		return "{" + joinNormalized(m, ":", ",") + "}"
	}
	return fmt.Sprint(v)
}
