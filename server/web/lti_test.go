package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/baton-course/baton/server/accounts"
	"github.com/baton-course/baton/server/app"
	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/idptest"
	"github.com/baton-course/baton/server/lti"
	"github.com/baton-course/baton/server/ltitest"
)

// These tests launch Baton from an LTI 1.3 platform the test starts
// (server/ltitest, a Moodle-like simulator at localhost) with a browser-like
// client that follows every redirect and submits every self-submitting form:
// the login initiation, the authorization request and the id_token's form
// POST run for real, Baton (at 127.0.0.1) and the platform two sites apart.

type ltiWorld struct {
	ts       *testServer
	db       *database.DB
	w        *world // for the scenario helpers
	base     string
	p        *ltitest.Platform
	clientID string
	admin    account
}

func newLTIWorld(t *testing.T, adjust ...func(*app.Config)) *ltiWorld {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	base := "http://127.0.0.1:" + port
	cfg := testConfig(t)
	cfg.PublicURL = base
	for _, f := range adjust {
		f(&cfg)
	}
	db := newTestDB(t)
	ts := buildServer(t, cfg, db)
	srv.Config.Handler = ts.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	p := ltitest.Start(t)
	p.Logf = t.Logf
	lw := &ltiWorld{ts: ts, db: db, base: base, p: p, w: &world{s: ts, h: ts.Handler(), db: db}}
	lw.admin = signUp(t, ts.Handler(), db, accounts.RoleAdmin)
	clientID, deployment := p.Register(ltitest.Tool{LoginURL: base + lti.LoginPath, RedirectURL: base + lti.LaunchPath,
		JWKSURL: base + lti.JWKSPath, DeepLinkURL: base + "/", TargetLinkURI: base + "/"})
	lw.clientID = clientID
	r := call(t, ts.Handler(), "POST", "/api/admin/lti/platforms", map[string]any{
		"issuer": p.Issuer(), "client_id": clientID, "deployment_ids": []string{deployment}, "name": "Moodle (test)",
		"auth_url": p.AuthURL(), "token_url": p.TokenURL(), "jwks_url": p.JWKSURL(),
	}, lw.admin.auth()...)
	if r.Status != 201 {
		t.Fatalf("register the platform: %d %s", r.Status, r.Body)
	}
	return lw
}

// atBaton stops at Baton's first redirect off its LTI routes: where the
// browser lands.
func (lw *ltiWorld) atBaton(u *url.URL) bool {
	return "http://"+u.Host == lw.base && !strings.HasPrefix(u.Path, "/api/lti/")
}

// launch opens a launch URL in b and returns where Baton sends the browser.
func (lw *ltiWorld) launch(t *testing.T, b *idptest.Browser, launchURL string) *url.URL {
	t.Helper()
	req, err := b.NavigateUntil(launchURL, lw.atBaton)
	if err != nil {
		t.Fatalf("launch: %v", err)
	}
	return req.URL
}

// refused opens a launch URL that Baton must refuse with a readable page.
func (lw *ltiWorld) refused(t *testing.T, launchURL string, status int, code string) {
	t.Helper()
	b := idptest.NewBrowser()
	resp, err := b.Navigate(launchURL)
	if err != nil {
		t.Fatalf("launch: %v", err)
	}
	lw.wantPage(t, resp, status, code)
}

