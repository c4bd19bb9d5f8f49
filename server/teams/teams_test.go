package teams

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/baton-course/baton/server/coursetest"

	"github.com/baton-course/baton/lessons"
	"github.com/baton-course/baton/quizzes"
	"github.com/baton-course/baton/server/accounts"
	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/problem"
	"github.com/baton-course/baton/server/progress"
	"github.com/baton-course/baton/server/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// env is the service on a fresh database, with the stores behind it.
type env struct {
	*Service
	db      *database.DB
	attempt *quizzes.Store
}

func newEnv(t *testing.T) env {
	t.Helper()
	db := testdb.New(t)
	ctx := context.Background()
	if err := lessons.Sync(ctx, db.Gorm, coursetest.Course(t)); err != nil {
		t.Fatal(err)
	}
	catalog, err := quizzes.NewCatalog(ctx, db.Gorm, coursetest.Scenarios(t))
	if err != nil {
		t.Fatal(err)
	}
	qs := quizzes.NewStore(db.Gorm, db.Pool, catalog)
	pr := progress.NewReader(coursetest.Course(t), catalog, lessons.NewStore(db.Gorm, db.Pool), qs)
	return env{Service: New(db.Gorm, coursetest.Course(t), catalog, pr), db: db, attempt: qs}
}

// user is a fresh account with role, as its requests would act.
func (e env) user(t *testing.T, role, name string) (accounts.Principal, string) {
	t.Helper()
	id, email := testdb.User(t, e.db, role, name)
	return accounts.Principal{UserID: id, Role: role}, email
}

