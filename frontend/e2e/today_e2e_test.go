package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/testdb"
)

// The learner's day on a phone (360×740, New York time): joining a team by
// code shows its open assignment at once; an overdue assignment, a due-soon
// one and a due review come in that order at the top, before the module
// cards; Review starts a review attempt; the reminder reads as plain text
// in local time; the end of a scenario puts focus on its heading; the
// header stays short; on a lesson the day is one line, first in main,
// linking to the home strip, and it stays away from an attempt's decisions.
func TestTodayOnAPhone(t *testing.T) {
	requireSetup(t)
	url := testdb.URL(t)
	base := startServer(t, "DATABASE_URL="+url, "BATON_REMINDER_INTERVAL=1s")
	db, err := database.Open(context.Background(), url, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	browser := newBrowser(t)

	// A manager with a team whose open assignment waits for joiners.
	const mgrPassword = "Copper-meadow-signal-5512"
	signedUp(t, base, "Morgan Manager", "morgan@today.test", mgrPassword)
	if err := db.Gorm.Exec(`UPDATE users SET role = 'manager' WHERE email = 'morgan@today.test'`).Error; err != nil {
		t.Fatal(err)
	}
	mgr := signIn(t, base, "morgan@today.test", mgrPassword)
	var team struct {
		ID         string `json:"id"`
		InviteCode string `json:"invite_code"`
	}
	if code := mgr.call("POST", "/api/teams", map[string]string{"name": "Phone pod"}, &team); code != 201 {
		t.Fatalf("create team: %d", code)
	}
	soon := time.Now().Add(26 * time.Hour).UTC().Format(time.RFC3339)
	if code := mgr.call("POST", "/api/assignments", map[string]any{"module": "what-you-dont-control", "due_at": soon, "team_id": team.ID}, nil); code != 201 {
		t.Fatalf("assign the team: %d", code)
	}

	lrn := newUser(t, browser, base, "learner")
	lrn.do("phone in New York", chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile), chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "America/New_York"})
		return err
	}))
	// A first visit cannot have a session: the app does not probe for one
	// (which would answer 401 and log an error in the console).
	lrn.open("/login", "input[name=email]")
	if probed := lrn.eval("refresh probe", `String(performance.getEntriesByType("resource").some(e => e.name.includes("/api/auth/refresh")))`); probed != "false" {
		t.Error("a first visit probed /api/auth/refresh")
	}
	// A rule the server checks reads as a sentence that names the field.
	lrn.open("/signup", "form input[name=name]")
	lrn.typeInto("input[name=name]", "Pat Phone")
	lrn.typeInto("input[name=email]", "pat@today.test")
	lrn.typeInto("input[name=password]", "password1234")
	lrn.click("form button[type=submit]")
	lrn.waitFor("the password rule", `!!document.querySelector(".field-error")`)
	if got := lrn.text(".field-error"); !strings.HasPrefix(got, "Password is too common") || !strings.HasSuffix(got, ".") {
		t.Errorf("the password error reads %q, want a sentence", got)
	}
	if got := lrn.text("form .alert-error"); got != "Check the highlighted fields." {
		t.Errorf("the form's error reads %q", got)
	}
	lrn.signUp("Pat Phone", "pat@today.test", "Velvet-canyon-orbit-3390")
	if h := lrn.text("h1"); !strings.HasPrefix(h, "Welcome, Pat") {
		t.Errorf("a brand-new learner is greeted %q", h)
	}
	lrn.waitFor("an encouraging empty day", `!!document.querySelector("[data-testid=today-empty]")`)
	lrn.axe("home, nothing due, at 360 px")

	// Joining by code brings the team's open assignment into Today at once.
	lrn.typeInto("input[name=invite_code]", team.InviteCode)
	lrn.click("form.inline-form button[type=submit]")
	lrn.waitFor("assignment in Today after joining", `document.querySelectorAll("[data-testid=today-due]").length === 1`)
	if txt := lrn.text("[data-testid=today-due]"); !strings.Contains(txt, "due tomorrow") {
		t.Errorf("due-soon row reads %q", txt)
	}

	// Play the module 1 scenario to a pass (at desktop width, where the
	// shared player helper clicks reliably); the result heading takes focus.
	lrn.do("desktop", chromedp.EmulateViewport(1280, 800))
	lrn.open("/modules/ceo-myth", ".scenario-summary a")
	lrn.click(".scenario-summary a")
	lrn.do("scenario page", chromedp.WaitVisible(chromedp.CSS(".scenario-intro button.btn-primary")))
	sc := scenarioNamed(t, strings.TrimPrefix(lrn.eval("quiz path", `location.pathname`), "/quizzes/"))
	lrn.click(".scenario-intro button.btn-primary")
	lrn.do("first step", chromedp.WaitVisible(chromedp.CSS("form.decide")))
	lrn.playScenario(sc, true, false)
	lrn.waitFor("focus on the result heading", `document.activeElement && document.activeElement.dataset.testid === "result-heading"`)
	lrn.do("phone again", chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile))
	lrn.waitFor("score before the ending", `document.querySelector(".result-grid .score").getBoundingClientRect().top < document.querySelector(".result-grid .ending").getBoundingClientRect().top`)
	if h, _ := strconv.ParseFloat(lrn.eval("header height", `String(document.querySelector(".site-header").getBoundingClientRect().height)`), 64); h > 64 || h == 0 {
		t.Errorf("the header is %.0f px high at 360 px, want at most 64", h)
	}
	lrn.waitFor("the Today bar first on the result", `document.querySelector("main").firstElementChild.textContent === "Today: 1 due soon See today →"`)
	lrn.axe("scenario result at 360 px")
	lrn.screenShot("scenario-result-phone-top")
	// The folded menu opens with its button and closes on a new page.
	lrn.click(".menu-toggle")
	lrn.waitFor("menu open", `document.querySelector(".menu-toggle").getAttribute("aria-expanded") === "true" && document.querySelector(".main-nav").getBoundingClientRect().height > 0`)
	lrn.axe("phone menu open")
	lrn.screenShot("phone-menu-open")
	lrn.click(`.main-nav a[href="/progress"]`)
	lrn.waitFor("menu closed on the new page", `location.pathname === "/progress" && document.querySelector(".menu-toggle").getAttribute("aria-expanded") === "false"`)

	// An overdue assignment of module 3, and the passed scenario's review falls due.
	var learnerID string
	db.Gorm.Raw(`SELECT id FROM users WHERE email = 'pat@today.test'`).Scan(&learnerID)
	late := time.Now().Add(-50 * time.Hour).UTC().Format(time.RFC3339)
	if code := mgr.call("POST", "/api/assignments", map[string]any{"module": "inspiration-over-direction", "due_at": late, "user_ids": []string{learnerID}}, nil); code != 201 {
		t.Fatalf("assign overdue: %d", code)
	}
	if err := db.Gorm.Exec(`UPDATE scenario_standings SET review_due_at = now() - interval '1 hour' WHERE user_id = ?`, learnerID).Error; err != nil {
		t.Fatal(err)
	}

	// The reminder job runs every second: wait for its overdue notice.
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		var n int
		db.Gorm.Raw(`SELECT count(*) FROM notifications WHERE user_id = ? AND kind = 'assignment_overdue'`, learnerID).Scan(&n)
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no overdue reminder was produced")
		}
	}
	lrn.open("/", "[data-testid=today]")
	lrn.waitFor("the day filled in", `document.querySelector("[data-testid=today-overdue]") && document.querySelector("[data-testid=today-review]") && document.querySelector("[data-testid=today-due]")`)
	order := lrn.eval("positions", `(() => {
		const top = (s) => document.querySelector(s).getBoundingClientRect().top;
		return [top("[data-testid=today-overdue]"), top("[data-testid=today-due]"), top("[data-testid=today-review]"), top(".module-card")].join(",");
	})()`)
	var tops []float64
	for _, s := range strings.Split(order, ",") {
		f, _ := strconv.ParseFloat(s, 64)
		tops = append(tops, f)
	}
	for i := 1; i < len(tops); i++ {
		if tops[i-1] >= tops[i] {
			t.Fatalf("overdue, due soon, review, module cards are not in that order from the top: %v", tops)
		}
	}
	if txt := lrn.text("[data-testid=today-overdue]"); !strings.Contains(txt, "2 days overdue") && !strings.Contains(txt, "3 days overdue") {
		t.Errorf("overdue row reads %q", txt)
	}
	if next := lrn.text("[data-testid=today-next]"); !strings.Contains(strings.ToLower(next), "overdue module") {
		t.Errorf("the next step %q does not go to the overdue module", next)
	}

	// The reminder: names as text, the due time local with its zone.
	lrn.waitFor("overdue reminder", `[...document.querySelectorAll(".notification-list li")].some(li => li.textContent.includes("Overdue"))`)
	notes := lrn.text(".notification-list")
	if strings.Contains(notes, `\`) || strings.Contains(notes, "UTC") {
		t.Errorf("notification text %q has escapes or UTC", notes)
	}
	if due := lrn.text("[data-testid=note-due]"); !strings.Contains(due, "EST") && !strings.Contains(due, "GMT-5") {
		t.Errorf("the due time %q is not in the viewer's zone", due)
	}
	if w := lrn.eval("page width", `String(document.documentElement.scrollWidth)`); w != "360" {
		t.Errorf("home at 360 px is %s px wide", w)
	}
	lrn.axe("home with the day at 360 px")
	lrn.shot("home-today-phone")
	lrn.screenShot("home-today-phone-top")

	// Elsewhere the day is one line, first in main, linking to the strip.
	lrn.open("/lessons/why-the-ceo-label-appeals", "#lesson-title")
	lrn.waitFor("the Today bar", `!!document.querySelector("[data-testid=today-bar]")`)
	if first := lrn.eval("first in main", `document.querySelector("main").firstElementChild.dataset.testid || ""`); first != "today-bar" {
		t.Errorf("the first thing in main on a lesson page is %q, want the Today bar", first)
	}
	if bar := lrn.text("[data-testid=today-bar]"); !strings.HasPrefix(bar, "Today: 1 overdue · 1 due soon · 1 review due") || !strings.Contains(bar, "See today") {
		t.Errorf("the Today bar reads %q", bar)
	}
	if href := lrn.eval("bar link", `document.querySelector("[data-testid=today-bar] a").getAttribute("href")`); href != "/#today" {
		t.Errorf("the Today bar links to %q, want /#today", href)
	}
	if h, _ := strconv.ParseFloat(lrn.eval("bar height", `String(document.querySelector("[data-testid=today-bar]").getBoundingClientRect().height)`), 64); h > 70 {
		t.Errorf("the Today bar is %.0f px high at 360 px: it buries the lesson", h)
	}
	if w := lrn.eval("lesson width", `String(document.documentElement.scrollWidth)`); w != "360" {
		t.Errorf("a lesson with the Today bar at 360 px is %s px wide", w)
	}
	lrn.axe("lesson with the Today bar at 360 px")
	lrn.screenShot("lesson-today-bar-phone")
	lrn.click("[data-testid=today-bar] a")
	lrn.waitFor("the home strip in view with focus", `location.pathname === "/" && document.activeElement && document.activeElement.id === "h-today" &&
		Math.abs(document.getElementById("today").getBoundingClientRect().top - parseFloat(getComputedStyle(document.getElementById("today")).scrollMarginTop)) < 2`)
	if n := lrn.eval("bars on home", `String(document.querySelectorAll("[data-testid=today-bar]").length)`); n != "0" {
		t.Errorf("home, which has the full strip, shows %s Today bars", n)
	}

	// Review starts a new attempt of the scenario, not the overview.
	lrn.click("[data-testid=today-review] button")
	lrn.do("review attempt", chromedp.WaitVisible(chromedp.CSS("form.decide")))
	if p := lrn.eval("path", `location.pathname`); !strings.HasPrefix(p, "/attempts/") {
		t.Fatalf("Review opened %s", p)
	}
	time.Sleep(300 * time.Millisecond) // time enough for a bar to load, were there one
	if n := lrn.eval("bars mid-scenario", `String(document.querySelectorAll("[data-testid=today-bar]").length)`); n != "0" {
		t.Errorf("an attempt's decisions show %s Today bars", n)
	}
	var attempts int
	db.Gorm.Raw(`SELECT count(*) FROM attempts WHERE user_id = ?`, learnerID).Scan(&attempts)
	if attempts != 2 {
		t.Errorf("%d attempts after Review, want 2", attempts)
	}

	// The manager's home names the team they manage, with its status.
	mb := newUser(t, browser, base, "manager")
	mb.signIn("morgan@today.test", mgrPassword)
	mb.waitFor("teams you manage", `!!document.querySelector("[data-testid=managed-teams] a")`)
	mb.waitFor("team status", `document.querySelector("[data-testid=managed-teams]").textContent.includes("1 overdue")`)
	if txt := mb.text("[data-testid=managed-teams]"); !strings.Contains(txt, "Phone pod") || !strings.Contains(txt, "1 member") {
		t.Errorf("teams you manage reads %q", txt)
	}
	if txt := mb.text("main"); strings.Contains(txt, "haven't joined a team") {
		t.Errorf("a manager's home says they have not joined a team: %q", trim(txt, 300))
	}
	mb.axe("manager home")
	mb.screenShot("manager-home")
}

// screenShot saves what the viewport shows (the first screen of a phone).
func (u *user) screenShot(name string) {
	u.t.Helper()
	u.evalAsync("settle", `new Promise(r => { window.scrollTo(0, 0); requestAnimationFrame(() => setTimeout(() => r("ok"), 150)); })`)
	png, err := chromedp.Run(u.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		u.t.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(shotDir(u.t), name+".png"), png, 0o600); err != nil {
		u.t.Logf("screenshot %s: %v", name, err)
	}
}
