// Package e2e drives the built browser app in real headless Chromium against a
// real Baton binary and PostgreSQL: the learner and manager journeys, an
// axe-core accessibility check on every page, and screenshots.
//
// The binary embeds frontend/dist, so build the app first (npm run build);
// `make test` does that.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/baton-course/baton/quizzes"
	"github.com/baton-course/baton/server/mailtest"
	"github.com/baton-course/baton/server/testdb"
)

const chromiumPath = "/usr/bin/chromium"

var (
	moduleRoot string
	binary     string
	axeSource  string
	setupErr   error
)

func TestMain(m *testing.M) {
	tmp, err := os.MkdirTemp("", "baton-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	setupErr = setup(tmp)
	code := testdb.Main(m)
	_ = os.RemoveAll(tmp)
	os.Exit(code)
}

// setup finds the module root, checks the app is built, builds the server
// binary once and loads axe-core. Its error fails every test with a clear message.
func setup(tmp string) error {
	dir, err := os.Getwd()
	if err != nil {
		return err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return errors.New("could not find go.mod above the e2e directory")
		}
		dir = parent
	}
	moduleRoot = dir

	dist := filepath.Join(moduleRoot, "frontend", "dist")
	index, err := os.ReadFile(filepath.Join(dist, "index.html"))
	assets, _ := filepath.Glob(filepath.Join(dist, "assets", "*.js"))
	if err != nil || len(assets) == 0 || !bytes.Contains(index, []byte("/assets/")) {
		return errors.New("frontend/dist has no built app (only a placeholder or nothing): run `cd frontend && npm ci && npm run build` (or `make test`) before the e2e tests")
	}

	axe, err := os.ReadFile(filepath.Join(moduleRoot, "frontend", "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		return fmt.Errorf("axe-core is missing (%v): run `cd frontend && npm ci`", err)
	}
	axeSource = string(axe)

	binary = filepath.Join(tmp, "baton")
	cmd := exec.Command("go", "build", "-o", binary, "./server")
	cmd.Dir = moduleRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./server: %v\n%s", err, out)
	}
	return nil
}

func requireSetup(t *testing.T) {
	t.Helper()
	if setupErr != nil {
		t.Fatal(setupErr)
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("Chromium is not installed at %s: run `make test` (which installs it) or `apt-get install chromium`", chromiumPath)
	}
}

// startServer runs the Baton binary on a fresh database and a free port.
func startServer(t *testing.T, env ...string) string {
	t.Helper()
	return startServerAt(t, freeAddr(t), env...)
}

// freeAddr is a loopback address nothing listens on, for a server whose
// address must be known before it starts (a provider's redirect URI).
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// startServerAt is startServer on a chosen address.
func startServerAt(t *testing.T, addr string, env ...string) string {
	t.Helper()
	var logs bytes.Buffer
	cmd := exec.Command(binary)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+testdb.URL(t), "BATON_ADDR="+addr, "BATON_LOG_FORMAT=text")
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout = &syncWriter{w: &logs}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("server log:\n%s", cmd.Stdout.(*syncWriter).String())
		}
	})

	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return base
			}
		}
		select {
		case <-done:
			t.Fatalf("baton exited before it was ready:\n%s", cmd.Stdout.(*syncWriter).String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("baton not ready after 30s:\n%s", cmd.Stdout.(*syncWriter).String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.String()
}

// newBrowser starts headless Chromium; each user gets its own browser context
// (separate cookies) from newUser.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("font-render-hinting", "none"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// user is one person at one browser tab with its own cookie jar.
type user struct {
	t    *testing.T
	ctx  context.Context
	base string
	name string
}

func newUser(t *testing.T, browser context.Context, base, name string) *user {
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	// The first action on a context creates its tab, which lives as long as the
	// context of that call: run it without a timeout.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatalf("open a tab for %s: %v", name, err)
	}
	return &user{t: t, ctx: ctx, base: base, name: name}
}

// do runs steps with a timeout, failing the test with the step name, the URL
// and the page text so a broken page fails fast and legibly.
func (u *user) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, 20*time.Second)
	defer cancel()
	start := time.Now()
	if err := chromedp.Do(ctx, actions...); err != nil {
		u.fail(step, err)
	}
	if d := time.Since(start); d > 3*time.Second {
		u.t.Logf("%s: %s took %v", u.name, step, d.Round(time.Millisecond))
	}
}

