package lessons

import (
	"bytes"
	"embed"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"

	"github.com/baton-course/baton/server/contentfile"
)

//go:embed aids
var aids embed.FS

// Aids is the job aids shipped in the binary: one Markdown file per module,
// named after it.
func Aids() fs.FS {
	return contentfile.Embedded(aids, "aids")
}

// Aid is a module's job aid: a one- or two-page sheet to use at work (a
// decision log, a stakeholder map...), printable on its own, and the
// "try it this week" task that puts it to use.
type Aid struct {
	Module   *Module
	Title    string
	Summary  string
	Practice string // the task to do at work this week
	HTML     string // sanitized
	File     string
}

type aidFrontMatter struct {
	Module   string `yaml:"module"`
	Title    string `yaml:"title"`
	Summary  string `yaml:"summary"`
	Practice string `yaml:"practice"`
}

// LoadAids loads one job aid per module of the course from fsys; a module
// without one, an aid for no module, and the rules of lesson bodies (no
// raw HTML, no level-1 heading) are problems.
func LoadAids(fsys fs.FS, c *Course) error {
	var p contentfile.Problems
	files, _ := fs.Glob(fsys, "*.md")
	sort.Strings(files)
	c.aids = map[string]*Aid{}
	for _, file := range files {
		src, err := fs.ReadFile(fsys, file)
		if err != nil {
			p.Add(file, 1, "cannot read: %v", err)
			continue
		}
		if a := loadAid(file, src, c, &p); a != nil {
			c.aids[a.Module.Slug] = a
		}
	}
	for _, m := range c.Modules {
		if c.aids[m.Slug] == nil {
			p.Add(m.Slug+".md", 1, "module %q has no job aid", m.Slug)
		}
	}
	if len(p) > 0 {
		return p
	}
	return nil
}

func loadAid(file string, src []byte, c *Course, p *contentfile.Problems) *Aid {
	var fm aidFrontMatter
	_, bodyStart, ok := decodeFrontMatter(file, src, &fm, p)
	if !ok {
		return nil
	}
	m, known := c.Module(fm.Module)
	switch {
	case !known:
		p.Add(file, 2, "unknown module %q", fm.Module)
		return nil
	case strings.TrimSuffix(path.Base(file), ".md") != fm.Module:
		p.Add(file, 2, "a job aid is named after its module: %s.md", fm.Module)
	}
	a := &Aid{Module: m, Title: strings.TrimSpace(fm.Title), Summary: strings.TrimSpace(fm.Summary), Practice: strings.TrimSpace(fm.Practice), File: file}
	if a.Title == "" || a.Summary == "" || a.Practice == "" {
		p.Add(file, 2, "a job aid needs a title, a summary and a practice task")
	}
	body := src[bodyStart:]
	firstBodyLine := 1 + bytes.Count(src[:bodyStart], []byte("\n"))
	if len(bytes.TrimSpace(body)) == 0 {
		p.Add(file, firstBodyLine, "empty body")
		return nil
	}
	doc := markdown.Parser().Parse(text.NewReader(body))
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if msg := bodyProblem(n); entering && msg != "" {
			p.Add(file, firstBodyLine+bytes.Count(body[:startOf(n, body)], []byte("\n")), "%s", msg)
		}
		return ast.WalkContinue, nil
	})
	html, err := render(doc, body)
	if err != nil {
		p.Add(file, firstBodyLine, "cannot render: %v", err)
		return nil
	}
	a.HTML = html
	return a
}

// Aid is a module's job aid.
func (c *Course) Aid(module string) (*Aid, bool) {
	a, ok := c.aids[module]
	return a, ok
}
