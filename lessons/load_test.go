package lessons

import (
	"strings"
	"testing"
	"testing/fstest"
)

const manifestOK = `modules:
  - slug: basics
    title: Basics
    summary: The basics.
  - slug: more
    title: More
    summary: More of it.
`

func lesson(slug, module string, position int, body string) string {
	return "---\nslug: " + slug + "\nmodule: " + module + "\ntitle: A lesson\nminutes: 5\nposition: " +
		string(rune('0'+position)) + "\nobjective: You can do a thing.\n---\n" + body
}

const check = "```quick-check\nid: first\nquestion: Which?\noptions:\n  - text: This\n    correct: true\n    feedback: Because.\n  - text: That\n    feedback: Because not.\n```\n"

func validFS() fstest.MapFS {
	return fstest.MapFS{
		"modules.yaml":   {Data: []byte(manifestOK)},
		"basics/01-a.md": {Data: []byte(lesson("a", "basics", 1, "## Hello\n\nSee [the next one](/lessons/b).\n\n"+check))},
		"basics/02-b.md": {Data: []byte(lesson("b", "basics", 2, "## Two\n\nText.\n\n```reflection\nid: think\nprompt: Think about it.\n```\n"))},
		"more/01-c.md":   {Data: []byte(lesson("c", "more", 1, "## Three\n\nText with `code`.\n"))},
	}
}

func TestLoadValidCourse(t *testing.T) {
	c, err := Load(validFS())
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Modules) != 2 || len(c.Lessons()) != 3 || c.Modules[1].Position != 2 {
		t.Fatalf("modules %d lessons %d", len(c.Modules), len(c.Lessons()))
	}
	a, _ := c.Lesson("a")
	if len(a.Checks) != 1 || a.Checks[0].Options[0].ID != "a" || !a.Checks[0].Options[0].Correct {
		t.Fatalf("checks %+v", a.Checks)
	}
	if !strings.Contains(a.HTML, `<div class="quick-check" data-check="first"></div>`) || strings.Contains(a.HTML, "Because") {
		t.Fatalf("quick check must render as a placeholder without its answers: %s", a.HTML)
	}
	b, _ := c.Lesson("b")
	if len(b.Reflections) != 1 || !strings.Contains(b.HTML, `data-reflection="think"`) {
		t.Fatalf("reflection %+v %s", b.Reflections, b.HTML)
	}
	if prev, next := c.Neighbours("b"); prev != "a" || next != "c" {
		t.Fatalf("neighbours of b: %q %q", prev, next)
	}
	if prev, next := c.Neighbours("a"); prev != "" || next != "b" {
		t.Fatalf("neighbours of a: %q %q", prev, next)
	}
}