func (u *user) fail(step string, err error) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, 3*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 1500) : ""`))
	if png, e := chromedp.Run(ctx, chromedp.FullScreenshot(100)); e == nil {
		p := filepath.Join(u.t.TempDir(), "failure.png")
		_ = os.WriteFile(p, png, 0o644)
		u.t.Logf("failure screenshot: %s", p)
	}
	u.t.Fatalf("%s (%s): %s: %v\npage text:\n%s", u.name, loc, step, err, text)
}

func (u *user) eval(step, js string) string {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
	if err != nil {
		u.fail(step, err)
	}
	return v
}

func (u *user) evalAsync(step, js string) string {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		u.fail(step, err)
	}
	return v
}

// waitFor polls a JavaScript predicate until it is truthy.
func (u *user) waitFor(step, predicate string) {
	u.t.Helper()
	u.do(step, func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Poll[chromedp.Void](predicate, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(15*time.Second))(ctx, t)
		return chromedp.Void{}, err
	})
}

func (u *user) text(sel string) string {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		u.fail("read "+sel, err)
	}
	return strings.TrimSpace(v)
}

func (u *user) open(path, readySel string) {
	u.t.Helper()
	u.do("open "+path, chromedp.Navigate(u.base+path), chromedp.WaitVisible(chromedp.CSS(readySel)))
}

func (u *user) click(sel string) {
	u.t.Helper()
	u.do("click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

func (u *user) typeInto(sel, v string) {
	u.t.Helper()
	u.do("type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), v))
}

// setInput sets an input's value the way a user would, firing input events.
func (u *user) setInput(sel, v string) {
	u.t.Helper()
	js := fmt.Sprintf(`(() => { const el = document.querySelector(%q); if (!el) return "missing";
		el.value = %q; el.dispatchEvent(new Event("input", {bubbles: true})); el.dispatchEvent(new Event("change", {bubbles: true})); return "ok"; })()`, sel, v)
	if r := u.eval("set "+sel, js); r != "ok" {
		u.fail("set "+sel, errors.New(r))
	}
}

var (
	shotDirsMu sync.Mutex
	shotDirs   = map[*testing.T]string{}
)

// shotDir is $BATON_SCREENSHOT_DIR, or else a temporary directory of the test.
func shotDir(t *testing.T) string {
	if d := os.Getenv("BATON_SCREENSHOT_DIR"); d != "" {
		_ = os.MkdirAll(d, 0o755)
		return d
	}
	shotDirsMu.Lock()
	defer shotDirsMu.Unlock()
	if shotDirs[t] == "" {
		shotDirs[t] = t.TempDir()
	}
	return shotDirs[t]
}

// shot saves a full-page PNG of the current page.
func (u *user) shot(name string) {
	u.t.Helper()
	// Let transitions and fonts settle so the picture is stable.
	u.evalAsync("settle", `new Promise(r => { window.scrollTo(0, 0); requestAnimationFrame(() => setTimeout(() => r("ok"), 150)); })`)
	ctx, cancel := context.WithTimeout(u.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		u.fail("screenshot "+name, err)
	}
	if err := os.WriteFile(filepath.Join(shotDir(u.t), name+".png"), png, 0o644); err != nil {
		u.t.Fatal(err)
	}
}

// mobileShot saves a full-page PNG at a 360 px wide viewport, and checks the
// page does not scroll sideways and axe-core finds nothing serious there.
func (u *user) mobileShot(name string) {
	u.t.Helper()
	u.do("phone viewport", chromedp.EmulateViewport(360, 780, chromedp.EmulateMobile))
	u.evalAsync("settle", `new Promise(r => setTimeout(() => r("ok"), 250))`)
	if w := u.eval("page width", `String(document.documentElement.scrollWidth)`); w != "360" {
		u.t.Errorf("%s: at 360 px the page is %s px wide (horizontal scroll)", name, w)
	}
	u.axe(name + " at 360 px")
	u.shot(name)
	u.do("desktop viewport", chromedp.EmulateViewport(1280, 900))
}

type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
	} `json:"nodes"`
}

// axe injects axe-core into the page and fails on serious or critical violations.
func (u *user) axe(page string) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, 30*time.Second)
	defer cancel()
	// DevTools evaluation is not subject to the page's CSP, so the source runs as is.
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof axe !== "undefined"`))
	if err != nil {
		u.fail("check axe-core on "+page, err)
	}
	if !loaded {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](axeSource)); err != nil {
			u.fail("inject axe-core on "+page, err)
		}
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](
		`axe.run(document, {resultTypes: ["violations"]}).then(r => ({
			rules: r.passes.length + r.violations.length + r.incomplete.length,
			minor: r.violations.filter(v => v.impact !== "serious" && v.impact !== "critical").map(v => v.id + " (" + v.impact + ")"),
			bad: r.violations.filter(v => v.impact === "serious" || v.impact === "critical"),
		}))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		u.fail("axe.run on "+page, err)
	}
	var res struct {
		Rules int            `json:"rules"`
		Minor []string       `json:"minor"`
		Bad   []axeViolation `json:"bad"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		u.t.Fatalf("axe result on %s: %v", page, err)
	}
	if res.Rules == 0 {
		u.t.Errorf("axe on %s checked no rules", page)
	}
	if len(res.Minor) > 0 {
		u.t.Logf("axe on %s: minor or moderate: %s", page, strings.Join(res.Minor, ", "))
	}
	for _, v := range res.Bad {
		var where []string
		for i, n := range v.Nodes {
			if i == 4 {
				where = append(where, fmt.Sprintf("... and %d more", len(v.Nodes)-4))
				break
			}
			where = append(where, fmt.Sprintf("%v %s", n.Target, trim(n.HTML, 160)))
		}
		u.t.Errorf("axe on %s: %s (%s): %s\n    %s", page, v.ID, v.Impact, v.Help, strings.Join(where, "\n    "))
	}
}

