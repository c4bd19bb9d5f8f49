package e2e

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/baton-course/baton/server/lrstest"
	"github.com/baton-course/baton/server/ltitest"
	"github.com/baton-course/baton/server/mailtest"
)

// ltiWorld is Baton with an LTI platform (the simulator, at localhost, a
// site apart from Baton at 127.0.0.1) and a learning record store.
type ltiWorld struct {
	base     string
	p        *ltitest.Platform
	lrs      *lrstest.LRS
	tool     ltitest.Tool
	clientID string
	deploy   string
	mp       *mailtest.Server
}

const ltiAdminEmail, ltiAdminPassword = "admin@e2e.test", "Amber-rowing-kettle-8841"

func startLTIWorld(t *testing.T) *ltiWorld {
	t.Helper()
	requireSetup(t)
	w := &ltiWorld{mp: mailtest.Start(t), lrs: lrstest.Start(t), p: ltitest.Start(t)}
	w.p.Logf = t.Logf
	addr := freeAddr(t)
	w.base = "http://" + addr
	startServerAt(t, addr, "BATON_PUBLIC_URL="+w.base, "BATON_ADMIN_EMAILS="+ltiAdminEmail,
		"BATON_SMTP_ADDR="+w.mp.SMTPAddr, "BATON_SMTP_FROM=baton@e2e.test",
		"BATON_XAPI_ENDPOINT="+w.lrs.Endpoint, "BATON_XAPI_USERNAME="+w.lrs.Username, "BATON_XAPI_PASSWORD="+w.lrs.Password)
	w.tool = ltitest.Tool{LoginURL: w.base + "/api/lti/login", RedirectURL: w.base + "/api/lti/launch", JWKSURL: w.base + "/api/lti/jwks",
		DeepLinkURL: w.base + "/", TargetLinkURI: w.base + "/"}
	w.clientID, w.deploy = w.p.Register(w.tool)
	return w
}

// clickButton presses the button of scope that says label.
func (u *user) clickButton(scope, label string) {
	u.t.Helper()
	js := fmt.Sprintf(`(() => { const b = [...document.querySelectorAll(%q)].find(b => b.textContent.trim() === %q);
		if (!b) return "missing"; b.click(); return "ok"; })()`, scope+" button", label)
	if r := u.eval("press "+label, js); r != "ok" {
		u.t.Fatalf("%s: no button %q in %s", u.name, label, scope)
	}
}

// waitAcrossNavigation is waitFor for a predicate that holds on the page a
// navigation leads to: the evaluation may meet the old page going away.
func (u *user) waitAcrossNavigation(step, predicate string) {
	u.t.Helper()
	var err error
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(u.ctx, 5*time.Second)
		var ok bool
		ok, err = chromedp.Run(ctx, chromedp.Evaluate[bool](predicate))
		cancel()
		if err == nil && ok {
			return
		}
	}
	if err == nil {
		err = fmt.Errorf("%s never held", predicate)
	}
	u.fail(step, err)
}

var (
	ltiAda   = ltitest.Person{Sub: "lms-ada", Name: "Ada Lovelace", Email: "ada@lms.example", Roles: []string{ltitest.RoleLearner}}
	ltiGrace = ltitest.Person{Sub: "lms-grace", Name: "Grace Hopper", Email: "grace@lms.example", Roles: []string{ltitest.RoleInstructor}}
)