// TestLoaderRejections: every rule, reported as file:line.
func TestLoaderRejections(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(fstest.MapFS)
		want   string
	}{
		{"missing manifest", func(f fstest.MapFS) { delete(f, "modules.yaml") }, "modules.yaml:1: missing module manifest"},
		{"manifest unknown field", func(f fstest.MapFS) {
			f["modules.yaml"] = &fstest.MapFile{Data: []byte(manifestOK + "    colour: red\n")}
		}, "modules.yaml:8:"},
		{"duplicate module", func(f fstest.MapFS) {
			f["modules.yaml"] = &fstest.MapFile{Data: []byte(manifestOK + "  - slug: basics\n    title: B\n    summary: S\n")}
		}, `modules.yaml:8: duplicate module slug "basics"`},
		{"bad module slug", func(f fstest.MapFS) {
			f["modules.yaml"] = &fstest.MapFile{Data: []byte(strings.Replace(manifestOK, "slug: more", "slug: More Stuff", 1))}
		}, `modules.yaml:5: module slug "More Stuff"`},
		{"module without lessons", func(f fstest.MapFS) { delete(f, "more/01-c.md") }, `module "more" has no lessons`},
		{"no front matter", func(f fstest.MapFS) { f["more/01-c.md"] = &fstest.MapFile{Data: []byte("## Just text\n")} }, "more/01-c.md:1: missing front matter"},
		{"front matter not closed", func(f fstest.MapFS) { f["more/01-c.md"] = &fstest.MapFile{Data: []byte("---\nslug: c\n## text\n")} }, "more/01-c.md:1: missing front matter"},
		{"bad front matter yaml", func(f fstest.MapFS) {
			f["more/01-c.md"] = &fstest.MapFile{Data: []byte("---\nslug: c\nmodule: [more\n---\nText\n")}
		}, "more/01-c.md:"},
		{"unknown front matter field", func(f fstest.MapFS) {
			f["more/01-c.md"] = &fstest.MapFile{Data: []byte(strings.Replace(lesson("c", "more", 1, "Text\n"), "minutes: 5", "minutes: 5\nauthor: me", 1))}
		}, "more/01-c.md:6: bad front matter"},
		{"front matter value that looks like a position", func(f fstest.MapFS) {
			f["more/01-c.md"] = &fstest.MapFile{Data: []byte(strings.Replace(lesson("c", "more", 1, "Text\n"), "title: A lesson", `title: !!int "line 9: x"`, 1))}
		}, "more/01-c.md:2: bad front matter: cannot decode !!str `line 9: x` as a !!int"},
		{"missing slug", func(f fstest.MapFS) {
			f["more/01-c.md"] = &fstest.MapFile{Data: []byte(lesson("", "more", 1, "Text\n"))}
		}, "more/01-c.md:2: missing slug"},
		{"duplicate lesson slug", func(f fstest.MapFS) {
			f["more/02-d.md"] = &fstest.MapFile{Data: []byte(lesson("c", "more", 2, "Text\n"))}
		}, `more/02-d.md:2: duplicate lesson slug "c"`},
		{"unknown module", func(f fstest.MapFS) {
			f["more/01-c.md"] = &fstest.MapFile{Data: []byte(lesson("c", "nowhere", 1, "Text\n"))}
		}, `more/01-c.md:3: unknown module "nowhere"`},
		{"module and folder disagree", func(f fstest.MapFS) {
			f["more/01-c.md"] = &fstest.MapFile{Data: []byte(lesson("c", "basics", 3, "Text\n"))}
		}, `more/01-c.md:3: module "basics" does not match the folder`},
		{"empty body", func(f fstest.MapFS) {
			f["more/01-c.md"] = &fstest.MapFile{Data: []byte(lesson("c", "more", 1, "\n  \n"))}
		}, "more/01-c.md:9: empty body"},
		{"broken link", func(f fstest.MapFS) {
			f["more/01-c.md"] = &fstest.MapFile{Data: []byte(lesson("c", "more", 1, "## X\n\nGo [there](/lessons/nowhere).\n"))}
		}, `more/01-c.md:11: link to unknown lesson "nowhere"`},
		{"raw html", func(f fstest.MapFS) {
			f["more/01-c.md"] = &fstest.MapFile{Data: []byte(lesson("c", "more", 1, "## X\n\n<script>alert(1)</script>\n"))}
		}, "more/01-c.md:11: raw HTML is not allowed"},
		{"inline raw html", func(f fstest.MapFS) {
			f["more/01-c.md"] = &fstest.MapFile{Data: []byte(lesson("c", "more", 1, "## X\n\nHi <img src=x onerror=alert(1)> there\n"))}
		}, "more/01-c.md:11: raw HTML is not allowed"},
		{"level-1 heading", func(f fstest.MapFS) {
			f["more/01-c.md"] = &fstest.MapFile{Data: []byte(lesson("c", "more", 1, "Intro\n\n# Big\n"))}
		}, "more/01-c.md:11: use ## and below"},
		{"two correct options", func(f fstest.MapFS) {
			f["more/01-c.md"] = &fstest.MapFile{Data: []byte(lesson("c", "more", 1, "## X\n\n"+strings.Replace(check, "    feedback: Because not.", "    correct: true\n    feedback: Because not.", 1)))}
		}, `more/01-c.md:11: quick-check "first" must have exactly one correct option, has 2`},
		{"option without feedback", func(f fstest.MapFS) {
			f["more/01-c.md"] = &fstest.MapFile{Data: []byte(lesson("c", "more", 1, "## X\n\n"+strings.Replace(check, "    feedback: Because not.\n", "", 1)))}
		}, `more/01-c.md:11: quick-check "first" option 2 has no feedback`},
		{"bad yaml in a block", func(f fstest.MapFS) {
			f["more/01-c.md"] = &fstest.MapFile{Data: []byte(lesson("c", "more", 1, "## X\n\n```quick-check\nid: first\nquestion: [oops\n```\n"))}
		}, "more/01-c.md:12: bad YAML in interactive block"},
		{"duplicate interactive id", func(f fstest.MapFS) {
			f["more/01-c.md"] = &fstest.MapFile{Data: []byte(lesson("c", "more", 1, "## X\n\n"+check+"\n"+check))}
		}, `duplicate interactive id "first"`},
		{"reflection without prompt", func(f fstest.MapFS) {
			f["more/01-c.md"] = &fstest.MapFile{Data: []byte(lesson("c", "more", 1, "## X\n\n```reflection\nid: r\n```\n"))}
		}, `more/01-c.md:11: reflection "r" has no prompt`},
		{"minutes out of range", func(f fstest.MapFS) {
			f["more/01-c.md"] = &fstest.MapFile{Data: []byte(strings.Replace(lesson("c", "more", 1, "Text\n"), "minutes: 5", "minutes: 0", 1))}
		}, "more/01-c.md:5: minutes must be between 1 and 120"},
		{"same position twice", func(f fstest.MapFS) {
			f["more/02-d.md"] = &fstest.MapFile{Data: []byte(lesson("d", "more", 1, "Text\n"))}
		}, "position 1 is also used by"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := validFS()
			tc.mutate(f)
			_, err := Load(f)
			if err == nil {
				t.Fatal("loaded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("problems:\n%v\nwant one containing %q", err, tc.want)
			}
		})
	}
}

