package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

const draftLesson = "decision-logs-and-pre-wiring"

// A learner never loses what they typed: a draft survives a reload; a
// session ended elsewhere while they write is re-asked for in place and the
// save then completes (and cancelling keeps the words); an outage shows one
// banner and the save goes through when the connection is back. And a
// browser that never signed in does not probe the refresh cookie (the 401
// every first visit logged).
func TestDraftsSurviveExpiryReloadAndOutage(t *testing.T) {
	requireSetup(t)
	base := startServer(t)
	browser := newBrowser(t)
	const email, password = "dana@drafts.test", "Lantern-orchard-quiet-6624"

	u := newUser(t, browser, base, "learner")
	u.open("/login", "input[name=email]")
	u.evalAsync("let the first load settle", `new Promise(r => setTimeout(() => r("ok"), 300))`)
	if n := u.eval("refresh probes", `String(performance.getEntriesByType("resource").filter(e => e.name.includes("/api/auth/refresh")).length)`); n != "0" {
		t.Errorf("a browser that never signed in probed the refresh cookie %s time(s)", n)
	}
	u.signUp("Dana Draft", email, password)
	other := signIn(t, base, email, password) // the learner's other device
	lessonPath := "/lessons/" + draftLesson
	box := ".reflection-card textarea"
	status := ".reflection-card [data-testid=draft-status]"

	// Typed, then the page reloads before any save: the draft comes back.
	u.open(lessonPath, box)
	const first = "Pre-wire the sales director before the review."
	u.typeInto(box, first)
	u.waitFor("draft kept", fmt.Sprintf(`document.querySelector(%q).dataset.status === "draft"`, status))
	if s := u.text(status); s != "Draft kept on this device" {
		t.Errorf("status while typing: %q", s)
	}
	u.do("reload before saving", chromedp.Reload())
	u.waitFor("draft restored", fmt.Sprintf(`document.querySelector(%q)?.value === %q`, box, first))
	if s := u.text(status); !strings.Contains(s, "restored") {
		t.Errorf("status after the reload: %q", s)
	}

	// The other device signs this browser out; the learner goes on typing
	// and presses Save: the dialog asks for sign-in in place.
	revokeBrowserSession := func() {
		var sessions []struct {
			ID      string `json:"id"`
			Current bool   `json:"current"`
		}
		other.call("GET", "/api/me/sessions", nil, &sessions)
		for _, s := range sessions {
			if !s.Current && other.call("DELETE", "/api/me/sessions/"+s.ID, nil, nil) != 204 {
				t.Fatalf("revoke session %s", s.ID)
			}
		}
	}
	revokeBrowserSession()
	const second = " Then log the decision and who made it."
	u.typeInto(box, second)
	u.click(".reflection-card button[type=submit]")
	dialog := "dialog.signin-dialog[open]"
	u.do("sign-in dialog", chromedp.WaitVisible(chromedp.CSS(dialog)))
	if p := u.eval("still on the lesson", `location.pathname`); p != lessonPath {
		t.Fatalf("sent to %s instead of asking in place", p)
	}
	if v := u.eval("email prefilled", `document.querySelector("dialog input[name=email]").value`); v != email {
		t.Errorf("dialog email: %q, want %q", v, email)
	}
	if f := u.eval("focus in the dialog", `document.activeElement.closest("dialog") ? document.activeElement.name : "outside"`); f != "password" {
		t.Errorf("focus on opening: %q, want the password field", f)
	}
	if l := u.eval("dialog label", `document.getElementById(document.querySelector("dialog").getAttribute("aria-labelledby")).textContent`); l == "" {
		t.Error("the dialog has no accessible name")
	}
	u.axe("sign-in dialog")
	u.shot("signin-dialog")

	// Escape cancels: the dialog closes, focus is back on Save, and the
	// page says the words were not sent but are kept.
	u.do("escape", chromedp.KeyEvent(kb.Escape))
	u.waitFor("dialog closed", `!document.querySelector("dialog.signin-dialog[open]")`)
	u.waitFor("not-sent message", fmt.Sprintf(`document.querySelector(%q).textContent.includes("kept on this device")`, status))
	u.waitFor("focus back on Save", `document.activeElement.matches(".reflection-card button[type=submit]")`)
	if v := u.eval("words kept", fmt.Sprintf(`document.querySelector(%q).value`, box)); v != first+second {
		t.Fatalf("box after cancelling: %q", v)
	}

	// Save again, sign in in the dialog: the save completes.
	u.click(".reflection-card button[type=submit]")
	u.do("sign-in dialog again", chromedp.WaitVisible(chromedp.CSS(dialog)))
	u.typeInto("dialog input[name=password]", password)
	u.click("dialog button[type=submit]")
	u.waitFor("saved after signing in", fmt.Sprintf(`document.querySelector(%q).textContent.startsWith("Saved")`, status))
	if n := u.eval("one dialog", `String(document.querySelectorAll("dialog[open]").length)`); n != "0" {
		t.Errorf("%s dialogs still open", n)
	}
	if body := serverReflection(t, other, draftLesson); body != first+second {
		t.Fatalf("the server has %q, want %q", body, first+second)
	}
	u.do("reload after saving", chromedp.Reload())
	u.waitFor("saved text after reload", fmt.Sprintf(`document.querySelector(%q)?.value === %q`, box, first+second))
	if n := u.eval("drafts left", `String(Object.keys(localStorage).filter(k => k.startsWith("baton.draft:")).length)`); n != "0" {
		t.Errorf("%s drafts left in storage after the server confirmed", n)
	}

	// The connection drops while saving: one banner, no red boxes; the
	// save goes through once the connection is back.
	const third = " Ask Tomas first."
	u.typeInto(box, third)
	u.do("go offline", networkOffline(true))
	u.click(".reflection-card button[type=submit]")
	banner := "[data-testid=outage-banner]:not(.outage-hidden)"
	u.do("outage banner", chromedp.WaitVisible(chromedp.CSS(banner)))
	if s := u.text(banner + " [role=status]"); !strings.HasPrefix(s, "Baton can't reach the server; retrying") {
		t.Errorf("banner says %q", s)
	}
	u.waitFor("countdown", `/Next try in \d+ s|Trying now/.test(document.querySelector("[data-testid=outage-countdown]").textContent)`)
	if n := u.eval("red boxes", `String(document.querySelectorAll(".alert-error, .field-error").length)`); n != "0" {
		t.Errorf("%s error boxes beside the banner", n)
	}
	u.axe("outage banner")
	u.shot("outage-banner")
	u.do("phone viewport", chromedp.EmulateViewport(360, 780, chromedp.EmulateMobile))
	if w := u.eval("page width", `String(document.documentElement.scrollWidth)`); w != "360" {
		t.Errorf("at 360 px the page with the banner is %s px wide", w)
	}
	u.do("desktop viewport", chromedp.EmulateViewport(1280, 900))
	// Retry now while still offline: the banner stays, the countdown starts over.
	u.waitFor("retry button ready", `!document.querySelector("[data-testid=outage-banner] button").disabled`)
	u.click("[data-testid=outage-banner] button")
	u.waitFor("tried and failed", `/Next try in \d+ s/.test(document.querySelector("[data-testid=outage-countdown]")?.textContent)`)
	if n := u.eval("one banner", `String(document.querySelectorAll("[data-testid=outage-banner]:not(.outage-hidden)").length)`); n != "1" {
		t.Errorf("%s banners", n)
	}
	// Back online: the next automatic try finds the server, and the queued save goes through.
	u.do("back online", networkOffline(false))
	u.waitFor("banner gone", `!document.querySelector("[data-testid=outage-banner]:not(.outage-hidden)")`)
	u.waitFor("saved after the outage", fmt.Sprintf(`document.querySelector(%q).textContent.startsWith("Saved")`, status))
	if body := serverReflection(t, other, draftLesson); body != first+second+third {
		t.Fatalf("after the outage the server has %q", body)
	}

	// The practice note under a job aid keeps its draft the same way.
	note := "#practice-note"
	u.open("/job-aids/cross-functional-alignment", note)
	const noted = "Wrote the decision log for the pricing call."
	u.typeInto(note, noted)
	u.waitFor("note draft kept", `document.querySelector("[data-testid=practice-task] [data-testid=draft-status]").dataset.status === "draft"`)
	u.do("reload the job aid", chromedp.Reload())
	u.waitFor("note draft restored", fmt.Sprintf(`document.querySelector(%q)?.value === %q`, note, noted))
	u.click("[data-testid=practice-task] button[type=submit]")
	u.waitFor("note saved", `document.querySelector("[data-testid=practice-task] [data-testid=draft-status]").dataset.status === "saved"`)
	var aid struct {
		Practice struct {
			Note string `json:"note"`
			Done bool   `json:"done"`
		} `json:"practice"`
	}
	if code := other.call("GET", "/api/job-aids/cross-functional-alignment", nil, &aid); code != 200 || aid.Practice.Note != noted || !aid.Practice.Done {
		t.Fatalf("practice on the server: %d %+v", code, aid.Practice)
	}
}

// serverReflection is the lesson's first reflection as the API has it.
func serverReflection(t *testing.T, c *apiClient, lesson string) string {
	t.Helper()
	var l struct {
		Reflections []struct {
			Body string `json:"body"`
		} `json:"reflections"`
	}
	if code := c.call("GET", "/api/lessons/"+lesson, nil, &l); code != 200 || len(l.Reflections) == 0 {
		t.Fatalf("GET lesson %s: %d, %d reflections", lesson, code, len(l.Reflections))
	}
	return l.Reflections[0].Body
}

// networkOffline cuts the tab off from the network (every request fails as
// with a dropped connection), or restores it.
func networkOffline(offline bool) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		var rules []*network.Conditions
		if offline {
			rules = []*network.Conditions{{Offline: true, DownloadThroughput: -1, UploadThroughput: -1}}
		}
		_, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{MatchedNetworkConditions: rules})
		return err
	})
}
