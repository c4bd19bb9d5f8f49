package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/baton-course/baton/quizzes"
	"github.com/baton-course/baton/server/ltitest"
	"github.com/baton-course/baton/server/mailtest"
)

// visit is one page of the app opened at a concrete path by one person.
type visit struct {
	who   string // anon, learner, manager or admin
	path  string
	ready string // JavaScript predicate: the page has shown what it loads
	// doc names the screenshot of this page in the docs (see docShots).
	doc string
	// pathOf, when set, gives path once the person is there (a page only
	// a launch from outside leads to).
	pathOf func() string
}

// appRoutes reads the route table of App.tsx, so a page added there is a
// page this test has to visit.
func appRoutes(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(moduleRoot, "frontend", "src", "App.tsx"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range regexp.MustCompile(`\{\s*pattern:\s*'([^']+)'`).FindAllStringSubmatch(string(src), -1) {
		out = append(out, m[1])
	}
	if len(out) < 10 {
		t.Fatalf("found only %d routes in App.tsx; has the route table changed shape?", len(out))
	}
	return out
}

// longWorld is a course in use by people whose names and addresses are as
// long as the app accepts: the learner's name is one unbroken 100-character
// word, the team's name 99 characters.
type longWorld struct {
	learnerName, learnerEmail, managerName, managerEmail, adminEmail, password string
	teamName, memberName, memberEmail                                          string
	teamID, finished, inProgress, practice, quiz                               string
	learnerID                                                                  string
	// An LMS with a long name, and its instructor, who reaches the
	// deep-linking picker by a launch from the course editor.
	lms          *ltitest.Platform
	lmsName      string
	lmsCourse    ltitest.Course
	instructor   ltitest.Person
	deepLinkPath string
}

func longNames() longWorld {
	word := "Wolfeschlegelsteinhausenbergerdorff"
	return longWorld{
		learnerName:  strings.Repeat(word, 3)[:100],
		learnerEmail: "rosalind.fairweather-montgomery.department-of-alignment@subsidiary.example-enterprise-holdings.test",
		managerName:  strings.Repeat("Bartholomew Featherstonehaugh-Oppenheimer ", 3)[:100],
		managerEmail: "bartholomew.featherstonehaugh-oppenheimer.head-of-product@subsidiary.example-enterprise-holdings.test",
		adminEmail:   "admin@e2e.test",
		password:     "Quiet-harbor-lantern-2047",
		teamName:     ("Checkout, payments and subscription-lifecycle product managers (EMEA) " + word + word)[:99],
		memberName:   strings.Repeat("Maximiliana Vandenberghe-Smithson ", 3)[:100],
		memberEmail:  "maximiliana.vandenberghe-smithson.principal-product-manager@example-enterprise-holdings.test",
		lmsName:      ("Moodle of the " + word + word + " subsidiary learning platform (EMEA)")[:100],
		instructor: ltitest.Person{Sub: "lms-instructor", Name: strings.Repeat("Konstantinopoulou-Papadimitriou ", 4)[:100],
			Email: "konstantinopoulou.papadimitriou.head-of-learning@subsidiary.example-enterprise-holdings.test", Roles: []string{ltitest.RoleInstructor}},
	}
}

// build creates the accounts, the team, assignments (one overdue), two
// finished attempts by the worst path, a practice run, an attempt in
// progress and a shared practice note, all through the API.
func (w *longWorld) build(t *testing.T, base string, mp *mailtest.Server) {
	t.Helper()
	admin := newAPIClient(t, base)
	admin.register("Ada Admin", w.adminEmail, w.password)
	verifyByMail(t, mp, 1, w.adminEmail, base)
	admin.login(w.adminEmail, w.password)

	mgr := newAPIClient(t, base)
	mgrUser := mgr.register(w.managerName, w.managerEmail, w.password)
	if code := admin.call("PATCH", "/api/users/"+mgrUser.ID, map[string]string{"role": "manager"}, nil); code != 200 {
		t.Fatalf("promote the manager: %d", code)
	}
	mgr.login(w.managerEmail, w.password)
	var team struct {
		ID         string `json:"id"`
		InviteCode string `json:"invite_code"`
	}
	if code := mgr.call("POST", "/api/teams", map[string]string{"name": w.teamName}, &team); code != 201 {
		t.Fatalf("create the team: %d", code)
	}
	w.teamID = team.ID

	lrn := signedUp(t, base, w.learnerName, w.learnerEmail, w.password)
	var me struct {
		ID string `json:"id"`
	}
	if code := lrn.call("GET", "/api/me", nil, &me); code != 200 {
		t.Fatalf("me: %d", code)
	}
	w.learnerID = me.ID
	other := signedUp(t, base, w.memberName, w.memberEmail, w.password)
	for _, c := range []*apiClient{lrn, other} {
		if code := c.call("POST", "/api/teams/join", map[string]string{"invite_code": team.InviteCode}, nil); code != 200 {
			t.Fatalf("join the team: %d", code)
		}
	}
	past := time.Now().Add(-50 * time.Hour).UTC().Format(time.RFC3339)
	soon := time.Now().Add(30 * time.Hour).UTC().Format(time.RFC3339)
	for module, due := range map[string]string{"ceo-myth": past, "what-you-dont-control": soon} {
		if code := mgr.call("POST", "/api/assignments", map[string]any{"module": module, "due_at": due, "team_id": team.ID}, nil); code != 201 {
			t.Fatalf("assign %s: %d", module, code)
		}
	}

	lrn.call("PUT", "/api/lessons/why-the-ceo-label-appeals/progress", map[string]int{"percent": 100}, nil)
	sc := scenarioOf(t, "ceo-myth")
	w.quiz = sc.Slug
	for range 2 {
		w.finished = playWorstByAPI(t, lrn, sc)
	}
	playWorstByAPI(t, other, sc)
	var practice struct {
		ID string `json:"id"`
	}
	if code := lrn.call("POST", "/api/attempts/"+w.finished+"/practice", nil, &practice); code != 201 {
		t.Fatalf("start practice: %d", code)
	}
	w.practice = practice.ID
	var started struct {
		ID string `json:"id"`
	}
	if code := lrn.call("POST", "/api/quizzes/"+sc.Slug+"/attempts", nil, &started); code != 201 {
		t.Fatalf("start an attempt: %d", code)
	}
	w.inProgress = started.ID
	w.registerLMS(t, base, admin)
	note := "Mapped who decides the pricing page: " + strings.Repeat("stakeholder-alignment-", 6)
	shared := true
	if code := lrn.call("PUT", "/api/job-aids/ceo-myth/practice", map[string]any{"note": note, "shared": shared}, nil); code != 200 {
		t.Fatalf("practice note: %d", code)
	}
}

// registerLMS starts an LTI platform and registers it (with its long name)
// as the admin does, so the admin page lists it and its instructor can
// open the deep-linking picker.
func (w *longWorld) registerLMS(t *testing.T, base string, admin *apiClient) {
	t.Helper()
	if w.instructor.Sub == "" {
		w.instructor = ltitest.Person{Sub: "lms-instructor", Name: "Irene Instructor", Email: "irene@lms.example", Roles: []string{ltitest.RoleInstructor}}
		w.lmsName = "Moodle"
	}
	w.lms = ltitest.Start(t)
	clientID, deployment := w.lms.Register(ltitest.Tool{LoginURL: base + "/api/lti/login", RedirectURL: base + "/api/lti/launch",
		JWKSURL: base + "/api/lti/jwks", DeepLinkURL: base + "/", TargetLinkURI: base + "/"})
	if code := admin.call("POST", "/api/admin/lti/platforms", map[string]any{"issuer": w.lms.Issuer(), "client_id": clientID,
		"deployment_ids": []string{deployment}, "name": w.lmsName, "auth_url": w.lms.AuthURL(), "token_url": w.lms.TokenURL(),
		"jwks_url": w.lms.JWKSURL()}, nil); code != 201 {
		t.Fatalf("register the LMS: %d", code)
	}
	w.lmsCourse = ltitest.Course{ID: "course-long", Title: w.teamName, Members: []ltitest.Person{w.instructor}}
	w.lms.AddCourse(w.lmsCourse)
}

// scenarioOf is the first shipped scenario of a module.
func scenarioOf(t *testing.T, module string) *quizzes.Scenario {
	t.Helper()
	all, err := quizzes.LoadAll(quizzes.Content(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range all {
		if sc.Module == module {
			return sc
		}
	}
	t.Fatalf("no scenario in module %s", module)
	return nil
}

// playWorstByAPI plays an attempt to its ending through the API, taking the
// lowest-scoring choice at every step (so there is something to practise),
// and returns the attempt's id.
func playWorstByAPI(t *testing.T, c *apiClient, sc *quizzes.Scenario) string {
	t.Helper()
	type step struct {
		ID      string `json:"id"`
		Choices []struct {
			ID   string `json:"id"`
			Text string `json:"text"`
		} `json:"choices"`
	}
	var a struct {
		ID      string `json:"id"`
		Variant struct {
			ID string `json:"id"`
		} `json:"variant"`
		Step *step `json:"step"`
	}
	if code := c.call("POST", "/api/quizzes/"+sc.Slug+"/attempts", nil, &a); code != 201 {
		t.Fatalf("start an attempt of %s: %d", sc.Slug, code)
	}
	var v *quizzes.Variant
	for _, x := range sc.Variants {
		if x.ID == a.Variant.ID {
			v = x
		}
	}
	if v == nil {
		t.Fatalf("the attempt plays variant %q, which %s does not have", a.Variant.ID, sc.Slug)
	}
	for s := a.Step; s != nil; {
		pick, low := s.Choices[0].ID, 1<<30
		for _, ch := range s.Choices {
			for _, authored := range v.Steps[s.ID].Choices {
				if normal(authored.Text) == normal(ch.Text) && authored.Points.Total() < low {
					pick, low = ch.ID, authored.Points.Total()
				}
			}
		}
		var res struct {
			Step *step `json:"step"`
		}
		if code := c.call("POST", "/api/attempts/"+a.ID+"/answers", map[string]string{"step_id": s.ID, "choice_id": pick}, &res); code != 200 {
			t.Fatalf("answer step %s: %d", s.ID, code)
		}
		s = res.Step
	}
	return a.ID
}

// visits lists a concrete page for every route of App.tsx, by pattern.
func (w *longWorld) visits() map[string][]visit {
	has := func(sel string) string { return fmt.Sprintf(`!!document.querySelector(%q)`, sel) }
	h1 := has("main h1")
	return map[string][]visit{
		"/login":                        {{who: "anon", path: "/login", ready: has("input[name=email]")}},
		"/signup":                       {{who: "anon", path: "/signup", ready: has("input[name=name]")}},
		"/forgot-password":              {{who: "anon", path: "/forgot-password", ready: has("input[name=email]")}},
		"/reset-password":               {{who: "anon", path: "/reset-password?token=not-a-token", ready: h1}},
		"/verify-email":                 {{who: "anon", path: "/verify-email?token=not-a-token", ready: h1}},
		"/sso/link":                     {{who: "anon", path: "/sso/link?token=not-a-token", ready: h1 + " && " + has("main [role=alert]")}},
		"/account":                      {{who: "learner", path: "/account", ready: h1}, {who: "admin", path: "/account", ready: h1}},
		"/":                             {{who: "learner", path: "/", ready: has(".assignment-list li") + " && " + has(".module-card"), doc: "learner-home"}, {who: "manager", path: "/", ready: has(".module-card")}},
		"/modules/:slug":                {{who: "learner", path: "/modules/ceo-myth", ready: has(".lesson-steps")}},
		"/lessons/:slug":                {{who: "learner", path: "/lessons/why-the-ceo-label-appeals", ready: has(".quick-check-card")}},
		"/quizzes/:slug":                {{who: "learner", path: "/quizzes/" + w.quiz, ready: has("[data-testid=attempt-history] tbody tr")}},
		"/attempts/:id":                 {{who: "learner", path: "/attempts/" + w.finished, ready: has("[data-testid=result-percent]")}, {who: "learner", path: "/attempts/" + w.inProgress, ready: has("form.decide")}},
		"/attempts/:id/replay":          {{who: "learner", path: "/attempts/" + w.finished + "/replay", ready: has(".replay-list")}},
		"/practice/:id":                 {{who: "learner", path: "/practice/" + w.practice, ready: has("form.decide")}},
		"/job-aids/:module":             {{who: "learner", path: "/job-aids/ceo-myth", ready: has("[data-testid=job-aid] table")}},
		"/progress":                     {{who: "learner", path: "/progress", ready: has(".history-chart")}},
		"/teams":                        {{who: "manager", path: "/teams", ready: has("input[name=team_name]") + " && " + has("a.team-name")}},
		"/teams/:id":                    {{who: "manager", path: "/teams/" + w.teamID, ready: has("[data-testid=team-progress] tbody tr") + " && " + has(".member-list"), doc: "manager-cockpit"}},
		"/admin/users":                  {{who: "admin", path: "/admin/users", ready: has(".users-table tbody tr")}},
		"/teams/:id/coaching/:scenario": {{who: "manager", path: "/teams/" + w.teamID + "/coaching/" + w.quiz, ready: has("[data-testid=coaching-brief]")}}, // its README picture comes from TestCoachingBriefJourney, whose team is past the floor,
		"/teams/:id/members/:user_id":   {{who: "manager", path: "/teams/" + w.teamID + "/members/" + w.learnerID, ready: has("[data-testid=member-scenarios]"), doc: "member-drilldown"}},
		"/lti/deep-links/:id":           {{who: "instructor", pathOf: func() string { return w.deepLinkPath }, ready: has("form.lti-picker input[name=lti_item]")}},
	}
}

// No page of the app is wider than a 360 px phone, whoever looks at it,
// with the longest names the app accepts; and axe-core finds nothing
// serious on any of them there.
func TestNoPageWiderThanAPhone(t *testing.T) {
	requireSetup(t)
	mp := mailtest.Start(t)
	base := startServer(t, "BATON_ADMIN_EMAILS=admin@e2e.test", "BATON_SMTP_ADDR="+mp.SMTPAddr, "BATON_SMTP_FROM=baton@e2e.test")
	w := longNames()
	w.build(t, base, mp)
	checkEveryPage(t, base, &w, false)
}

// TestDocScreenshots takes the README's pictures with ordinary names, when
// BATON_SCREENSHOTS names the directory (docs/screenshots), checking the
// pages on the way as TestNoPageWiderThanAPhone does.
func TestDocScreenshots(t *testing.T) {
	if os.Getenv("BATON_SCREENSHOTS") == "" {
		t.Skip("set BATON_SCREENSHOTS=docs/screenshots to take the README's screenshots")
	}
	requireSetup(t)
	mp := mailtest.Start(t)
	base := startServer(t, "BATON_ADMIN_EMAILS=admin@e2e.test", "BATON_SMTP_ADDR="+mp.SMTPAddr, "BATON_SMTP_FROM=baton@e2e.test")
	w := longWorld{learnerName: "Lena Learner", learnerEmail: "lena@example.com", managerName: "Morgan Manager", managerEmail: "morgan@example.com",
		adminEmail: "admin@e2e.test", password: "Quiet-harbor-lantern-2047", teamName: "Checkout squad",
		memberName: "Jo Joiner", memberEmail: "jo@example.com"}
	w.build(t, base, mp)
	checkEveryPage(t, base, &w, true)
}

// checkEveryPage visits every route of App.tsx at 360×740 as the people of
// w; with docs set it also takes the screenshots of docs/screenshots.
func checkEveryPage(t *testing.T, base string, w *longWorld, docs bool) {
	t.Helper()
	visits := w.visits()
	routes := appRoutes(t)
	for _, r := range routes {
		if len(visits[r]) == 0 {
			t.Errorf("App.tsx has the route %s, which this test does not visit: add it to visits", r)
		}
	}
	for r := range visits {
		if !slices.Contains(routes, r) {
			t.Errorf("this test visits %s, which App.tsx no longer has", r)
		}
	}
	if t.Failed() {
		return
	}

	browser := newBrowser(t)
	people := map[string]*user{}
	person := func(who string) *user {
		if u := people[who]; u != nil {
			return u
		}
		u := newUser(t, browser, base, who)
		email := map[string]string{"learner": w.learnerEmail, "manager": w.managerEmail, "admin": w.adminEmail}[who]
		if email != "" {
			u.signIn(email, w.password)
			u.waitFor("signed in", `!!document.querySelector(".main-nav")`)
		}
		if who == "instructor" {
			// Signed in by the LMS: a deep-linking launch from its course editor.
			u.do("deep-linking launch", chromedp.Navigate(w.lms.DeepLinkLaunchURL(w.lmsCourse, w.instructor)))
			u.do("the picker", chromedp.WaitVisible(chromedp.CSS("form.lti-picker")))
			w.deepLinkPath = u.eval("picker path", `location.pathname`)
		}
		u.do("phone viewport", chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile))
		people[who] = u
		return u
	}
	shots := 0
	for _, r := range routes {
		for _, v := range visits[r] {
			u := person(v.who)
			if v.pathOf != nil {
				v.path = v.pathOf()
			}
			u.do("open "+v.path, chromedp.Navigate(base+v.path))
			u.waitFor(v.path+" has loaded", v.ready+` && !document.querySelector("main .loading")`)
			u.evalAsync("settle", `new Promise(r => requestAnimationFrame(() => setTimeout(() => r("ok"), 200)))`)
			page := fmt.Sprintf("%s as %s", v.path, v.who)
			if want, _, _ := strings.Cut(v.path, "?"); u.eval("path", `location.pathname`) != want {
				t.Errorf("%s: landed on %s", page, u.eval("path", `location.pathname`))
			}
			wide := u.eval("page width", `(() => {
				// A phone widens its layout viewport to fit what overflows, so
				// the width to hold to is the device's, 360 px.
				const vw = 360, sw = document.documentElement.scrollWidth;
				if (sw <= window.innerWidth && window.innerWidth === vw) return "";
				// Name the outermost elements that reach past the viewport.
				const out = [...document.querySelectorAll("body *")].filter(el => {
					const r = el.getBoundingClientRect();
					if (r.right <= vw + 0.5 || r.width === 0) return false;
					for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
						if (p.getBoundingClientRect().right > vw + 0.5) return false;
						if (getComputedStyle(p).overflowX !== "visible") return false;
					}
					return true;
				}).slice(0, 5).map(el => el.tagName.toLowerCase() + (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : "") + " in " + (el.parentElement.className || el.parentElement.tagName.toLowerCase()) + " \"" + el.textContent.trim().slice(0, 30) + "\" (" + Math.round(el.getBoundingClientRect().right) + " px)");
				return sw + " px wide, the window " + window.innerWidth + " px: " + out.join(", ");
			})()`)
			if wide != "" {
				t.Errorf("%s scrolls sideways: the page is %s", page, wide)
			}
			u.axe(page + " at 360 px")
			if os.Getenv("BATON_SCREENSHOT_DIR") != "" {
				u.shot(fmt.Sprintf("phone-%02d-%s", shots, v.who))
				shots++
			}
			if docs && v.doc != "" {
				u.docShot(v.doc+"-phone", v.ready)
				u.do("desktop viewport", chromedp.EmulateViewport(1280, 900))
				u.waitFor("desktop layout", v.ready)
				u.docShot(v.doc, v.ready)
				u.do("phone viewport", chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile))
			}
		}
	}
}

// docShot saves a full-page screenshot into $BATON_SCREENSHOTS (relative to
// the repository root), the pictures the README shows.
func (u *user) docShot(name, ready string) {
	u.t.Helper()
	dir := os.Getenv("BATON_SCREENSHOTS")
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(moduleRoot, dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		u.t.Fatal(err)
	}
	u.evalAsync("settle", `new Promise(r => { window.scrollTo(0, 0); requestAnimationFrame(() => setTimeout(() => r("ok"), 250)); })`)
	ctx, cancel := context.WithTimeout(u.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		u.fail("screenshot "+name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		u.t.Fatal(err)
	}
}