func (lw *ltiWorld) wantPage(t *testing.T, resp *http.Response, status int, code string) {
	t.Helper()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(body), "Reason: "+code) || !strings.Contains(string(body), "<h1>") {
		t.Fatalf("want a %d page for %s, got %d %s: %.400s", status, code, resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}

// openDeepLink is the instructor's deep-linking launch from course c: the
// picker's request id, the instructor signed in by the launch, and their
// browser (which posts the picker's answer to the platform).
func (lw *ltiWorld) openDeepLink(t *testing.T, c ltitest.Course) (string, account, *idptest.Browser) {
	t.Helper()
	b := idptest.NewBrowser()
	to := lw.launch(t, b, lw.p.DeepLinkLaunchURL(c, ltiPeople.grace))
	id, ok := strings.CutPrefix(to.Path, lti.DeepLinkPage)
	if !ok {
		t.Fatalf("the deep-linking launch landed on %s", to)
	}
	return id, lw.refresh(t, b), b
}

// refresh trades the browser's refresh cookie for an access token, as the
// app does on landing.
func (lw *ltiWorld) refresh(t *testing.T, b *idptest.Browser) account {
	t.Helper()
	req, _ := http.NewRequest("POST", lw.base+"/api/auth/refresh", nil)
	resp, err := b.Fetch(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("refresh after the launch: %d %s", resp.StatusCode, body)
	}
	var out struct {
		User        struct{ ID, Email, Role string }
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	return account{ID: out.User.ID, Email: out.User.Email, Token: out.AccessToken}
}

var ltiPeople = struct{ ada, bo, grace ltitest.Person }{
	ada:   ltitest.Person{Sub: "u-ada", Name: "Ada Lovelace", Email: "ada@lms.example", Roles: []string{ltitest.RoleLearner}},
	bo:    ltitest.Person{Sub: "u-bo", Name: "Bo Chen", Email: "bo@lms.example", Roles: []string{ltitest.RoleLearner}},
	grace: ltitest.Person{Sub: "u-grace", Name: "Grace Hopper", Email: "grace@lms.example", Roles: []string{ltitest.RoleInstructor}},
}

func ltiCourse(id string) ltitest.Course {
	return ltitest.Course{ID: id, Title: "Leading teams " + id, Members: []ltitest.Person{ltiPeople.ada, ltiPeople.bo, ltiPeople.grace}}
}

func TestLTILaunchSignsInAndGradeArrives(t *testing.T) {
	t.Parallel()
	lw := newLTIWorld(t)
	if err := lw.ts.svc.StartJobs(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := ltiCourse("c1")
	lw.p.AddCourse(c)
	link := ltitest.Link{ResourceLinkID: "rl-1", Title: "A scenario", TargetLinkURI: lw.base + "/quizzes/" + testQuiz, LineItem: true}

	b := idptest.NewBrowser()
	to := lw.launch(t, b, lw.p.LaunchURL(c, ltiPeople.ada, link))
	if to.Path != "/quizzes/"+testQuiz {
		t.Fatalf("the launch landed on %s, want the scenario", to)
	}
	ada := lw.refresh(t, b)
	if ada.Email != ltiPeople.ada.Email {
		t.Fatalf("signed in as %q", ada.Email)
	}
	// A second launch signs the same account in (linked by platform + sub).
	b2 := idptest.NewBrowser()
	lw.launch(t, b2, lw.p.LaunchURL(c, ltiPeople.ada, link))
	if again := lw.refresh(t, b2); again.ID != ada.ID {
		t.Fatalf("second launch signed in %s, first %s", again.ID, ada.ID)
	}
	// A custom baton_target wins over the target link.
	b3 := idptest.NewBrowser()
	mod := lw.ts.svc.Course.Modules[0].Slug
	custom := ltitest.Link{ResourceLinkID: "rl-2", Title: "A module", TargetLinkURI: lw.base + "/", Custom: map[string]string{"baton_target": "modules/" + mod}}
	if to := lw.launch(t, b3, lw.p.LaunchURL(c, ltiPeople.ada, custom)); to.Path != "/modules/"+mod {
		t.Fatalf("custom target landed on %s", to)
	}

	_, result := playScenario(t, lw.w, ada, testQuiz, bestChoice)
	items := lw.p.LineItems(c.ID)
	if len(items) != 1 {
		t.Fatalf("line items: %+v", items)
	}
	var scores []ltitest.Score
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if scores = lw.p.Scores(items[0].ID); len(scores) > 0 {
			break
		}
	}
	if len(scores) != 1 {
		var why []string
		lw.db.Gorm.Raw(`SELECT coalesce(last_error, '') FROM lti_scores`).Scan(&why)
		t.Fatalf("scores at the platform: %+v (Baton's errors: %v)", scores, why)
	}
	s := scores[0]
	if s.UserID != ltiPeople.ada.Sub || s.ScoreGiven == nil || *s.ScoreGiven != float64(result.Percent) || *s.ScoreMaximum != 100 ||
		s.ActivityProgress != "Completed" || s.GradingProgress != "FullyGraded" || s.Timestamp == "" {
		t.Errorf("score %+v, want %d of 100 for %s", s, result.Percent, ltiPeople.ada.Sub)
	}
	// Baton records what it sent.
	sent, err := lw.ts.svc.LTI.SentScores(context.Background(), ada.ID)
	var record lti.Score
	if err != nil || len(sent) != 1 || sent[0].LineitemURL != items[0].ID || json.Unmarshal(sent[0].Sent, &record) != nil ||
		record.UserID != ltiPeople.ada.Sub || record.ScoreGiven != float64(result.Percent) {
		t.Errorf("recorded scores %+v %v", sent, err)
	}
	// /metrics: nothing waits for the platform any more.
	m := callWith(t, lw.ts.Handler(), fromAddr("127.0.0.1:9090"), "GET", "/metrics", nil)
	for _, want := range []string{"baton_lti_scores_pending 0", "baton_lti_scores_failing 0"} {
		if !strings.Contains(string(m.Body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestLTIDeepLinkingAndRoster(t *testing.T) {
	t.Parallel()
	lw := newLTIWorld(t)
	c := ltiCourse("c2")
	lw.p.AddCourse(c)
	id, grace, b := lw.openDeepLink(t, c)
	h := lw.ts.Handler()

	// The instructor's launch filled the course's team from the roster.
	var me struct{ Role string }
	call(t, h, "GET", "/api/me", nil, grace.auth()...).JSON(t, &me)
	if me.Role != accounts.RoleManager {
		t.Errorf("the instructor is %q, want manager", me.Role)
	}
	var teams []struct {
		ID, Name string
		Members  int
	}
	call(t, h, "GET", "/api/teams", nil, grace.auth()...).JSON(t, &teams)
	if len(teams) != 1 || teams[0].Name != c.Title || teams[0].Members != 2 {
		t.Fatalf("teams %+v, want %q with the two learners", teams, c.Title)
	}

	// Someone else cannot see or answer the request.
	if r := call(t, h, "GET", "/api/lti/deep-links/"+id, nil, lw.admin.auth()...); r.Status != 404 {
		t.Errorf("another account read the request: %d", r.Status)
	}
	var dl lti.DeepLink
	r := call(t, h, "GET", "/api/lti/deep-links/"+id, nil, grace.auth()...)
	if r.Status != 200 {
		t.Fatalf("deep link: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &dl)
	if len(dl.Items) == 0 || len(dl.AcceptTypes) != 1 || dl.AcceptTypes[0] != "ltiResourceLink" {
		t.Fatalf("deep link %+v", dl)
	}
	if r := call(t, h, "POST", "/api/lti/deep-links/"+id, map[string]any{"items": []map[string]string{{"kind": "scenario", "slug": "no-such"}}}, grace.auth()...); r.Status != 422 {
		t.Errorf("an unknown item: %d %s", r.Status, r.Body)
	}
	r = call(t, h, "POST", "/api/lti/deep-links/"+id, map[string]any{"items": []map[string]string{{"kind": "scenario", "slug": testQuiz}}}, grace.auth()...)
	if r.Status != 200 {
		t.Fatalf("answer: %d %s", r.Status, r.Body)
	}
	var answer lti.DeepLinkResponse
	r.JSON(t, &answer)
	// The page form-POSTs the answer to the platform, which verifies it.
	resp, err := b.PostForm(answer.ReturnURL, url.Values{"JWT": {answer.JWT}})
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	links := lw.p.DeepLinks()
	if len(links) != 1 || len(links[0]) != 1 {
		t.Fatalf("the platform took %v (refused: %v)", links, lw.p.DeepLinkFailures())
	}
	item := links[0][0]
	custom, _ := item["custom"].(map[string]any)
	lineItem, _ := item["lineItem"].(map[string]any)
	if item["type"] != "ltiResourceLink" || item["url"] != lw.base+"/quizzes/"+testQuiz || custom["baton_target"] != "quizzes/"+testQuiz ||
		lineItem["resourceId"] != testQuiz || lineItem["scoreMaximum"] != float64(100) {
		t.Errorf("content item %v", item)
	}
	// One answer per request.
	if r := call(t, h, "POST", "/api/lti/deep-links/"+id, map[string]any{"items": []map[string]string{{"kind": "scenario", "slug": testQuiz}}}, grace.auth()...); r.Status != 404 {
		t.Errorf("a second answer: %d", r.Status)
	}
}

func TestLTIRefusals(t *testing.T) {
	t.Parallel()
	lw := newLTIWorld(t)
	c := ltiCourse("c3")
	lw.p.AddCourse(c)
	link := ltitest.Link{ResourceLinkID: "rl-9", Title: "A scenario", TargetLinkURI: lw.base + "/quizzes/" + testQuiz}
	forged := func(f ltitest.Forgery) string { return lw.p.LaunchURL(c, ltiPeople.ada, link, ltitest.Forged(f)) }

	t.Run("another key", func(t *testing.T) { lw.refused(t, forged(ltitest.Forgery{OtherKey: true}), 403, lti.FailToken) })
	t.Run("another audience", func(t *testing.T) {
		lw.refused(t, forged(ltitest.Forgery{Audience: "someone-else"}), 403, lti.FailToken)
	})
	t.Run("expired", func(t *testing.T) {
		lw.refused(t, forged(ltitest.Forgery{ExpiredBy: 10 * time.Minute}), 403, lti.FailExpired)
	})
	t.Run("unknown deployment", func(t *testing.T) {
		lw.refused(t, forged(ltitest.Forgery{DeploymentID: "dep-nope"}), 403, lti.FailDeployment)
	})
	t.Run("wrong message type", func(t *testing.T) {
		lw.refused(t, forged(ltitest.Forgery{MessageType: "LtiSubmissionReviewRequest"}), 400, lti.FailMessageType)
	})
	t.Run("another nonce", func(t *testing.T) { lw.refused(t, forged(ltitest.Forgery{Nonce: "not-baton's"}), 403, lti.FailToken) })
	t.Run("no email", func(t *testing.T) {
		lw.refused(t, forged(ltitest.Forgery{Claims: func(m map[string]any) { delete(m, "email") }}), 403, lti.FailNoEmail)
	})
	t.Run("a target outside Baton", func(t *testing.T) {
		outside := ltitest.Link{ResourceLinkID: "rl-x", TargetLinkURI: lw.base + "/quizzes/no-such-scenario"}
		lw.refused(t, lw.p.LaunchURL(c, ltiPeople.ada, outside), 400, lti.FailTarget)
	})
	t.Run("replayed", func(t *testing.T) {
		b := idptest.NewBrowser()
		lw.launch(t, b, lw.p.LaunchURL(c, ltiPeople.bo, link))
		idToken, state := lw.p.LastIDToken()
		resp, err := b.PostForm(lw.base+lti.LaunchPath, url.Values{"id_token": {idToken}, "state": {state}})
		if err != nil {
			t.Fatal(err)
		}
		lw.wantPage(t, resp, 403, lti.FailExpired)
		// With a fresh login's state, the old token's nonce is not the login's.
		req, err := idptest.NewBrowser().NavigateUntil(lw.p.LaunchURL(c, ltiPeople.bo, link), func(u *url.URL) bool { return u.Path == lti.LaunchPath })
		if err != nil {
			t.Fatal(err)
		}
		_ = req.ParseForm()
		resp, err = b.PostForm(lw.base+lti.LaunchPath, url.Values{"id_token": {idToken}, "state": {req.PostForm.Get("state")}})
		if err != nil {
			t.Fatal(err)
		}
		lw.wantPage(t, resp, 403, lti.FailToken)
	})
	t.Run("unknown state", func(t *testing.T) {
		resp, err := idptest.NewBrowser().PostForm(lw.base+lti.LaunchPath, url.Values{"id_token": {"x.y.z"}, "state": {"never-issued"}})
		if err != nil {
			t.Fatal(err)
		}
		lw.wantPage(t, resp, 403, lti.FailState)
	})
	t.Run("unregistered platform", func(t *testing.T) {
		resp, err := idptest.NewBrowser().Get(lw.base + lti.LoginPath + "?" + url.Values{"iss": {"https://lms.other.example"},
			"login_hint": {"x"}, "target_link_uri": {lw.base + "/"}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		lw.wantPage(t, resp, 403, lti.FailUnknownPlatform)
	})
	// Nobody was signed in by any of these.
	var n int64
	lw.db.Gorm.Raw(`SELECT count(*) FROM oidc_identities WHERE subject = ?`, ltiPeople.ada.Sub).Scan(&n)
	if n != 0 {
		t.Errorf("a refused launch linked an account")
	}
}

func TestLTIDynamicRegistration(t *testing.T) {
	t.Parallel()
	lw := newLTIWorld(t)
	h := lw.ts.Handler()
	var reg lti.RegistrationURL
	r := call(t, h, "POST", "/api/admin/lti/registrations", nil, lw.admin.auth()...)
	if r.Status != 201 {
		t.Fatalf("registration URL: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &reg)
	other := ltitest.Start(t)
	clientID, deployment, err := other.StartRegistration(reg.URL)
	if err != nil {
		t.Fatal(err)
	}
	var ps []lti.Platform
	call(t, h, "GET", "/api/admin/lti/platforms", nil, lw.admin.auth()...).JSON(t, &ps)
	found := false
	for _, p := range ps {
		if p.Issuer == other.Issuer() && p.ClientID == clientID && len(p.DeploymentIDs) == 1 && p.DeploymentIDs[0] == deployment &&
			p.JWKSURL == other.JWKSURL() && p.TokenURL == other.TokenURL() && p.AuthURL == other.AuthURL() {
			found = true
		}
	}
	if !found {
		t.Fatalf("platforms %+v lack the registered %s", ps, other.Issuer())
	}
	// The URL works once.
	if _, _, err := other.StartRegistration(reg.URL); err == nil {
		t.Error("the registration URL worked twice")
	}
	// The newly registered platform launches Baton.
	c := ltiCourse("c4")
	other.AddCourse(c)
	to := lw.launch(t, idptest.NewBrowser(), other.LaunchURL(c, ltiPeople.ada, ltitest.Link{ResourceLinkID: "rl-d", TargetLinkURI: lw.base + "/quizzes/" + testQuiz}))
	if to.Path != "/quizzes/"+testQuiz {
		t.Fatalf("landed on %s", to)
	}
}

// TestLTINeverTakesOverAnAccount: an LMS lets people edit their own address,
// so a launch whose address an account already has (a password account, or
// a passwordless one the company provisioned) links it only after the
// owner's proof, never on the LMS's word.
func TestLTINeverTakesOverAnAccount(t *testing.T) {
	t.Parallel()
	lw := newLTIWorld(t)
	c := ltiCourse("c-takeover")
	lw.p.AddCourse(c)
	link := ltitest.Link{ResourceLinkID: "rl-t", Title: "A scenario", TargetLinkURI: lw.base + "/quizzes/" + testQuiz}
	// Ada's address already has a passwordless account, made by the company.
	var adaID string
	if err := lw.db.Gorm.Raw(`INSERT INTO users (email, name, password_hash, email_verified_at) VALUES (?, 'Ada', '', now()) RETURNING id`,
		ltiPeople.ada.Email).Scan(&adaID).Error; err != nil {
		t.Fatal(err)
	}
	to := lw.launch(t, idptest.NewBrowser(), lw.p.LaunchURL(c, ltiPeople.ada, link))
	if to.Path != "/login" || to.Query().Get("sso_link") == "" || to.Query().Get("email") != ltiPeople.ada.Email {
		t.Fatalf("a launch with a provisioned account's address landed on %s, want the proof page", to)
	}
	var sessions int64
	lw.db.Gorm.Raw(`SELECT count(*) FROM sessions WHERE user_id = ?`, adaID).Scan(&sessions)
	if sessions != 0 {
		t.Fatalf("the launch opened %d sessions of the existing account", sessions)
	}
	// The mailed link is the owner's proof: after it, launches sign in.
	r := call(t, lw.ts.Handler(), "POST", "/api/auth/oidc/link", map[string]string{"token": mailedLinkToken(t, lw.db, ltiPeople.ada.Email)})
	if r.Status != 404 && r.Status != 200 {
		t.Fatalf("link by mail: %d %s", r.Status, r.Body)
	}
}

// TestLTIAddressesProveNothing: an LMS lets people type their own address.
// An account a launch or a roster creates is an unverified learner, even at
// a BATON_ADMIN_EMAILS address; and once the address's owner proves the
// mailbox (here by a password reset), whoever launched with it first has no
// way back in (the pre-hijacked account).
func TestLTIAddressesProveNothing(t *testing.T) {
	t.Parallel()
	lw := newLTIWorld(t, func(c *app.Config) { c.AdminEmails = []string{"boss@example.com"} })
	h := lw.ts.Handler()
	mallory := ltitest.Person{Sub: "u-mallory", Name: "Mallory", Email: "boss@example.com", Roles: []string{ltitest.RoleLearner}}
	eve := ltitest.Person{Sub: "u-eve", Name: "Eve", Email: "boss2@example.com", Roles: []string{ltitest.RoleLearner}}
	c := ltitest.Course{ID: "c-proof", Title: "Course", Members: []ltitest.Person{mallory, eve, ltiPeople.grace}}
	lw.p.AddCourse(c)
	link := ltitest.Link{ResourceLinkID: "rl-p", TargetLinkURI: lw.base + "/quizzes/" + testQuiz}

	b := idptest.NewBrowser()
	lw.launch(t, b, lw.p.LaunchURL(c, mallory, link))
	m := lw.refresh(t, b)
	var me struct {
		Role          string
		EmailVerified bool `json:"email_verified"`
	}
	call(t, h, "GET", "/api/me", nil, m.auth()...).JSON(t, &me)
	if me.Role != "learner" || me.EmailVerified {
		t.Fatalf("an LMS launch at an admin address made %+v, want an unverified learner", me)
	}
	if r := call(t, h, "GET", "/api/admin/lti/platforms", nil, m.auth()...); r.Status != 403 {
		t.Fatalf("admin route as the LMS learner: %d", r.Status)
	}
	// Through an instructor's roster, the same.
	lw.p.AddCourse(c)
	lw.launch(t, idptest.NewBrowser(), lw.p.DeepLinkLaunchURL(c, ltiPeople.grace))
	var roster struct {
		Role     string
		Verified bool
	}
	lw.db.Gorm.Raw(`SELECT role, email_verified_at IS NOT NULL AS verified FROM users WHERE email = ?`, eve.Email).Scan(&roster)
	if roster.Role != "learner" || roster.Verified {
		t.Fatalf("a roster's account: %+v, want an unverified learner", roster)
	}

	// The address's owner resets the password through the mailbox: the
	// account is theirs now, and Mallory's next launch signs nobody in.
	call(t, h, "POST", "/api/auth/password-reset", map[string]string{"email": mallory.Email})
	token := queuedLink(t, lw.db, mallory.Email, "password_reset")
	if r := call(t, h, "POST", "/api/auth/password-reset/confirm", map[string]string{"token": token, "password": "a-brand-new-passphrase"}); r.Status != 204 {
		t.Fatalf("reset: %d %s", r.Status, r.Body)
	}
	if r := call(t, h, "GET", "/api/me", nil, m.auth()...); r.Status != 401 {
		t.Fatalf("the launcher's session after the owner's reset: %d", r.Status)
	}
	to := lw.launch(t, idptest.NewBrowser(), lw.p.LaunchURL(c, mallory, link))
	if to.Path != "/login" || to.Query().Get("sso_link") == "" {
		t.Fatalf("the launcher after the owner's reset landed on %s, want the proof page", to)
	}
	// The owner, verified now, is promoted as a verified listed address is.
	r := call(t, h, "POST", "/api/auth/login", map[string]string{"email": mallory.Email, "password": "a-brand-new-passphrase"})
	if r.Status != 200 {
		t.Fatalf("the owner's sign-in: %d %s", r.Status, r.Body)
	}
	owner := accountFrom(t, r, mallory.Email)
	var after struct{ Role string }
	call(t, h, "GET", "/api/me", nil, owner.auth()...).JSON(t, &after)
	if after.Role != "admin" {
		t.Fatalf("the owner of the listed address after proving it: %q", after.Role)
	}
}

// TestLTIDeepLinkReturnMustBeHTTPS: the browser is sent to the return URL
// with a signed answer, so a javascript: (or plain-http) one is refused at
// the launch.
func TestLTIDeepLinkReturnMustBeHTTPS(t *testing.T) {
	t.Parallel()
	lw := newLTIWorld(t)
	c := ltiCourse("c-ret")
	lw.p.AddCourse(c)
	for _, bad := range []string{"javascript:alert(document.domain)", "http://lms.example/return"} {
		resp, err := idptest.NewBrowser().Navigate(lw.p.DeepLinkLaunchURL(c, ltiPeople.grace, ltitest.Forged(ltitest.Forgery{Claims: func(m map[string]any) {
			m["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"].(map[string]any)["deep_link_return_url"] = bad
		}})))
		if err != nil {
			t.Fatal(err)
		}
		lw.wantPage(t, resp, 403, "invalid_token")
	}
}

// TestLTILoginRefusesUnreadableText: a NUL or invalid UTF-8 in the login
// initiation is the client's 400 page, not a database error.
func TestLTILoginRefusesUnreadableText(t *testing.T) {
	t.Parallel()
	lw := newLTIWorld(t)
	for _, iss := range []string{"https://x\x00", "https://\xff\xfe"} {
		resp, err := idptest.NewBrowser().Get(lw.base + lti.LoginPath + "?" + url.Values{"iss": {iss}, "login_hint": {"x"}, "target_link_uri": {lw.base + "/"}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		lw.wantPage(t, resp, 400, "bad_request")
	}
}
