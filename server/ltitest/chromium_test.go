package ltitest

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const chromiumPath = "/usr/bin/chromium"

// A real browser runs the chain too: Chromium opens the launch URL, runs
// the platform's self-submitting pages and ltijs' redirects, and lands on
// ltijs' answer for the launched person.
func TestChromiumLaunchesLTIJS(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("Chromium is not installed at %s: run make deps-test", chromiumPath)
	}
	tool := startLTIJS(t)
	p := Start(t)
	p.Logf = t.Logf
	tool.registerAt(t, p)
	c := course()
	p.AddCourse(c)
	launchURL := p.LaunchURL(c, ada, Link{ResourceLinkID: "rl-c", Title: "In Chromium", TargetLinkURI: tool.url + "/", Custom: map[string]string{"via": "chromium"}})

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(t.TempDir()))
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	defer cancelTimeout()

	if err := chromedp.Do(ctx, chromedp.Navigate(launchURL)); err != nil {
		t.Fatalf("Chromium: %v", err)
	}
	// The page navigates by itself several times: read it between hops.
	var location, text string
	for deadline := time.Now().Add(30 * time.Second); ; {
		location, _ = chromedp.Run(ctx, chromedp.Location())
		text, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		if strings.HasPrefix(location, tool.url+"/?ltik=") && strings.Contains(text, `"ltik"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Chromium stayed at %s: %.300s", location, text)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var seen map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(text)), &seen); err != nil {
		t.Fatalf("ltijs' page at %s: %.500s", location, text)
	}
	if seen["user"] != ada.Sub || seen["custom"].(map[string]any)["via"] != "chromium" {
		t.Fatalf("ltijs saw %v", seen)
	}
}
