package lessons

import (
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/baton-course/baton/server/contentfile"
)

// unsafeHTML finds a script element, an event-handler attribute or a
// javascript: URL inside a tag (the same words as text are harmless).
var unsafeHTML = regexp.MustCompile(`(?i)<script|<[^>]*\son[a-z]+\s*=|<[^>]*(href|src)\s*=\s*"?\s*javascript:`)

// FuzzLoad feeds arbitrary lesson files to the loader: it must never panic,
// and whatever it accepts must render without script or event handlers.
// The seeds run as ordinary tests; `go test -fuzz FuzzLoad ./lessons` explores.
func FuzzLoad(f *testing.F) {
	f.Add(lesson("a", "basics", 1, "## Hello\n\n"+check))
	f.Add("---\nslug: a\n---\n")
	f.Add("---\n---\n")
	f.Add(lesson("a", "basics", 1, "```quick-check\nid: x\nquestion: [\n```\n"))
	f.Add(lesson("a", "basics", 1, "<img src=x onerror=alert(1)>\n[x](javascript:alert(1))\n"))
	f.Add(lesson("a", "basics", 1, "```reflection\n- - - !!binary\n```\n"))
	f.Add("---\nslug: &a [*a]\n---\nbody")
	f.Fuzz(func(t *testing.T, src string) {
		fsys := fstest.MapFS{
			"modules.yaml":   {Data: []byte(manifestOK)},
			"basics/01-a.md": {Data: []byte(src)},
			"more/01-c.md":   {Data: []byte(lesson("c", "more", 1, "Text\n"))},
		}
		c, err := Load(fsys)
		if err != nil {
			for _, p := range err.(contentfile.Problems) {
				if !strings.Contains(p, ":") {
					t.Fatalf("problem without file:line: %q", p)
				}
			}
			return
		}
		for _, l := range c.Lessons() {
			if unsafeHTML.MatchString(l.HTML) {
				t.Fatalf("unsafe HTML accepted: %s", l.HTML)
			}
		}
	})
}