func (e env) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := e.db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func wantCode(t *testing.T, err error, code problem.Code) {
	t.Helper()
	var p *problem.Error
	if !errors.As(err, &p) || p.Code != code {
		t.Fatalf("error %v, want a %s problem", err, code)
	}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func TestCreateJoinAndRegenerateCode(t *testing.T) {
	t.Parallel()
	e, ctx := newEnv(t), context.Background()
	mgr, _ := e.user(t, accounts.RoleManager, "Maya")
	learner, _ := e.user(t, accounts.RoleLearner, "Ana")

	wantCode(t, errOf(e.Create(ctx, mgr, NewTeam{Name: "  "})), problem.Invalid)
	team := must[Team](t)(e.Create(ctx, mgr, NewTeam{Name: " Pod "}))
	if team.Name != "Pod" || team.ManagerID != mgr.UserID || len(team.InviteCode) != 14 {
		t.Fatalf("created %+v", team)
	}
	ref := must[TeamRef](t)(e.Join(ctx, learner, " "+strings.ToLower(team.InviteCode)+" "))
	if ref != (TeamRef{ID: team.ID, Name: "Pod"}) {
		t.Fatalf("joined %+v", ref)
	}
	must[TeamRef](t)(e.Join(ctx, learner, team.InviteCode)) // twice is harmless
	wantCode(t, errOf(e.Join(ctx, mgr, team.InviteCode)), problem.Conflict)
	if refs := must[[]Membership](t)(e.MemberOf(ctx, learner.UserID)); len(refs) != 1 || refs[0].ID != team.ID || refs[0].Provisioned {
		t.Fatalf("member of %+v", refs)
	}

	m := must[Managed](t)(e.Manage(ctx, mgr, team.ID))
	fresh := must[Team](t)(e.RegenerateCode(ctx, m))
	if fresh.InviteCode == team.InviteCode {
		t.Fatal("code not replaced")
	}
	wantCode(t, errOf(e.Join(ctx, learner, team.InviteCode)), problem.NotFound)

	// A chosen code is stored as codes are typed in; a taken one conflicts.
	named := must[Team](t)(e.Create(ctx, mgr, NewTeam{Name: "Demo", InviteCode: "demo-team"}))
	if named.InviteCode != "DEMO-TEAM" {
		t.Fatalf("chosen code %q", named.InviteCode)
	}
	wantCode(t, errOf(e.Create(ctx, mgr, NewTeam{Name: "Again", InviteCode: "DEMO-TEAM"})), problem.Conflict)

	for action, n := range map[string]int{"team.create": 2, "team.join": 1, "team.invite_code": 1} {
		if got := e.count(t, "SELECT count(*) FROM audit_events WHERE action = $1 AND actor_id IS NOT NULL", action); got != n {
			t.Errorf("%d %s events, want %d", got, action, n)
		}
	}
}

// errOf keeps only the error of a call, for calls expected to fail.
func errOf[T any](_ T, err error) error { return err }

// Teams the caller does not manage are not found, whatever is asked of
// them; an admin manages every team.
func TestOnlyManagedTeams(t *testing.T) {
	t.Parallel()
	e, ctx := newEnv(t), context.Background()
	mgr, _ := e.user(t, accounts.RoleManager, "Maya")
	rival, _ := e.user(t, accounts.RoleManager, "Rae")
	admin, _ := e.user(t, accounts.RoleAdmin, "Ada")
	team := must[Team](t)(e.Create(ctx, mgr, NewTeam{Name: "Pod"}))
	for _, id := range []string{team.ID, "not-a-uuid", "00000000-0000-0000-0000-000000000000"} {
		wantCode(t, errOf(e.Manage(ctx, rival, id)), problem.NotFound)
	}
	if m := must[Managed](t)(e.Manage(ctx, admin, team.ID)); m.Team().ID != team.ID {
		t.Fatal("admin got another team")
	}
	if l := must[[]Summary](t)(e.List(ctx, rival)); len(l) != 0 {
		t.Fatalf("rival lists %+v", l)
	}
	// A Managed nobody was given opens nothing.
	var zero Managed
	wantCode(t, errOf(e.Detail(ctx, zero)), problem.NotFound)
	wantCode(t, errOf(e.Invite(ctx, zero, "x@example.com")), problem.NotFound)
	wantCode(t, errOf(e.SentInvitations(ctx, zero)), problem.NotFound)
	wantCode(t, e.Withdraw(ctx, zero, mgr.UserID), problem.NotFound)
	wantCode(t, e.RemoveMember(ctx, zero, mgr.UserID), problem.NotFound)
	wantCode(t, errOf(e.Report(ctx, zero)), problem.NotFound)
	wantCode(t, errOf(e.Analytics(ctx, zero)), problem.NotFound)
	wantCode(t, errOf(e.ChangeDue(ctx, ManagedAssignment{}, "2030-01-01T00:00:00Z")), problem.NotFound)
}

// A team assignment is a team_assignments row plus one assignment per
// member pointing at it; members who join while it is open get it too, not
// ones cancelled or already due; leaving cancels what came from the team.
func TestTeamAssignmentReachesLateJoiners(t *testing.T) {
	t.Parallel()
	e, ctx := newEnv(t), context.Background()
	mgr, _ := e.user(t, accounts.RoleManager, "Maya")
	early, _ := e.user(t, accounts.RoleLearner, "Ana")
	late, lateEmail := e.user(t, accounts.RoleLearner, "Ben")
	team := must[Team](t)(e.Create(ctx, mgr, NewTeam{Name: "Pod"}))
	must[TeamRef](t)(e.Join(ctx, early, team.InviteCode))
	m := must[Managed](t)(e.Manage(ctx, mgr, team.ID))
	future := time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339)
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	assign := func(module, due string) []AssignmentView {
		return must[[]AssignmentView](t)(e.Assign(ctx, mgr, NewAssignment{Module: module, DueAt: due, TeamID: &team.ID}))
	}
	open := assign("vision-and-narrative", future)
	if len(open) != 1 || open[0].UserID != early.UserID || open[0].Status != NotStarted || open[0].ModuleName == "" {
		t.Fatalf("assigned %+v", open)
	}
	assign("capstone", past)
	cancelled := assign("inspiration-over-direction", future)
	wantCode(t, errOf(e.ManageAssignment(ctx, early, cancelled[0].ID)), problem.NotFound)
	a := must[ManagedAssignment](t)(e.ManageAssignment(ctx, mgr, cancelled[0].ID))
	if err := e.Cancel(ctx, a, true); err != nil {
		t.Fatal(err)
	}
	if n := e.count(t, "SELECT count(*) FROM assignments WHERE team_assignment_id IS NOT NULL AND team_assignment_id IN (SELECT id FROM team_assignments WHERE team_id = $1)", team.ID); n != 3 {
		t.Fatalf("%d assignments point at their team assignment, want 3", n)
	}

	joinByInvitation := func() {
		t.Helper()
		inv := must[InvitationStatus](t)(e.Invite(ctx, m, lateEmail))
		must[TeamRef](t)(e.Accept(ctx, late, inv.ID))
	}
	joinByInvitation()
	got := map[string]bool{}
	for _, v := range must[[]AssignmentView](t)(e.For(ctx, late.UserID)) {
		got[v.Module] = true
	}
	if len(got) != 1 || !got["vision-and-narrative"] {
		t.Fatalf("late joiner got %v", got)
	}
	if n := e.count(t, `SELECT count(*) FROM assignments a JOIN team_assignments ta ON ta.id = a.team_assignment_id
		WHERE a.user_id = $1 AND ta.module_slug = a.module_slug AND ta.due_at = a.due_at`, late.UserID); n != 1 {
		t.Fatalf("the late joiner's assignment does not come from the team assignment (%d)", n)
	}
	if views := must[[]AssignmentView](t)(e.TeamAssignments(ctx, m)); len(views) != 3 {
		t.Fatalf("team view %+v", views)
	}

	if err := e.RemoveMember(ctx, m, late.UserID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, e.RemoveMember(ctx, m, late.UserID), problem.NotFound)
	if v := must[[]AssignmentView](t)(e.For(ctx, late.UserID)); len(v) != 0 {
		t.Fatalf("removed from the team but kept %+v", v)
	}
	// Leaving is the same ending, by the member's own hand.
	joinByInvitation()
	if v := must[[]AssignmentView](t)(e.For(ctx, late.UserID)); len(v) != 1 {
		t.Fatalf("rejoined with %+v", v)
	}
	if err := e.Leave(ctx, late, team.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, e.Leave(ctx, late, team.ID), problem.NotFound)
	if v := must[[]AssignmentView](t)(e.For(ctx, late.UserID)); len(v) != 0 {
		t.Fatalf("left the team but kept %+v", v)
	}
}

