package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/baton-course/baton/server/mail"
	"github.com/baton-course/baton/server/mailtest"
)

type invitationJSON struct {
	ID      string
	Team    struct{ ID, Name string }
	Manager struct{ Name string }
}

// invite asks for an invitation and answers its id.
func invite(t testing.TB, w *world, by account, team teamJSON, email string) string {
	t.Helper()
	r := call(t, w.h, "POST", "/api/teams/"+team.ID+"/members", map[string]string{"email": email}, by.auth()...)
	var sent struct{ Invitation struct{ ID, Status string } }
	if r.Status != 202 {
		t.Fatalf("invite %s: %d %s", email, r.Status, r.Body)
	}
	if r.JSON(t, &sent); sent.Invitation.ID == "" || sent.Invitation.Status != "pending" {
		t.Fatalf("invite %s: %s", email, r.Body)
	}
	return sent.Invitation.ID
}

func myInvitations(t testing.TB, w *world, who account) []invitationJSON {
	t.Helper()
	var out []invitationJSON
	r := call(t, w.h, "GET", "/api/invitations", nil, who.auth()...)
	if r.Status != 200 {
		t.Fatalf("invitations: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &out)
	return out
}

// inviteAndAccept makes who a member of team by invitation.
func inviteAndAccept(t testing.TB, w *world, by account, team teamJSON, who account) {
	t.Helper()
	id := invite(t, w, by, team, who.Email)
	if r := call(t, w.h, "POST", "/api/invitations/"+id+"/accept", nil, who.auth()...); r.Status != 200 {
		t.Fatalf("accept: %d %s", r.Status, r.Body)
	}
}

// memberIDs is who the team's manager sees in the team, its progress and
// its CSV, which must agree.
func memberIDs(t testing.TB, w *world, by account, team teamJSON) []string {
	t.Helper()
	var detail struct{ Members []struct{ ID string } }
	call(t, w.h, "GET", "/api/teams/"+team.ID, nil, by.auth()...).JSON(t, &detail)
	var report struct {
		Members []struct{ User struct{ ID string } }
	}
	call(t, w.h, "GET", "/api/teams/"+team.ID+"/progress", nil, by.auth()...).JSON(t, &report)
	var ids, reported []string
	for _, m := range detail.Members {
		ids = append(ids, m.ID)
	}
	for _, m := range report.Members {
		reported = append(reported, m.User.ID)
	}
	slices.Sort(ids)
	slices.Sort(reported)
	if !slices.Equal(ids, reported) {
		t.Fatalf("team detail shows %v, its progress %v", ids, reported)
	}
	return ids
}

// H2: inviting answers the same for an address with an account and one
// without, in status, body shape and the statements it runs; nobody is a
// member before accepting, and until then the manager sees nothing of them.
func TestInvitingNeitherEnrolsNorEnumerates(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	known := w.learner.Email
	unknown := fmt.Sprintf("nobody%d@example.com", emailSeq.Add(1))
	type answer struct {
		status     int
		ctype      string
		shape      string
		statements int64
	}
	ask := func(email string) answer {
		n := countQueries(w.db)
		r := call(t, w.h, "POST", "/api/teams/"+w.team.ID+"/members", map[string]string{"email": email}, w.manager.auth()...)
		statements := n()
		var body map[string]map[string]any
		r.JSON(t, &body)
		var shape []string
		for k, v := range body {
			for kk := range v {
				shape = append(shape, k+"."+kk)
			}
		}
		slices.Sort(shape)
		if body["invitation"]["status"] != "pending" {
			t.Fatalf("%s: %s", email, r.Body)
		}
		return answer{r.Status, r.Header.Get("Content-Type"), strings.Join(shape, ","), statements}
	}
	a, b := ask(known), ask(unknown)
	if a != b || a.status != 202 {
		t.Fatalf("known email answered %+v, unknown %+v", a, b)
	}
	// The same holds for a second invitation (answered from the pending one).
	if a, b := ask(strings.ToUpper(known)), ask(" "+unknown); a != b {
		t.Fatalf("repeat: known %+v, unknown %+v", a, b)
	}

	// Not a member: the manager's views and assignments do not reach them.
	if ids := memberIDs(t, w, w.manager, w.team); len(ids) != 1 || ids[0] != w.other.ID {
		t.Fatalf("members before accepting: %v", ids)
	}
	csv := call(t, w.h, "GET", "/api/teams/"+w.team.ID+"/progress.csv", nil, w.manager.auth()...)
	if strings.Contains(string(csv.Body), w.learner.Email) {
		t.Fatal("the CSV shows the invitee")
	}
	assertProblem(t, call(t, w.h, "POST", "/api/assignments", map[string]any{"module": "capstone", "due_at": "2031-01-01T00:00:00Z", "user_ids": []string{w.learner.ID}}, w.manager.auth()...), 403)
	var pending []map[string]any
	call(t, w.h, "GET", "/api/teams/"+w.team.ID+"/invitations", nil, w.manager.auth()...).JSON(t, &pending)
	if len(pending) != 2 {
		t.Fatalf("pending %+v", pending)
	}
	for _, p := range pending {
		// The manager sees the address they typed, never a name or whether
		// it has an account.
		if keys := slices.Sorted(maps.Keys(p)); !slices.Equal(keys, []string{"created_at", "email", "expires_at", "id"}) {
			t.Fatalf("pending invitation shows %v", keys)
		}
	}
	var audit []struct{ Action, Details json.RawMessage }
	call(t, w.h, "GET", "/api/audit?limit=1000", nil, w.admin.auth()...).JSON(t, &audit)
	for _, e := range audit {
		if strings.Contains(string(e.Details), w.learner.ID) && strings.Contains(string(e.Action), "invit") {
			t.Fatalf("the invitation's audit entry names the invitee's account: %s", e.Details)
		}
	}

	// Someone who registers later with that address finds the invitation.
	late := call(t, w.h, "POST", "/api/auth/register", map[string]string{"email": strings.ToUpper(unknown), "password": testPassword, "name": "Late Comer"})
	if late.Status != 201 {
		t.Fatalf("register: %d %s", late.Status, late.Body)
	}
	// Only once they have proved the address is theirs: whoever registers
	// someone else's email sees nothing addressed to it.
	lateAccount := login(t, w.h, unknown)
	if got := myInvitations(t, w, lateAccount); len(got) != 0 {
		t.Fatalf("an unverified registrant sees the invitations sent to the address: %+v", got)
	}
	if err := w.db.Gorm.Exec(`UPDATE users SET email_verified_at = now() WHERE email = ?`, unknown).Error; err != nil {
		t.Fatal(err)
	}
	if got := myInvitations(t, w, lateAccount); len(got) != 1 || got[0].Team.Name != "Product pod" {
		t.Fatalf("late registrant's invitations %+v", got)
	}
}

// An invitation's rules: invalid addresses are 422, a member invited again
// changes nothing, and each manager's invitations are rate-limited.
func TestInvitationRules(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	path := "/api/teams/" + w.team.ID + "/members"
	for _, bad := range []string{"", "not-an-email", "a@b", strings.Repeat("x", 250) + "@example.com"} {
		assertProblem(t, call(t, w.h, "POST", path, map[string]string{"email": bad}, w.manager.auth()...), 422)
	}
	assertProblem(t, call(t, w.h, "POST", path, `{"email":"a@example.com","role":"admin"}`, w.manager.auth()...), 400)
	assertProblem(t, call(t, w.h, "POST", "/api/teams/"+w.foreign.ID+"/members", map[string]string{"email": "a@example.com"}, w.manager.auth()...), 404)

	// A member, or the team's manager: 202 as for anyone, and nothing stored.
	var before int64
	w.db.Gorm.Raw("SELECT count(*) FROM team_invitations").Scan(&before)
	invite(t, w, w.manager, w.team, w.other.Email)
	invite(t, w, w.manager, w.team, w.manager.Email)
	var after int64
	w.db.Gorm.Raw("SELECT count(*) FROM team_invitations").Scan(&after)
	if after != before || len(myInvitations(t, w, w.other)) != 0 {
		t.Fatalf("inviting a member stored an invitation (%d → %d)", before, after)
	}

	// Inviting again while pending is the same invitation.
	first := invite(t, w, w.manager, w.team, w.learner.Email)
	if again := invite(t, w, w.manager, w.team, " "+strings.ToUpper(w.learner.Email)); again != first {
		t.Fatalf("a repeat invitation made a new one: %s, %s", first, again)
	}

	// The daily limit counts what the sender sent, whatever the team.
	if err := w.db.Gorm.Exec(`INSERT INTO team_invitations (team_id, email, invited_by, created_at, expires_at)
		SELECT ?, 'bulk' || g || '@example.com', ?, now() - interval '1 hour', now() + interval '30 days' FROM generate_series(1, 199) g`,
		w.team.ID, w.manager.ID).Error; err != nil {
		t.Fatal(err)
	}
	r := call(t, w.h, "POST", path, map[string]string{"email": "one-too-many@example.com"}, w.manager.auth()...)
	assertProblem(t, r, 429)
	if ra := r.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Fatalf("Retry-After %q", ra)
	}
	// Another manager is not held back by this one.
	invite(t, w, w.admin, w.foreign, "one-too-many@example.com")
}

// Accepting makes a member (with the team's open assignments, audited),
// declining does not; someone else's, unknown, answered, withdrawn and
// expired invitations are 404 alike.
func TestAnsweringInvitations(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	id := invite(t, w, w.manager, w.team, w.learner.Email)
	got := myInvitations(t, w, w.learner)
	if len(got) != 1 || got[0].ID != id || got[0].Team.ID != w.team.ID || got[0].Team.Name != "Product pod" || !strings.HasPrefix(got[0].Manager.Name, "User ") {
		t.Fatalf("invitations %+v", got)
	}
	// Nobody else sees or answers it, however they try.
	if len(myInvitations(t, w, w.stranger)) != 0 {
		t.Fatal("another learner sees the invitation")
	}
	for _, who := range []account{w.stranger, w.manager, w.admin} {
		assertProblem(t, call(t, w.h, "POST", "/api/invitations/"+id+"/accept", nil, who.auth()...), 404)
		assertProblem(t, call(t, w.h, "POST", "/api/invitations/"+id+"/decline", nil, who.auth()...), 404)
	}
	for _, bad := range []string{"not-a-uuid", "00000000-0000-0000-0000-000000000000", w.team.ID} {
		assertProblem(t, call(t, w.h, "POST", "/api/invitations/"+bad+"/accept", nil, w.learner.auth()...), 404)
	}

	r := call(t, w.h, "POST", "/api/invitations/"+id+"/accept", nil, w.learner.auth()...)
	var ref struct{ ID, Name string }
	if r.JSON(t, &ref); r.Status != 200 || ref.ID != w.team.ID || ref.Name != "Product pod" {
		t.Fatalf("accept: %d %s", r.Status, r.Body)
	}
	if !slices.Contains(memberIDs(t, w, w.manager, w.team), w.learner.ID) {
		t.Fatal("accepted but not a member")
	}
	assignmentFor(t, w, w.learner, "ceo-myth") // the team's open assignment
	assertProblem(t, call(t, w.h, "POST", "/api/invitations/"+id+"/accept", nil, w.learner.auth()...), 404)
	assertProblem(t, call(t, w.h, "POST", "/api/invitations/"+id+"/decline", nil, w.learner.auth()...), 404)
	if len(myInvitations(t, w, w.learner)) != 0 {
		t.Fatal("an answered invitation is still listed")
	}
	var audit []struct {
		Action  string
		ActorID string `json:"actor_id"`
	}
	call(t, w.h, "GET", "/api/audit", nil, w.admin.auth()...).JSON(t, &audit)
	for _, want := range []struct{ action, actor string }{{"team.invite", w.manager.ID}, {"team.invitation_accept", w.learner.ID}} {
		if !slices.ContainsFunc(audit, func(e struct {
			Action  string
			ActorID string `json:"actor_id"`
		}) bool {
			return e.Action == want.action && e.ActorID == want.actor
		}) {
			t.Errorf("audit lacks %s by %s: %+v", want.action, want.actor, audit)
		}
	}

	// Declining: no member, and the manager's pending list loses it.
	declined := invite(t, w, w.admin, w.foreign, w.learner.Email)
	if r := call(t, w.h, "POST", "/api/invitations/"+declined+"/decline", nil, w.learner.auth()...); r.Status != 204 {
		t.Fatalf("decline: %d %s", r.Status, r.Body)
	}
	assertProblem(t, call(t, w.h, "POST", "/api/invitations/"+declined+"/accept", nil, w.learner.auth()...), 404)
	if slices.Contains(memberIDs(t, w, w.admin, w.foreign), w.learner.ID) {
		t.Fatal("declined but a member")
	}
	var pending []struct{ ID string }
	call(t, w.h, "GET", "/api/teams/"+w.foreign.ID+"/invitations", nil, w.admin.auth()...).JSON(t, &pending)
	for _, p := range pending {
		if p.ID == declined {
			t.Fatal("a declined invitation is still pending")
		}
	}

	// Withdrawn: gone from the invitee's list and notifications; 404 to answer.
	withdrawn := invite(t, w, w.admin, w.foreign, w.other.Email)
	if len(myInvitations(t, w, w.other)) != 1 {
		t.Fatal("not listed before withdrawing")
	}
	assertProblem(t, call(t, w.h, "DELETE", "/api/teams/"+w.team.ID+"/invitations/"+withdrawn, nil, w.manager.auth()...), 404)
	if r := call(t, w.h, "DELETE", "/api/teams/"+w.foreign.ID+"/invitations/"+withdrawn, nil, w.admin.auth()...); r.Status != 204 {
		t.Fatalf("withdraw: %d %s", r.Status, r.Body)
	}
	assertProblem(t, call(t, w.h, "DELETE", "/api/teams/"+w.foreign.ID+"/invitations/"+withdrawn, nil, w.admin.auth()...), 404)
	assertProblem(t, call(t, w.h, "POST", "/api/invitations/"+withdrawn+"/accept", nil, w.other.auth()...), 404)
	var notes []struct{ Kind string }
	call(t, w.h, "GET", "/api/notifications", nil, w.other.auth()...).JSON(t, &notes)
	for _, n := range notes {
		if n.Kind == "team_invitation" {
			t.Fatal("a withdrawn invitation's notification stayed")
		}
	}

	// Expired: not listed, not accepted; inviting again makes a fresh one.
	expiring := invite(t, w, w.admin, w.foreign, w.other.Email)
	w.db.Gorm.Exec("UPDATE team_invitations SET expires_at = now() - interval '1 second' WHERE id = ?", expiring)
	if len(myInvitations(t, w, w.other)) != 0 {
		t.Fatal("an expired invitation is listed")
	}
	assertProblem(t, call(t, w.h, "POST", "/api/invitations/"+expiring+"/accept", nil, w.other.auth()...), 404)
	if fresh := invite(t, w, w.admin, w.foreign, w.other.Email); fresh == expiring || len(myInvitations(t, w, w.other)) != 1 {
		t.Fatal("inviting after expiry did not make a new invitation")
	}
}

// The invitee is told in the app and by email when the address has an
// account; a stranger's address gets no mail. Answering before the mail
// went out keeps it from going.
func TestInvitationsAreNotifiedAndMailed(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	mp := mailtest.Start(t)
	sender, err := mail.New(mail.Config{Addr: mp.SMTPAddr, From: "baton@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	w.db.Gorm.Exec("DELETE FROM notifications")
	invite(t, w, w.manager, w.team, w.learner.Email)
	invite(t, w, w.manager, w.team, fmt.Sprintf("stranger%d@example.com", emailSeq.Add(1)))
	answered := invite(t, w, w.admin, w.foreign, w.other.Email)
	if r := call(t, w.h, "POST", "/api/invitations/"+answered+"/decline", nil, w.other.auth()...); r.Status != 204 {
		t.Fatalf("decline %d", r.Status)
	}

	var notes []struct {
		Kind, Title, Body, Link string
		ReadAt                  *time.Time `json:"read_at"`
	}
	call(t, w.h, "GET", "/api/notifications", nil, w.learner.auth()...).JSON(t, &notes)
	if len(notes) != 1 || notes[0].Kind != "team_invitation" || notes[0].Link != "/#invitations" ||
		!strings.Contains(notes[0].Title, "Product pod") || !strings.Contains(notes[0].Body, "will see your course progress") {
		t.Fatalf("invitee's notifications %+v", notes)
	}
	call(t, w.h, "GET", "/api/notifications", nil, w.other.auth()...).JSON(t, &notes)
	if len(notes) != 1 || notes[0].ReadAt == nil {
		t.Fatalf("an answered invitation's notification is not marked read: %+v", notes)
	}

	sent, err := w.s.svc.Notify.SendPendingEmails(context.Background(), sender)
	if err != nil || sent != 1 {
		t.Fatalf("sent %d, %v; want the one invitee's mail", sent, err)
	}
	mails := mp.WaitFor(t, 1, 10*time.Second)
	if len(mails) != 1 || mails[0].To[0].Address != w.learner.Email || !strings.Contains(mails[0].Subject, "Product pod") ||
		!strings.Contains(mails[0].Text, "/#invitations") {
		t.Fatalf("mails %+v", mails)
	}
}

// Leaving a team: the manager no longer sees the member, their open
// assignments from the team end (others stay), and only a member can leave.
func TestLeavingATeam(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	inviteAndAccept(t, w, w.admin, w.foreign, w.other)   // other is in two teams now
	fromTeam := assignmentFor(t, w, w.other, "ceo-myth") // from w.team: one active assignment a module
	assign(t, w.h, w.admin, map[string]any{"module": "capstone", "due_at": "2031-01-01T00:00:00Z", "team_id": w.foreign.ID})

	leave := func(who account, teamID string) response {
		return call(t, w.h, "DELETE", "/api/teams/"+teamID+"/membership", nil, who.auth()...)
	}
	for _, id := range []string{"not-a-uuid", "00000000-0000-0000-0000-000000000000"} {
		assertProblem(t, leave(w.other, id), 404)
	}
	assertProblem(t, leave(w.learner, w.team.ID), 404)
	assertProblem(t, leave(w.manager, w.team.ID), 404) // a manager is not a member of their own team
	if r := leave(w.other, w.foreign.ID); r.Status != 204 {
		t.Fatalf("leave: %d %s", r.Status, r.Body)
	}
	assertProblem(t, leave(w.other, w.foreign.ID), 404)

	if slices.Contains(memberIDs(t, w, w.admin, w.foreign), w.other.ID) {
		t.Fatal("the manager still sees a member who left")
	}
	got := map[string]string{}
	for _, a := range myAssignments(t, w, w.other) {
		got[a.Module] = a.ID
	}
	// ceo-myth came from w.team (one active assignment per module); capstone
	// from the team they left.
	if _, ok := got["capstone"]; ok || got["ceo-myth"] != fromTeam.ID || len(got) != 1 {
		t.Fatalf("after leaving: %v", got)
	}
	var me struct{ Teams []struct{ ID string } }
	call(t, w.h, "GET", "/api/me", nil, w.other.auth()...).JSON(t, &me)
	if len(me.Teams) != 1 || me.Teams[0].ID != w.team.ID {
		t.Fatalf("me.teams %+v", me.Teams)
	}
	var audit []struct{ Action string }
	call(t, w.h, "GET", "/api/audit", nil, w.admin.auth()...).JSON(t, &audit)
	if !slices.ContainsFunc(audit, func(e struct{ Action string }) bool { return e.Action == "team.leave" }) {
		t.Fatal("leaving is not audited")
	}
}

// M2: a manager demoted by an admin loses every view of their teams at
// their next sign-in (at once, with revocation), and their invite code and
// invitations stop working; promoted again, they work again.
func TestDemotedManagerLosesTeamViews(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	pending := invite(t, w, w.manager, w.team, w.learner.Email)
	views := []string{"", "/progress", "/progress.csv", "/analytics", "/invitations"}
	for _, v := range views {
		if r := call(t, w.h, "GET", "/api/teams/"+w.team.ID+v, nil, w.manager.auth()...); r.Status != 200 {
			t.Fatalf("%s before demotion: %d", v, r.Status)
		}
	}
	setRole := func(role string) {
		t.Helper()
		if r := call(t, w.h, "PATCH", "/api/users/"+w.manager.ID, map[string]string{"role": role}, w.admin.auth()...); r.Status != 200 {
			t.Fatalf("set role %s: %d %s", role, r.Status, r.Body)
		}
	}
	setRole("learner")
	demoted := login(t, w.h, w.manager.Email)
	for _, v := range views {
		if r := call(t, w.h, "GET", "/api/teams/"+w.team.ID+v, nil, demoted.auth()...); r.Status != 404 && r.Status != 403 {
			t.Errorf("%s after demotion: %d %s", v, r.Status, r.Body)
		}
	}
	assertProblem(t, call(t, w.h, "GET", "/api/assignments?team_id="+w.team.ID, nil, demoted.auth()...), 404)
	assertProblem(t, call(t, w.h, "POST", "/api/teams/join", map[string]string{"invite_code": w.team.InviteCode}, w.stranger.auth()...), 404)
	if len(myInvitations(t, w, w.learner)) != 0 {
		t.Fatal("a demoted manager's invitation is still offered")
	}
	assertProblem(t, call(t, w.h, "POST", "/api/invitations/"+pending+"/accept", nil, w.learner.auth()...), 404)

	setRole("manager")
	again := login(t, w.h, w.manager.Email)
	if r := call(t, w.h, "GET", "/api/teams/"+w.team.ID, nil, again.auth()...); r.Status != 200 {
		t.Fatalf("promoted again: %d", r.Status)
	}
	joinTeam(t, w.h, w.stranger, w.team.InviteCode)
}

// Whoever registers someone else's address and never verifies it hears
// nothing of the invitations sent there: no notice, no way to answer.
func TestUnverifiedAddressHearsNoInvitation(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	squatter := signUp(t, w.h, w.db, "learner") // registered, not verified
	id := invite(t, w, w.manager, w.team, squatter.Email)
	var notices int64
	if err := w.db.Gorm.Raw(`SELECT count(*) FROM notifications WHERE user_id = ? AND invitation_id IS NOT NULL`, squatter.ID).Scan(&notices).Error; err != nil {
		t.Fatal(err)
	}
	if notices != 0 {
		t.Fatalf("an unverified account got %d invitation notices", notices)
	}
	if got := myInvitations(t, w, squatter); len(got) != 0 {
		t.Fatalf("an unverified account lists %+v", got)
	}
	assertProblem(t, call(t, w.h, "POST", "/api/invitations/"+id+"/accept", nil, squatter.auth()...), 404)
}