// TestLTIJourney: an admin registers the platform on the admin page; a
// learner opens a scenario from their course (the simulator's launch page
// in Chromium, the chain of self-submitting forms for real), plays it to
// the end, and the score arrives at the platform while the LRS receives a
// statement per decision and the finish; an instructor adds a scenario
// from the course editor through the picker, and the platform verifies the
// signed answer; a refused launch shows a readable page.
func TestLTIJourney(t *testing.T) {
	w := startLTIWorld(t)
	browser := newBrowser(t)
	const platformName = "Moodle at Northwind"

	// The admin, on the admin page.
	newAPIClient(t, w.base).register("Ada Admin", ltiAdminEmail, ltiAdminPassword)
	verifyByMail(t, w.mp, 1, ltiAdminEmail, w.base)
	admin := newUser(t, browser, w.base, "admin")
	admin.signIn(ltiAdminEmail, ltiAdminPassword)
	admin.waitFor("signed in", `!!document.querySelector(".main-nav")`)
	admin.open("/admin/users", ".lti-section")
	admin.waitFor("no platform yet", `document.querySelector(".lti-section").textContent.includes("No platform is registered")`)
	for _, v := range []string{w.base + "/api/lti/login", w.base + "/api/lti/launch", w.base + "/api/lti/jwks"} {
		if !strings.Contains(admin.text(".lti-values"), v) {
			t.Errorf("Baton's values lack %s: %s", v, admin.text(".lti-values"))
		}
	}
	// The form names what the server would refuse, before sending it.
	admin.typeInto("[name=lti_issuer]", "http://moodle.example.com")
	admin.click("form.lti-form button[type=submit]")
	admin.waitFor("the issuer's problem", `document.querySelector("form.lti-form").textContent.includes("Platform ID (issuer) must be an https URL.")`)
	admin.axe("admin page with the LMS form's errors")
	for name, v := range map[string]string{"issuer": w.p.Issuer(), "client_id": w.clientID, "deployment_ids": w.deploy, "name": platformName,
		"auth_url": w.p.AuthURL(), "token_url": w.p.TokenURL(), "jwks_url": w.p.JWKSURL()} {
		admin.setInput("[name=lti_"+name+"]", v)
	}
	admin.click("form.lti-form button[type=submit]")
	admin.waitFor("the platform is listed", fmt.Sprintf(`!!document.querySelector(%q)`, ".lti-platform[data-issuer='"+w.p.Issuer()+"']"))
	if got := admin.text(".lti-platform"); !strings.Contains(got, platformName) || !strings.Contains(got, w.clientID) || !strings.Contains(got, w.deploy) {
		t.Errorf("the listed platform says %q", got)
	}
	admin.clickButton(".lti-section", "Create a registration URL")
	admin.waitFor("a one-time URL", fmt.Sprintf(`(document.querySelector("[data-testid=lti-registration]") || {textContent: ""}).textContent.includes(%q)`, w.base+"/api/lti/register?token="))
	admin.axe("admin page with a platform and a registration URL")
	admin.shot("admin-lti")

	// The learner opens the scenario from the course page.
	sc := scenarioOf(t, "ceo-myth")
	course := ltitest.Course{ID: "course-e2e", Title: "Leading without authority", Members: []ltitest.Person{ltiAda, ltiGrace}}
	w.p.AddCourse(course)
	link := ltitest.Link{ResourceLinkID: "rl-e2e", Title: sc.Title, TargetLinkURI: w.base + "/quizzes/" + sc.Slug, LineItem: true}
	ada := newUser(t, browser, w.base, "ada")
	ada.do("launch from the course page", chromedp.Navigate(w.p.LaunchURL(course, ltiAda, link)))
	ada.do("the scenario opens", chromedp.WaitVisible(chromedp.CSS(".scenario-intro button.btn-primary")))
	if got := ada.eval("where", `location.origin + location.pathname`); got != w.base+"/quizzes/"+sc.Slug {
		t.Fatalf("the launch opened %s", got)
	}
	ada.waitFor("signed in as the LMS's person", fmt.Sprintf(`document.querySelector(".user-name") && document.querySelector(".user-name").textContent.includes(%q)`, ltiAda.Name))
	ada.axe("scenario opened by an LTI launch")
	ada.click(".scenario-intro button.btn-primary")
	ada.do("first step", chromedp.WaitVisible(chromedp.CSS("form.decide")))
	percent := percentOf(t, ada.playScenario(sc, true, false))
	attemptID := strings.TrimPrefix(ada.eval("attempt", `location.pathname`), "/attempts/")

	// The score goes to the course's gradebook.
	items := w.p.LineItems(course.ID)
	if len(items) != 1 {
		t.Fatalf("line items %+v", items)
	}
	var scores []ltitest.Score
	for deadline := time.Now().Add(30 * time.Second); len(scores) == 0 && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		scores = w.p.Scores(items[0].ID)
	}
	if len(scores) != 1 || scores[0].UserID != ltiAda.Sub || scores[0].ScoreGiven == nil || *scores[0].ScoreGiven != float64(percent) ||
		scores[0].ScoreMaximum == nil || *scores[0].ScoreMaximum != 100 || scores[0].ActivityProgress != "Completed" || scores[0].GradingProgress != "FullyGraded" {
		t.Fatalf("scores at the platform %+v, want %d of 100 for %s", scores, percent, ltiAda.Sub)
	}

	// The LRS has one statement per decision, with points per skill, and
	// the finish with the score.
	ada.open("/attempts/"+attemptID+"/replay", "ol.replay-list")
	decisions := 0
	fmt.Sscan(ada.eval("decisions", `String([...document.querySelectorAll("ol.replay-list > li > h3")].filter(h => /^Decision \d+$/.test(h.textContent.trim())).length)`), &decisions)
	if decisions == 0 {
		t.Fatal("the replay lists no decisions")
	}
	answered, finished := w.statementsOf(t, attemptID, decisions)
	for _, s := range answered {
		points, _ := s.Result.Extensions[w.base+"/xapi/extensions/points"].(map[string]any)
		if s.Actor.Account.HomePage != w.base || s.Result.Response == "" || len(points) != 3 {
			t.Errorf("decision statement %s: actor %+v, response %q, points %v", s.ID, s.Actor.Account, s.Result.Response, points)
		}
		for _, skill := range []string{"vision", "alignment", "inspiration"} {
			if _, ok := points[skill].(float64); !ok {
				t.Errorf("decision statement %s has no points for %s: %v", s.ID, skill, points)
			}
		}
	}
	if finished.Result == nil || finished.Result.Score == nil || finished.Result.Score.Raw != float64(percent) || finished.Result.Score.Scaled != float64(percent)/100 {
		t.Errorf("finish statement %s", finished.Raw)
	}

	// The instructor adds a scenario from the course editor.
	grace := newUser(t, browser, w.base, "grace")
	grace.do("deep-linking launch", chromedp.Navigate(w.p.DeepLinkLaunchURL(course, ltiGrace)))
	grace.do("the picker", chromedp.WaitVisible(chromedp.CSS("form.lti-picker input[name=lti_item]")))
	if p := grace.eval("where", `location.pathname`); !strings.HasPrefix(p, "/lti/deep-links/") {
		t.Fatalf("the deep-linking launch opened %s", p)
	}
	if h := grace.text("main h1"); h != "Add Baton content to "+platformName {
		t.Errorf("the picker's heading says %q", h)
	}
	if n := grace.eval("checkboxes", `String(document.querySelectorAll("form.lti-picker input[type=checkbox]").length)`); n == "0" {
		t.Error("the picker offers no checkboxes to a platform that accepts several items")
	}
	grace.axe("deep-linking picker")
	grace.shot("lti-picker")
	grace.click(fmt.Sprintf(`form.lti-picker input[value="scenario:%s"]`, sc.Slug))
	grace.click("form.lti-picker button[type=submit]")
	grace.waitAcrossNavigation("back at the platform", `location.host.startsWith("localhost:") && document.body.innerText.includes("1 item(s) added to the course")`)
	links := w.p.DeepLinks()
	if len(links) != 1 || len(links[0]) != 1 {
		t.Fatalf("the platform took %v (refused: %v)", links, w.p.DeepLinkFailures())
	}
	if item := links[0][0]; item["type"] != "ltiResourceLink" || item["url"] != w.base+"/quizzes/"+sc.Slug || item["title"] != sc.Title {
		t.Errorf("the linked item %v", item)
	}

	// After a key rotation Baton still signs what the platform verifies.
	admin.clickButton(".lti-section", "Rotate the tool key")
	admin.clickButton(".lti-section", "Yes, make a new key")
	admin.waitFor("the new key", `document.querySelector(".lti-section").textContent.includes("signs from now on")`)

	// A forged launch is refused with a page that says why, styled, at a phone's width too.
	mallory := newUser(t, browser, w.base, "mallory")
	mallory.do("a forged launch", chromedp.Navigate(w.p.LaunchURL(course, ltiAda, link, ltitest.Forged(ltitest.Forgery{OtherKey: true}))))
	mallory.do("the refusal page", chromedp.WaitVisible(chromedp.CSS("main h1")))
	if h := mallory.text("main h1"); h != "This launch could not be verified" {
		t.Errorf("the refusal page says %q", h)
	}
	if got := mallory.eval("styled", `getComputedStyle(document.querySelector("main")).maxWidth + " " + getComputedStyle(document.body).fontFamily`); !strings.HasPrefix(got, "576px system-ui") {
		t.Errorf("the refusal page's style did not apply (blocked by its CSP?): %s", got)
	}
	mallory.axe("LTI refusal page")
	mallory.do("phone viewport", chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile))
	if wide := mallory.eval("width", `String(document.documentElement.scrollWidth)`); wide != "360" {
		t.Errorf("the refusal page is %s px wide on a 360 px phone", wide)
	}
	mallory.shot("lti-refusal")
}

