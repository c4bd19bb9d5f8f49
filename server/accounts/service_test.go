package accounts

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/baton-course/baton/server/problem"
	"github.com/baton-course/baton/server/testdb"
)

func newService(t *testing.T, admins ...string) *Service {
	t.Helper()
	db := testdb.New(t)
	s, err := NewService(context.Background(), db.Gorm, Config{AccessTTL: time.Minute, AdminEmails: admins, HashCost: CheapHashCost},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func codeOf(err error) problem.Code {
	var p *problem.Error
	if errors.As(err, &p) {
		return p.Code
	}
	return ""
}

const goodPassword = "correct-llama-timetable"

// The session cycle as plain calls: sign up, sign in, refresh rotates the
// refresh token (the old one then ends the session), sign out ends it.
func TestSessionCycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newService(t)
	in, err := s.Register(ctx, " Ann@Example.com ", goodPassword, "Ann")
	if err != nil {
		t.Fatal(err)
	}
	if in.User.Email != "ann@example.com" || in.User.Role != RoleLearner || in.AccessToken == "" || in.Refresh == "" || in.RefreshTTL <= 0 {
		t.Fatalf("register: %+v", in)
	}
	claims, err := s.Keys().Verify(ctx, in.AccessToken)
	if err != nil || claims.Subject != in.User.ID {
		t.Fatalf("access token: %v %+v", err, claims)
	}
	if _, err := s.Register(ctx, "ann@example.com", goodPassword, "Ann"); !errors.Is(err, ErrEmailTaken) {
		t.Fatalf("second sign-up: %v", err)
	}
	if _, err := s.Login(ctx, "ann@example.com", "wrong-password-here", "192.0.2.1", ""); codeOf(err) != problem.Unauthorized {
		t.Fatalf("wrong password: %v", err)
	}
	login, err := s.Login(ctx, "ANN@example.com", goodPassword, "192.0.2.1", "")
	if err != nil {
		t.Fatal(err)
	}
	next, err := s.Refresh(ctx, login.Refresh)
	if err != nil || next.Refresh == login.Refresh {
		t.Fatalf("refresh: %v", err)
	}
	// Reusing the rotated token is theft: the whole session ends.
	if _, err := s.Refresh(ctx, login.Refresh); !errors.Is(err, ErrSessionEnded) {
		t.Fatalf("reuse: %v", err)
	}
	if _, err := s.Refresh(ctx, next.Refresh); !errors.Is(err, ErrSessionEnded) {
		t.Fatalf("after reuse: %v", err)
	}
	c, _ := s.Keys().Verify(ctx, in.AccessToken)
	if err := s.Logout(ctx, Principal{UserID: in.User.ID, Session: c.Session}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Refresh(ctx, in.Refresh); !errors.Is(err, ErrSessionEnded) {
		t.Fatalf("after logout: %v", err)
	}
}

func TestValidationIsPerField(t *testing.T) {
	t.Parallel()
	s := newService(t)
	_, err := s.Register(context.Background(), "not-an-email", "short", "")
	var p *problem.Error
	if !errors.As(err, &p) || p.Code != problem.Invalid || len(p.Fields) != 3 {
		t.Fatalf("%v", err)
	}
	if _, err := s.Login(context.Background(), "", "", "192.0.2.1", ""); codeOf(err) != problem.Invalid {
		t.Fatalf("empty login: %v", err)
	}
}

// Roles: the last admin cannot be demoted; a change is audited; unknown ids
// and roles are refused.
func TestSetRole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newService(t, "boss@example.com")
	boss, err := s.CreateUser(ctx, "boss@example.com", goodPassword, "Boss", RoleAdmin)
	if err != nil || boss.Role != RoleAdmin {
		t.Fatalf("admin: %v %+v", err, boss)
	}
	ann, err := s.CreateUser(ctx, "ann@example.com", goodPassword, "Ann", "")
	if err != nil {
		t.Fatal(err)
	}
	by := Principal{UserID: boss.ID, Role: RoleAdmin}
	if _, err := s.SetRole(ctx, by, boss.ID, RoleLearner); codeOf(err) != problem.Conflict {
		t.Fatalf("demoting the last admin: %v", err)
	}
	if _, err := s.SetRole(ctx, by, ann.ID, "owner"); codeOf(err) != problem.Invalid {
		t.Fatalf("unknown role: %v", err)
	}
	if _, err := s.SetRole(ctx, by, "not-a-uuid", RoleManager); codeOf(err) != problem.NotFound {
		t.Fatalf("bad id: %v", err)
	}
	u, err := s.SetRole(ctx, by, ann.ID, RoleManager)
	if err != nil || u.Role != RoleManager {
		t.Fatalf("promote: %v %+v", err, u)
	}
	var events int64
	s.db.Raw(`SELECT count(*) FROM audit_events WHERE action = 'user.role' AND subject = ?`, "user:"+ann.ID).Scan(&events)
	if events != 1 {
		t.Fatalf("%d audit events", events)
	}
	users, err := s.ListUsers(ctx, "ANN")
	if err != nil || len(users) != 1 || users[0].ID != ann.ID {
		t.Fatalf("list: %v %+v", err, users)
	}
	if users, _ := s.ListUsers(ctx, "%"); len(users) != 0 {
		t.Fatalf("a LIKE wildcard matched: %+v", users)
	}
}

// A rotated key signs new tokens; tokens of the old key still verify.
func TestRotateKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newService(t)
	in, err := s.Register(ctx, "ann@example.com", goodPassword, "Ann")
	if err != nil {
		t.Fatal(err)
	}
	kid, err := s.RotateKey(ctx, Principal{UserID: in.User.ID})
	if err != nil || kid == "" {
		t.Fatal(err)
	}
	if _, err := s.Keys().Verify(ctx, in.AccessToken); err != nil {
		t.Fatalf("old token after rotation: %v", err)
	}
	tok, _, err := s.Keys().Issue(ctx, in.User.ID, RoleLearner, "s")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Keys().Verify(ctx, tok); err != nil {
		t.Fatalf("new token: %v", err)
	}
}