func trim(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// signUp registers through the UI and lands on the course map.
func (u *user) signUp(name, email, password string) {
	u.t.Helper()
	u.open("/signup", "form input[name=name]")
	u.typeInto("input[name=name]", name)
	u.typeInto("input[name=email]", email)
	u.typeInto("input[name=password]", password)
	u.click("form button[type=submit]")
	u.do("course map after sign-up", chromedp.WaitVisible(chromedp.CSS(".module-card")))
}

// signIn fills in and sends the sign-in page (the caller waits for what
// should follow).
func (u *user) signIn(email, password string) {
	u.t.Helper()
	u.open("/login", "input[name=email]")
	u.typeInto("input[name=email]", email)
	u.typeInto("input[name=password]", password)
	u.click("form button[type=submit]")
}

// scenarioNamed is a shipped scenario as the engine loads it: on the page
// a choice goes by a per-attempt token, so the test knows a choice by what
// it says, and the state it is in by replaying its own choices.
func scenarioNamed(t *testing.T, slug string) *quizzes.Scenario {
	t.Helper()
	all, err := quizzes.LoadAll(quizzes.Content(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range all {
		if sc.Slug == slug {
			return sc
		}
	}
	t.Fatalf("no scenario %s", slug)
	return nil
}

// shownVariant is the variant the page says it plays.
func (u *user) shownVariant(sc *quizzes.Scenario) *quizzes.Variant {
	u.t.Helper()
	// textContent: the eyebrow's CSS upper-cases what innerText reports.
	raw := u.eval("variant", `document.querySelector("[data-testid=variant]").textContent`)
	title := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(raw), "·"))
	for _, v := range sc.Variants {
		if v.Title == title {
			return v
		}
	}
	u.t.Fatalf("the page names variant %q, which %s does not have", title, sc.Slug)
	return nil
}

func normal(s string) string { return strings.Join(strings.Fields(s), " ") }

// playScenario answers until the ending, taking the best move in the
// state the path is in (or the lowest-scoring one shown), and returns the
// result percent text. With keyboard, every decision is made with the
// keyboard alone: Tab-free focus on the option, Space, Enter.
func (u *user) playScenario(sc *quizzes.Scenario, best, keyboard bool) string {
	u.t.Helper()
	u.waitFor("the variant", `!!document.querySelector("[data-testid=variant]")`)
	v := u.shownVariant(sc)
	start, st0 := v.Begin()
	var path []quizzes.Answer
	for i := 0; i < 20; i++ {
		u.waitFor("a step or the result", `document.querySelector("form.decide") || document.querySelector("[data-testid=result-percent]") || document.querySelector("[data-testid=practice-percent]")`)
		if u.eval("state", `document.querySelector("form.decide") ? "step" : "done"`) == "done" {
			if u.eval("practice?", `document.querySelector("[data-testid=practice-percent]") ? "yes" : "no"`) == "yes" {
				return u.text("[data-testid=practice-percent]")
			}
			return u.text("[data-testid=result-percent]")
		}
		raw := u.eval("choices", `JSON.stringify([...document.querySelectorAll("form.decide input[type=radio]")].map(r => [r.name, r.value, r.closest("label").textContent.trim().split(/\s+/).join(" ")]))`)
		var radios [][3]string
		if err := json.Unmarshal([]byte(raw), &radios); err != nil || len(radios) == 0 {
			u.t.Fatalf("no choices on the step: %s", raw)
		}
		stepID := strings.TrimPrefix(radios[0][0], "step-")
		if h := u.text("h1"); !decisionRe.MatchString(h) {
			u.t.Errorf("the step's heading %q does not say decision N of about M", h)
		}
		// The state so far: replay this run's own choices (a practice run
		// starts where the page's first step is, in the attempt's state).
		st := st0
		if len(path) > 0 {
			replayed, err := v.Replay(start, st0, path)
			if err != nil {
				u.t.Fatal(err)
			}
			st = replayed[len(replayed)-1].After
		} else {
			start = stepID
		}
		step := v.Steps[stepID]
		choiceOf := func(r [3]string) *quizzes.Choice {
			for _, c := range step.Choices {
				if normal(c.Text) == r[2] {
					return c
				}
			}
			u.t.Fatalf("step %s shows a choice the variant does not have: %q", stepID, r[2])
			return nil
		}
		pick := radios[0]
		for _, r := range radios {
			if best && choiceOf(r).ID == v.BestChoice(stepID, st) || !best && choiceOf(r).Points.Total() < choiceOf(pick).Points.Total() {
				pick = r
			}
		}
		path = append(path, quizzes.Answer{StepID: stepID, ChoiceID: choiceOf(pick).ID})
		radio := fmt.Sprintf("form.decide input[value=%q]", pick[1])
		if keyboard {
			// As a keyboard user: the heading has the focus once the step
			// shows; Tab reaches the options, the arrow keys move through
			// them, Space picks, Tab reaches the button, Enter submits.
			if i > 0 || len(path) > 1 {
				u.waitFor("the heading has the focus", `document.activeElement && document.activeElement.tagName === "H1"`)
			}
			for tabs := 0; u.eval("focus on an option", `document.activeElement && document.activeElement.matches("form.decide input[type=radio]") ? "yes" : "no"`) != "yes"; tabs++ {
				if tabs > 20 {
					u.t.Fatal("Tab never reached the options")
				}
				u.do("Tab", chromedp.KeyEvent(kb.Tab))
			}
			for moves := 0; u.eval("focused option", `document.activeElement.value`) != pick[1]; moves++ {
				if moves > len(radios) {
					u.t.Fatal("the arrow keys never reached the option")
				}
				u.do("ArrowDown", chromedp.KeyEvent(kb.ArrowDown))
			}
			u.do("Space", chromedp.KeyEvent(" "))
			u.waitFor("the option is chosen", fmt.Sprintf(`document.querySelector(%q).checked`, radio))
			u.do("Tab to the button", chromedp.KeyEvent(kb.Tab))
			if u.eval("focus on submit", `document.activeElement.matches("form.decide button[type=submit]") ? "yes" : "no"`) != "yes" {
				u.t.Fatal("Tab from the options does not reach the button")
			}
			u.do("Enter", chromedp.KeyEvent(kb.Enter))
		} else {
			u.click(radio)
			u.click("form.decide button[type=submit]")
		}
		u.do("feedback", chromedp.WaitVisible(chromedp.CSS("section.outcome .feedback")))
		if i == 0 && !best {
			u.axe("scenario feedback")
			u.shot("scenario-feedback")
		}
		if keyboard {
			u.waitFor("Continue has the focus", `document.activeElement && document.activeElement.closest("section.outcome") !== null`)
			u.do("continue with the keyboard", chromedp.KeyEvent(kb.Enter))
		} else {
			u.click("section.outcome button")
		}
	}
	u.t.Fatal("the scenario did not end within 20 decisions")
	return ""
}

var (
	percentRe  = regexp.MustCompile(`(\d+)%`)
	decisionRe = regexp.MustCompile(`^Decision \d+ of about \d+$`)
)

func percentOf(t *testing.T, s string) int {
	t.Helper()
	m := percentRe.FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no percent in %q", s)
	}
	var n int
	fmt.Sscan(m[1], &n)
	return n
}