// statementsOf waits (up to 40 s) for the attempt's statements: as many
// decisions as the attempt has, and its finish (passed or failed).
func (w *ltiWorld) statementsOf(t *testing.T, attemptID string, decisions int) (answered []lrstest.Statement, finished lrstest.Statement) {
	t.Helper()
	const answeredVerb = "http://adlnet.gov/expapi/verbs/answered"
	var all []lrstest.Statement
	var err error
	for deadline := time.Now().Add(40 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		all, err = w.lrs.Statements(ctx, url.Values{"registration": {attemptID}})
		cancel()
		answered, finished = nil, lrstest.Statement{}
		for _, s := range all {
			switch s.Verb.ID {
			case answeredVerb:
				answered = append(answered, s)
			case "http://adlnet.gov/expapi/verbs/passed", "http://adlnet.gov/expapi/verbs/failed":
				finished = s
			}
		}
		if err == nil && len(answered) >= decisions && finished.ID != "" {
			break
		}
	}
	if err != nil || len(answered) != decisions || finished.ID == "" {
		var verbs []string
		for _, s := range all {
			verbs = append(verbs, s.Verb.ID)
		}
		t.Fatalf("the LRS has %d decision statements of %d and finish %q (all: %v; err %v)", len(answered), decisions, finished.ID, verbs, err)
	}
	return answered, finished
}