func TestSanitize(t *testing.T) {
	dirty := `<p onclick="x()">hi</p><script>alert(1)</script><img src=x onerror=alert(1)><a href="javascript:alert(1)">x</a><iframe src="https://evil"></iframe><div class="quick-check" data-check="ok" style="color:red"></div>`
	clean := Sanitize(dirty)
	for _, bad := range []string{"<script", "onerror", "onclick", "javascript:", "<iframe", "style="} {
		if strings.Contains(clean, bad) {
			t.Errorf("%q survived: %s", bad, clean)
		}
	}
	if !strings.Contains(clean, `data-check="ok"`) {
		t.Errorf("placeholder lost: %s", clean)
	}
	// Markdown that tries the same gets escaped or dropped on render.
	f := validFS()
	f["more/01-c.md"] = &fstest.MapFile{Data: []byte(lesson("c", "more", 1, "## X\n\n[click](javascript:alert(1))\n\n```html\n<script>alert(1)</script>\n```\n"))}
	c, err := Load(f)
	if err != nil {
		t.Fatal(err)
	}
	l, _ := c.Lesson("c")
	if strings.Contains(l.HTML, "<script") || strings.Contains(l.HTML, "javascript:") {
		t.Fatalf("unsafe HTML rendered: %s", l.HTML)
	}
}

// TestShippedCourse checks the real course against the bar the product sets:
// at least six modules, two lessons of 350+ words each, an interactive piece
// in every lesson, 12,000+ words in all.
func TestShippedCourse(t *testing.T) {
	c, err := Load(Content())
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Modules) < 6 {
		t.Fatalf("%d modules", len(c.Modules))
	}
	total := 0
	for _, m := range c.Modules {
		if len(m.Lessons) < 2 {
			t.Errorf("module %s has %d lessons", m.Slug, len(m.Lessons))
		}
		for _, l := range m.Lessons {
			total += l.Words
			if l.Words < 350 {
				t.Errorf("%s: %d words", l.File, l.Words)
			}
			if len(l.Checks)+len(l.Reflections) == 0 {
				t.Errorf("%s: no interactive piece", l.File)
			}
		}
	}
	if total < 12000 {
		t.Errorf("course has %d words", total)
	}
}
