package lessons

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
)

// Every module needs a job aid, and an aid's body follows the lessons'
// rules, reported as file:line.
func TestLoadAidsRejections(t *testing.T) {
	course, err := Load(Content())
	if err != nil {
		t.Fatal(err)
	}
	shipped := Aids()
	good := func() fstest.MapFS {
		f := fstest.MapFS{}
		for _, m := range course.Modules {
			src, err := fs.ReadFile(shipped, m.Slug+".md")
			if err != nil {
				t.Fatal(err)
			}
			f[m.Slug+".md"] = &fstest.MapFile{Data: src}
		}
		return f
	}
	if err := LoadAids(good(), course); err != nil {
		t.Fatalf("the shipped aids: %v", err)
	}
	const head = "---\nmodule: ceo-myth\ntitle: T\nsummary: S\npractice: P\n---\n"
	cases := []struct {
		name, body, want string
	}{
		{"level-1 heading", head + "# Big\n", "ceo-myth.md:7: use ## and below"},
		{"raw HTML", head + "Text\n\n<div>x</div>\n", "ceo-myth.md:9: raw HTML is not allowed"},
		{"no practice task", strings.Replace(head, "practice: P\n", "", 1) + "Body\n", "a job aid needs a title, a summary and a practice task"},
		{"unknown field", strings.Replace(head, "title: T", "title: T\ncolour: red", 1) + "Body\n", "bad front matter"},
	}
	for _, tc := range cases {
		f := good()
		f["ceo-myth.md"] = &fstest.MapFile{Data: []byte(tc.body)}
		if err := LoadAids(f, course); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	f := good()
	delete(f, "capstone.md")
	if err := LoadAids(f, course); err == nil || !strings.Contains(err.Error(), `module "capstone" has no job aid`) {
		t.Errorf("a missing aid: %v", err)
	}
}