func TestAssignRules(t *testing.T) {
	t.Parallel()
	e, ctx := newEnv(t), context.Background()
	mgr, _ := e.user(t, accounts.RoleManager, "Maya")
	rival, _ := e.user(t, accounts.RoleManager, "Rae")
	member, _ := e.user(t, accounts.RoleLearner, "Ana")
	outsider, _ := e.user(t, accounts.RoleLearner, "Olu")
	team := must[Team](t)(e.Create(ctx, mgr, NewTeam{Name: "Pod"}))
	must[TeamRef](t)(e.Join(ctx, member, team.InviteCode))
	due := "2031-05-01T09:00:00Z"

	err := errOf(e.Assign(ctx, mgr, NewAssignment{Module: "juggling", DueAt: "friday"}))
	var p *problem.Error
	if !errors.As(err, &p) || p.Code != problem.Invalid || len(p.Fields) != 3 {
		t.Fatalf("want module, due_at and team_id rejected together: %v", err)
	}
	wantCode(t, errOf(e.Assign(ctx, rival, NewAssignment{Module: "capstone", DueAt: due, TeamID: &team.ID})), problem.Forbidden)
	wantCode(t, errOf(e.Assign(ctx, mgr, NewAssignment{Module: "capstone", DueAt: due, UserIDs: []string{member.UserID, outsider.UserID}})), problem.Forbidden)
	wantCode(t, errOf(e.Assign(ctx, mgr, NewAssignment{Module: "capstone", DueAt: due, UserIDs: []string{"1; DROP TABLE users"}})), problem.Forbidden)
	if n := e.count(t, "SELECT count(*) FROM assignments"); n != 0 {
		t.Fatalf("rejected assignments created %d rows", n)
	}

	// Assigning again moves the due date; the rival's team shares the
	// learner but gains no say over this assignment.
	first := must[[]AssignmentView](t)(e.Assign(ctx, mgr, NewAssignment{Module: "capstone", DueAt: due, UserIDs: []string{member.UserID}}))
	again := must[[]AssignmentView](t)(e.Assign(ctx, mgr, NewAssignment{Module: "capstone", DueAt: "2032-01-01T00:00:00Z", UserIDs: []string{member.UserID}}))
	if again[0].ID != first[0].ID || !again[0].DueAt.Equal(time.Date(2032, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("re-assigning: %+v then %+v", first, again)
	}
	rivalTeam := must[Team](t)(e.Create(ctx, rival, NewTeam{Name: "Rival"}))
	must[TeamRef](t)(e.Join(ctx, member, rivalTeam.InviteCode))
	wantCode(t, errOf(e.ManageAssignment(ctx, rival, first[0].ID)), problem.NotFound)

	a := must[ManagedAssignment](t)(e.ManageAssignment(ctx, mgr, first[0].ID))
	wantCode(t, errOf(e.ChangeDue(ctx, a, "soon")), problem.Invalid)
	moved := must[AssignmentView](t)(e.ChangeDue(ctx, a, "2033-03-03T00:00:00Z"))
	if !moved.DueAt.Equal(time.Date(2033, 3, 3, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("moved %+v", moved)
	}
	wantCode(t, e.Cancel(ctx, a, true), problem.Conflict) // not made to a team
	if err := e.Cancel(ctx, a, false); err != nil {
		t.Fatal(err)
	}
	for action, n := range map[string]int{"assignment.create": 2, "assignment.due_change": 1, "assignment.cancel": 1} {
		if got := e.count(t, "SELECT count(*) FROM audit_events WHERE action = $1", action); got != n {
			t.Errorf("%d %s events, want %d", got, action, n)
		}
	}
}

// The per-team lock: learners joining while a team assignment is made all
// end up with it.
func TestJoinsRacingATeamAssignment(t *testing.T) {
	t.Parallel()
	e, ctx := newEnv(t), context.Background()
	mgr, _ := e.user(t, accounts.RoleManager, "Maya")
	team := must[Team](t)(e.Create(ctx, mgr, NewTeam{Name: "Pod"}))
	var learners []accounts.Principal
	for i := range 12 {
		p, _ := e.user(t, accounts.RoleLearner, fmt.Sprint("L", i))
		learners = append(learners, p)
	}
	due := time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339)
	var wg sync.WaitGroup
	for i, l := range learners {
		wg.Go(func() {
			if i == len(learners)/2 {
				if _, err := e.Assign(ctx, mgr, NewAssignment{Module: "capstone", DueAt: due, TeamID: &team.ID}); err != nil {
					t.Error(err)
				}
			}
			if _, err := e.Join(ctx, l, team.InviteCode); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := e.count(t, "SELECT count(*) FROM assignments WHERE module_slug = 'capstone' AND team_assignment_id IS NOT NULL"); n != len(learners) {
		t.Fatalf("%d of %d learners got the team assignment", n, len(learners))
	}
}

// The report costs the same statements for one member as for many, and its
// CSV keeps formulas in names as text.
func TestReportAndCSV(t *testing.T) {
	t.Parallel()
	e, ctx := newEnv(t), context.Background()
	mgr, _ := e.user(t, accounts.RoleManager, "Maya")
	team := must[Team](t)(e.Create(ctx, mgr, NewTeam{Name: "=Pod"}))
	m := must[Managed](t)(e.Manage(ctx, mgr, team.ID))
	join := func(name string) {
		p, _ := e.user(t, accounts.RoleLearner, name)
		must[TeamRef](t)(e.Join(ctx, p, team.InviteCode))
	}
	join("Ana")
	must[[]AssignmentView](t)(e.Assign(ctx, mgr, NewAssignment{Module: "ceo-myth", DueAt: "2031-01-01T00:00:00Z", TeamID: &team.ID}))
	measure := func() (Report, int64) {
		before := e.db.Statements()
		r := must[Report](t)(e.Report(ctx, m))
		return r, e.db.Statements() - before
	}
	_, small := measure()
	for i := range 6 {
		join(fmt.Sprint("Member ", i))
	}
	join(`@SUM(A1:A9)`)
	r, large := measure()
	if small != large || len(r.Members) != 8 {
		t.Fatalf("%d statements for 1 member, %d for %d", small, large, len(r.Members))
	}
	berlin, err := CSVZone("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := e.WriteCSV(&buf, r, berlin); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	mods := coursetest.Course(t).Modules
	if want := 1 + 8*len(mods); len(rows) != want {
		t.Fatalf("%d rows, want %d", len(rows), want)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, h := range []string{"Member", "Module", "Due (Europe/Berlin)", "Vision", "Alignment", "Inspiration"} {
		if _, ok := col[h]; !ok {
			t.Fatalf("header %v lacks %q", rows[0], h)
		}
	}
	for i, row := range rows[1:] {
		if row[0] != "'=Pod" {
			t.Fatalf("team cell %q", row[0])
		}
		if strings.HasPrefix(row[1], "@") {
			t.Fatalf("formula name %q", row[1])
		}
		// One row a member and module, in course order, by title.
		mod := mods[i%len(mods)]
		if row[col["Module"]] != mod.Title {
			t.Fatalf("row %d names module %q, want %q", i+1, row[col["Module"]], mod.Title)
		}
		// The skill profile once, on the member's first row.
		if first := i%len(mods) == 0; first != (row[col["Vision"]] != "") {
			t.Fatalf("row %d (module %s) has vision %q", i+1, mod.Slug, row[col["Vision"]])
		}
		// The team assignment, due at midnight UTC, in Berlin's winter time.
		due := row[col["Due (Europe/Berlin)"]]
		if mod.Slug == "ceo-myth" && (due != "2031-01-01 01:00" || row[col["Assignment"]] != "Not started") {
			t.Fatalf("ceo-myth row %v: due %q", row, due)
		}
		if mod.Slug != "ceo-myth" && due != "" {
			t.Fatalf("unassigned module %s has a due date %q", mod.Slug, due)
		}
	}
	for _, bad := range []string{"Local", "Mars/Olympus", "../etc/passwd", "/etc/localtime", strings.Repeat("A", 65)} {
		if _, err := CSVZone(bad); err == nil {
			t.Errorf("CSVZone(%q) accepted", bad)
		}
	}
	if loc, err := CSVZone(""); err != nil || loc != time.UTC {
		t.Errorf("no zone gives %v, %v; want UTC", loc, err)
	}
}