func TestLearnerJourney(t *testing.T) {
	requireSetup(t)
	base := startServer(t)
	browser := newBrowser(t)
	u := newUser(t, browser, base, "learner")

	// Sign-up shows the server's field errors, then succeeds.
	u.open("/signup", "form input[name=name]")
	u.axe("sign-up")
	u.shot("signup")
	u.typeInto("input[name=name]", "Lena Learner")
	u.typeInto("input[name=email]", "lena@e2e.test")
	u.typeInto("input[name=password]", "password1234")
	u.click("form button[type=submit]")
	u.do("server field error", chromedp.WaitVisible(chromedp.CSS(".field-error")))
	u.do("clear password", chromedp.Clear(chromedp.CSS("input[name=password]")))
	u.typeInto("input[name=password]", "Quiet-harbor-lantern-2047")
	u.click("form button[type=submit]")

	// Course map.
	u.do("course map", chromedp.WaitVisible(chromedp.CSS(".module-card")), chromedp.WaitVisible(chromedp.CSS("[data-testid=unread-count]")))
	if n := u.eval("modules", `String(document.querySelectorAll(".module-card").length)`); n != "7" {
		t.Errorf("course map shows %s modules, want 7", n)
	}
	u.axe("course map")
	u.shot("course-map")
	u.mobileShot("course-map-mobile")

	// Module page, then the first lesson.
	u.click(".module-card .module-title a")
	u.do("module page", chromedp.WaitVisible(chromedp.CSS(".lesson-steps")))
	u.axe("module page")
	u.click(".lesson-steps a.lesson-link")
	u.do("lesson", chromedp.WaitVisible(chromedp.CSS("#lesson-title")), chromedp.WaitVisible(chromedp.CSS(".quick-check-card")))
	lessonPath := u.eval("lesson path", `location.pathname`)
	u.axe("lesson")
	u.shot("lesson")
	u.mobileShot("lesson-mobile")

	// Quick check: choose an option, check, see feedback.
	u.eval("choose option", `(() => { document.querySelector(".quick-check-card input[type=radio]").click(); return "ok"; })()`)
	u.click(".quick-check-card button[type=submit]")
	u.do("quick-check feedback", chromedp.WaitVisible(chromedp.CSS(".quick-check-card .feedback")))
	if fb := u.text(".quick-check-card .feedback"); len(fb) < 20 {
		t.Errorf("quick-check feedback too short: %q", fb)
	}
	// Reflection saves.
	if u.eval("has reflection", `document.querySelector(".reflection-card textarea") ? "yes" : "no"`) == "yes" {
		u.typeInto(".reflection-card textarea", "I would ask the lead what drives the estimate.")
		u.click(".reflection-card button[type=submit]")
		u.waitFor("reflection saved", `document.querySelector(".reflection-card .save-status").textContent.startsWith("Saved")`)
	}
	u.axe("lesson after interaction")

	// Read to the end: progress reaches 100 and is saved.
	u.do("scroll to the end", chromedp.ScrollIntoView(chromedp.CSS("[data-testid=lesson-end]")))
	u.waitFor("lesson completed", `document.querySelector(".end-mark").textContent.includes("complete")`)
	if v := u.eval("reading bar", `document.querySelector(".reading-track").getAttribute("aria-valuenow")`); v != "100" {
		t.Errorf("reading progress bar at %s, want 100", v)
	}

	// Reload: the refresh cookie restores the session and the progress is saved.
	u.do("reload lesson", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#lesson-title")))
	if p := u.eval("path", `location.pathname`); p != lessonPath {
		t.Errorf("after reload the app is at %s, want %s", p, lessonPath)
	}
	u.waitFor("completed badge after reload", `document.querySelector(".lesson-meta").textContent.includes("Completed")`)

	// The module's scenario: play to an ending.
	u.open("/modules/ceo-myth", ".scenario-summary a")
	u.click(".scenario-summary a")
	u.do("scenario page", chromedp.WaitVisible(chromedp.CSS(".scenario-intro button.btn-primary")))
	quizPath := u.eval("quiz path", `location.pathname`)
	sc := scenarioNamed(t, strings.TrimPrefix(quizPath, "/quizzes/"))
	if got := u.text("[data-testid=variants]"); !strings.Contains(got, fmt.Sprintf("%d situations", len(sc.Variants))) {
		t.Errorf("the scenario page says %q of its variants", got)
	}
	u.axe("scenario intro")
	u.shot("scenario-intro")
	u.click(".scenario-intro button.btn-primary")
	u.do("first step", chromedp.WaitVisible(chromedp.CSS("form.decide")))
	u.axe("scenario step")
	u.shot("scenario-step")
	u.mobileShot("scenario-step-mobile")
	u.waitFor("the variant", `!!document.querySelector("[data-testid=variant]")`)
	firstVariant := u.shownVariant(sc)
	first := percentOf(t, u.playScenario(sc, false, false))
	// The worst path names the decision that cost the most, with the better move.
	u.waitFor("the costly decision", `!!document.querySelector("[data-testid=costly-decision] .feedback")`)
	u.waitFor("skills with their decisions", `document.querySelector("#h-skills").parentElement.textContent.includes("decision")`)
	u.mobileShot("scenario-result-mobile")

	// Practise from the costly decision: the run starts there, plays to an
	// ending with the keyboard, and counts nowhere.
	u.click("[data-testid=practise]")
	u.do("practice step", chromedp.WaitVisible(chromedp.CSS("form.decide")))
	if eyebrow := u.eval("eyebrow", `document.querySelector(".page-header .eyebrow").textContent`); !strings.Contains(eyebrow, "practice, not counted") {
		t.Errorf("the practice player's eyebrow says %q", eyebrow)
	}
	u.axe("practice step")
	u.mobileShot("practice-step-mobile")
	practised := percentOf(t, u.playScenario(sc, true, true))
	if practised <= first {
		t.Errorf("practising the best moves from the costly decision scored %d%%, the attempt %d%%", practised, first)
	}
	u.axe("practice result")
	u.mobileShot("practice-result-mobile")
	u.click(".result-actions a.btn-primary")
	u.do("back at the attempt's result", chromedp.WaitVisible(chromedp.CSS("[data-testid=result-percent]")))
	if got := percentOf(t, u.text("[data-testid=result-percent]")); got != first {
		t.Errorf("after practice the attempt shows %d%%, it scored %d%%", got, first)
	}

	// The result with the skill chart.
	for _, s := range []string{"vision", "alignment", "inspiration"} {
		v := u.eval("skill "+s, fmt.Sprintf(`(document.querySelector('.skill-chart [data-skill=%s] .skill-value') || {}).textContent || ""`, s))
		if !percentRe.MatchString(v) {
			t.Errorf("skill chart has no value for %s: %q", s, v)
		}
	}
	u.axe("scenario result")
	u.shot("scenario-result")

	// Replay of that attempt.
	u.click(".result-actions a.btn-secondary")
	u.do("replay", chromedp.WaitVisible(chromedp.CSS(".replay-list")))
	u.axe("replay")

	// Retake with other choices.
	u.do("back", chromedp.NavigateBack(), chromedp.WaitVisible(chromedp.CSS(".result-actions")))
	// Back on the result page once its path is the attempt's and the
	// attempt as stored has loaded (the costly decision comes from it).
	u.waitFor("the result page settled", `!location.pathname.endsWith("/replay") && !!document.querySelector("[data-testid=result-percent]") && !!document.querySelector("[data-testid=costly-decision]")`)
	u.click(".result-actions button.btn-primary")
	u.do("retake starts", chromedp.WaitVisible(chromedp.CSS("form.decide")))
	u.waitFor("the variant", `!!document.querySelector("[data-testid=variant]")`)
	if again := u.shownVariant(sc); again == firstVariant {
		t.Errorf("the retake meets the same situation (%s)", again.ID)
	}
	second := percentOf(t, u.playScenario(sc, true, true))
	if second != 100 {
		t.Errorf("the best path scored %d%%, want 100%%", second)
	}
	u.axe("scenario result (passed)")
	u.shot("scenario-result-passed")
	u.click(".result-actions a.btn-secondary")
	u.do("replay with answer key", chromedp.WaitVisible(chromedp.CSS(".key-step")))
	u.waitFor("the variant's best path", `document.querySelectorAll("[data-testid=best-path] li").length > 0`)
	u.axe("replay with answer key")

	// History shows both attempts and the best score.
	u.open(quizPath, "[data-testid=attempt-history]")
	if rows := u.eval("history rows", `String(document.querySelectorAll("[data-testid=attempt-history] tbody tr").length)`); rows != "2" {
		t.Errorf("attempt history has %s rows, want 2", rows)
	}
	best := max(first, second)
	if got := percentOf(t, u.text("[data-testid=best-percent]")); got != best {
		t.Errorf("best score shows %d%%, want %d%% (attempts %d%% and %d%%)", got, best, first, second)
	}
	u.axe("scenario history")

	// The module's job aid: a clean page that prints without the app's
	// chrome, and a practice task marked done with a note.
	u.open("/modules/ceo-myth", "[data-testid=job-aid-link]")
	u.click("[data-testid=job-aid-link]")
	u.do("job aid", chromedp.WaitVisible(chromedp.CSS("[data-testid=job-aid] table")))
	u.axe("job aid")
	u.mobileShot("job-aid-mobile")
	u.do("print media", emulateMedia("print"))
	if shown := u.eval("header when printed", `getComputedStyle(document.querySelector(".site-header")).display`); shown != "none" {
		t.Errorf("the printed job aid shows the site header (display %s)", shown)
	}
	if shown := u.eval("practice card when printed", `getComputedStyle(document.querySelector("[data-testid=practice-task]")).display`); shown != "none" {
		t.Errorf("the printed job aid shows the practice form (display %s)", shown)
	}
	u.shot("job-aid-print")
	u.do("screen media", emulateMedia(""))
	u.typeInto("[data-testid=practice-task] textarea", "Mapped who decides the pricing page with Ana and Ben.")
	u.click("[data-testid=practice-task] input[type=checkbox]")
	u.click("[data-testid=practice-task] button[type=submit]")
	u.waitFor("practice done", `document.querySelector("[data-testid=practice-status]").textContent.includes("shared with your manager")`)
	u.axe("job aid, practice done")

	// My progress, then a reload keeps the session.
	u.click(`.main-nav a[href="/progress"]`)
	u.do("progress page", chromedp.WaitVisible(chromedp.CSS(".history-chart")))
	u.axe("my progress")
	u.shot("my-progress")
	u.do("reload progress", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(".history-chart")))
	if name := u.text(".user-name"); !strings.Contains(name, "Lena Learner") {
		t.Errorf("after reload the header shows %q, want the learner's name", name)
	}
}

// emulateMedia makes the page render for a CSS media type ("print"; ""
// restores the screen).
func emulateMedia(media string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: media})
		return err
	})
}

// apiClient talks to the API directly (for the admin set-up steps).
type apiClient struct {
	t     *testing.T
	base  string
	token string
	hc    *http.Client
}

func (c *apiClient) call(method, path string, body any, out any) int {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if out != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	if res.StatusCode >= 300 {
		c.t.Logf("%s %s: %d %s", method, path, res.StatusCode, data)
	}
	return res.StatusCode
}

// newAPIClient is a client of the API with its own cookie jar (for the
// refresh and device cookies), signed in as no one.
func newAPIClient(t *testing.T, base string) *apiClient {
	jar, _ := cookiejar.New(nil)
	return &apiClient{t: t, base: base, hc: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
}

// apiUser is the account a sign-up or sign-in answers with.
type apiUser struct {
	ID   string `json:"id"`
	Role string `json:"role"`
}

// register signs an account up through the API and keeps its access token.
func (c *apiClient) register(name, email, password string) apiUser {
	c.t.Helper()
	return c.authenticate("/api/auth/register", map[string]string{"email": email, "password": password, "name": name}, 201)
}

// login signs in through the API and keeps the access token.
func (c *apiClient) login(email, password string) apiUser {
	c.t.Helper()
	return c.authenticate("/api/auth/login", map[string]string{"email": email, "password": password}, 200)
}

func (c *apiClient) authenticate(path string, body map[string]string, want int) apiUser {
	c.t.Helper()
	var tok struct {
		AccessToken string  `json:"access_token"`
		User        apiUser `json:"user"`
	}
	if code := c.call("POST", path, body, &tok); code != want {
		c.t.Fatalf("%s as %s: %d, want %d", path, body["email"], code, want)
	}
	c.token = tok.AccessToken
	return tok.User
}

// signedUp is a client of a new account registered through the API (for
// set-up steps the journey does not look at).
func signedUp(t *testing.T, base, name, email, password string) *apiClient {
	t.Helper()
	c := newAPIClient(t, base)
	c.register(name, email, password)
	return c
}

// signIn is a client signed in through the API (for set-up steps the
// journey does not look at).
func signIn(t *testing.T, base, email, password string) *apiClient {
	t.Helper()
	c := newAPIClient(t, base)
	c.login(email, password)
	return c
}

func TestManagerJourney(t *testing.T) {
	requireSetup(t)
	mp := mailtest.Start(t)
	base := startServer(t, "BATON_ADMIN_EMAILS=admin@e2e.test", "BATON_SMTP_ADDR="+mp.SMTPAddr, "BATON_SMTP_FROM=baton@e2e.test")
	browser := newBrowser(t)

	// An admin, through the API.
	admin := newAPIClient(t, base)
	// A listed admin address is a learner until its mail is read.
	if role := admin.register("Ada Admin", "admin@e2e.test", "Amber-rowing-kettle-8841").Role; role != "learner" {
		t.Fatalf("unverified admin@e2e.test has role %q, want learner", role)
	}
	verifyByMail(t, mp, 1, "admin@e2e.test", base)
	if role := admin.login("admin@e2e.test", "Amber-rowing-kettle-8841").Role; role != "admin" {
		t.Fatalf("verified admin@e2e.test has role %q, want admin", role)
	}

	// The manager signs up in the UI and is promoted by the admin.
	mgr := newUser(t, browser, base, "manager")
	mgr.signUp("Morgan Manager", "morgan@e2e.test", "Copper-meadow-signal-5512")
	var users []struct {
		ID    string `json:"id"`
		Email string `json:"email"`
	}
	admin.call("GET", "/api/users?q=morgan", nil, &users)
	if len(users) != 1 {
		t.Fatalf("admin finds %d users for morgan, want 1", len(users))
	}
	if code := admin.call("PATCH", "/api/users/"+users[0].ID, map[string]string{"role": "manager"}, nil); code != 200 {
		t.Fatalf("promote manager: %d", code)
	}
	// A role change ends the person's sessions (a new privilege level gets a
	// new session): the next page load asks them to sign in, and the new
	// session carries the manager role.
	mgr.do("reload after promotion", chromedp.Reload())
	mgr.signInAgain("morgan@e2e.test", "Copper-meadow-signal-5512", `.main-nav a[href="/teams"]`)

	// Create a team in the UI.
	mgr.click(`.main-nav a[href="/teams"]`)
	mgr.do("teams page", chromedp.WaitVisible(chromedp.CSS("input[name=team_name]")))
	mgr.axe("teams")
	mgr.typeInto("input[name=team_name]", "Checkout squad <PMs>")
	mgr.click(".col-side form button[type=submit]")
	mgr.do("team page", chromedp.WaitVisible(chromedp.CSS("[data-testid=invite-code]")))
	code := mgr.text("[data-testid=invite-code]")
	if !regexp.MustCompile(`^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$`).MatchString(code) {
		t.Fatalf("invite code %q does not look like one", code)
	}
	if h := mgr.text("h1"); h != "Checkout squad <PMs>" {
		t.Errorf("team heading %q: names must show as text", h)
	}
	mgr.axe("team (empty)")

	// A learner joins with the code in the UI and reads a lesson to the end.
	lrn := newUser(t, browser, base, "learner")
	lrn.signUp("Jo Joiner", "jo@e2e.test", "Velvet-canyon-orbit-3390")
	lrn.typeInto("input[name=invite_code]", strings.ToLower(code))
	lrn.click("form.inline-form button[type=submit]")
	lrn.waitFor("joined", `document.querySelector(".success-text") && document.querySelector(".success-text").textContent.includes("Checkout squad")`)
	lrn.open("/lessons/why-the-ceo-label-appeals", "#lesson-title")
	lrn.do("scroll to the end", chromedp.ScrollIntoView(chromedp.CSS("[data-testid=lesson-end]")))
	lrn.waitFor("lesson completed", `document.querySelector(".end-mark").textContent.includes("complete")`)

	// The manager sees the member, assigns module 1 (due in two weeks) and
	// module 2 (due yesterday, so overdue at once), and sees the progress.
	mgr.do("reload team", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(".member-list")))
	if m := mgr.text(".member-list"); !strings.Contains(m, "Jo Joiner") {
		t.Fatalf("members list %q lacks the learner", m)
	}
	mgr.click("section[aria-labelledby=h-assign] button[type=submit]")
	mgr.waitFor("assigned", `document.querySelector("section[aria-labelledby=h-assign] .success-text").textContent.includes("Assigned")`)
	mgr.setInput("section[aria-labelledby=h-assign] select", "what-you-dont-control")
	yesterday := time.Now().Add(-24 * time.Hour).Format("2006-01-02T15:04")
	mgr.setInput("section[aria-labelledby=h-assign] input[type=datetime-local]", yesterday)
	mgr.click("section[aria-labelledby=h-assign] button[type=submit]")
	// A date in the past is asked about before it is sent.
	mgr.do("past-date warning", chromedp.WaitVisible(chromedp.CSS("[data-testid=past-date-warning]")))
	mgr.click("[data-testid=past-date-warning] .btn-primary")
	mgr.waitFor("second assignment", `document.querySelector("section[aria-labelledby=h-assign] .success-text").textContent.includes("What a PM does not control")`)
	mgr.waitFor("progress row", `[...document.querySelectorAll("[data-testid=team-progress] tbody th")].some(th => th.textContent.includes("Jo Joiner"))`)
	mgr.waitFor("assignment in table", `document.querySelector("[data-testid=team-progress] td[data-module=ceo-myth] .cell-tag")`)
	cell := mgr.text("[data-testid=team-progress] td[data-module=ceo-myth] .cell-pct")
	if percentOf(t, cell) == 0 {
		t.Errorf("team table shows %q for the learner's module 1, want their reading progress", cell)
	}
	mgr.waitFor("overdue highlighted", `document.querySelector("[data-testid=team-progress] td[data-module=what-you-dont-control].overdue")`)
	mgr.axe("team progress")
	mgr.shot("team-progress")

	// The learner sees the assignments with the overdue mark.
	lrn.open("/", ".assignment-list li")
	lrn.waitFor("overdue mark", `document.querySelector(".assignment-list li.overdue")`)
	lrn.axe("course map with assignments")

	// The admin's users page.
	adm := newUser(t, browser, base, "admin")
	adm.open("/login", "input[name=email]")
	adm.axe("sign-in")
	adm.typeInto("input[name=email]", "admin@e2e.test")
	adm.typeInto("input[name=password]", "Amber-rowing-kettle-8841")
	adm.click("form button[type=submit]")
	adm.do("signed in", chromedp.WaitVisible(chromedp.CSS(`.main-nav a[href="/admin/users"]`)))
	adm.click(`.main-nav a[href="/admin/users"]`)
	adm.do("users page", chromedp.WaitVisible(chromedp.CSS(".users-table")))
	if txt := adm.text(".users-table"); !strings.Contains(txt, "morgan@e2e.test") {
		t.Errorf("users table lacks the manager: %q", trim(txt, 300))
	}
	adm.axe("admin users")
	adm.shot("admin-users")
}
