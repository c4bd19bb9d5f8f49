package lessons

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/baton-course/baton/server/contentfile"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
	"go.yaml.in/yaml/v3"
)

var slugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// ManifestFile names the module manifest at the root of the content.
const ManifestFile = "modules.yaml"

// Interactive pieces are fenced code blocks with these info strings.
const (
	quickCheckBlock = "quick-check"
	reflectionBlock = "reflection"
)

// Load reads, validates and renders the course in fsys: modules.yaml and one
// folder of lessons per module. It returns contentfile.Problems listing
// everything wrong.
func Load(fsys fs.FS) (*Course, error) {
	var p contentfile.Problems
	modules := loadManifest(fsys, &p)
	course := &Course{bySlug: map[string]*Lesson{}}
	moduleBySlug := map[string]*Module{}
	for _, m := range modules {
		moduleBySlug[m.Slug] = m
		course.Modules = append(course.Modules, m)
	}

	files, _ := fs.Glob(fsys, "*/*.md")
	sort.Strings(files)
	type link struct {
		file, target string
		line         int
	}
	var links []link
	for _, file := range files {
		src, err := fs.ReadFile(fsys, file)
		if err != nil {
			p.Add(file, 1, "cannot read: %v", err)
			continue
		}
		l, lessonLinks := loadLesson(file, src, moduleBySlug, &p)
		if l == nil {
			continue
		}
		for _, ln := range lessonLinks {
			links = append(links, link{file, ln.target, ln.line})
		}
		if prev, dup := course.bySlug[l.Slug]; dup {
			p.Add(file, 2, "duplicate lesson slug %q (also in %s)", l.Slug, prev.File)
			continue
		}
		course.bySlug[l.Slug] = l
		l.Module.Lessons = append(l.Module.Lessons, l)
	}
	for _, m := range course.Modules {
		sort.SliceStable(m.Lessons, func(i, j int) bool { return m.Lessons[i].Position < m.Lessons[j].Position })
		if len(m.Lessons) == 0 {
			p.Add(ManifestFile, 1, "module %q has no lessons", m.Slug)
		}
		for i, l := range m.Lessons {
			if i > 0 && m.Lessons[i-1].Position == l.Position {
				p.Add(l.File, 2, "position %d is also used by %s", l.Position, m.Lessons[i-1].File)
			}
			course.order = append(course.order, l)
		}
	}
	for _, ln := range links {
		if _, ok := course.bySlug[ln.target]; !ok {
			p.Add(ln.file, ln.line, "link to unknown lesson %q", ln.target)
		}
	}
	if len(p) > 0 {
		return nil, p
	}
	return course, nil
}

type manifest struct {
	Modules []struct {
		Slug    string `yaml:"slug"`
		Title   string `yaml:"title"`
		Summary string `yaml:"summary"`
		line    int
	} `yaml:"modules"`
}

func loadManifest(fsys fs.FS, p *contentfile.Problems) []*Module {
	src, err := fs.ReadFile(fsys, ManifestFile)
	if err != nil {
		p.Add(ManifestFile, 1, "missing module manifest")
		return nil
	}
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		p.Add(ManifestFile, contentfile.ErrorLine(err, 0), "invalid YAML: %s", contentfile.ErrorText(err))
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	var m manifest
	if err := dec.Decode(&m); err != nil {
		p.Add(ManifestFile, contentfile.ErrorLine(err, 0), "%s", contentfile.ErrorText(err))
		return nil
	}
	items := moduleNodes(&root)
	var out []*Module
	seen := map[string]bool{}
	for i, entry := range m.Modules {
		line := 1
		if i < len(items) {
			line = items[i].Line
		}
		switch {
		case !slugPattern.MatchString(entry.Slug):
			p.Add(ManifestFile, line, "module slug %q must be lowercase words joined by hyphens", entry.Slug)
			continue
		case seen[entry.Slug]:
			p.Add(ManifestFile, line, "duplicate module slug %q", entry.Slug)
			continue
		case strings.TrimSpace(entry.Title) == "":
			p.Add(ManifestFile, line, "module %q has no title", entry.Slug)
		case strings.TrimSpace(entry.Summary) == "":
			p.Add(ManifestFile, line, "module %q has no summary", entry.Slug)
		}
		seen[entry.Slug] = true
		out = append(out, &Module{Slug: entry.Slug, Title: entry.Title, Summary: strings.TrimSpace(entry.Summary), Position: len(out) + 1})
	}
	if len(out) == 0 && len(*p) == 0 {
		p.Add(ManifestFile, 1, "no modules")
	}
	return out
}

// moduleNodes returns the YAML nodes of the modules list, for line numbers.
func moduleNodes(root *yaml.Node) []*yaml.Node {
	if len(root.Content) == 0 {
		return nil
	}
	doc := root.Content[0]
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if doc.Content[i].Value == "modules" {
			return doc.Content[i+1].Content
		}
	}
	return nil
}

type frontMatter struct {
	Slug      string `yaml:"slug"`
	Module    string `yaml:"module"`
	Title     string `yaml:"title"`
	Minutes   int    `yaml:"minutes"`
	Position  int    `yaml:"position"`
	Objective string `yaml:"objective"`
}

type lessonLink struct {
	target string
	line   int
}

// loadLesson parses one lesson file. It returns nil when the file is too
// broken to use; every problem is added to p.
func loadLesson(file string, src []byte, modules map[string]*Module, p *contentfile.Problems) (*Lesson, []lessonLink) {
	var fm frontMatter
	fmSrc, bodyStart, ok := decodeFrontMatter(file, src, &fm, p)
	if !ok {
		return nil, nil
	}
	var fmRoot yaml.Node
	_ = yaml.Unmarshal(fmSrc, &fmRoot)
	// Offset 1 for the opening ---, which is also where a missing key points.
	lineOf := func(key string) int { return contentfile.KeyLine(&fmRoot, key, 1, 1) }
	before := len(*p)
	switch {
	case fm.Slug == "":
		p.Add(file, lineOf("slug"), "missing slug")
	case !slugPattern.MatchString(fm.Slug):
		p.Add(file, lineOf("slug"), "slug %q must be lowercase words joined by hyphens", fm.Slug)
	}
	module, known := modules[fm.Module]
	switch {
	case fm.Module == "":
		p.Add(file, lineOf("module"), "missing module")
	case !known:
		p.Add(file, lineOf("module"), "unknown module %q (not in %s)", fm.Module, ManifestFile)
	case path.Dir(file) != fm.Module:
		p.Add(file, lineOf("module"), "module %q does not match the folder %q", fm.Module, path.Dir(file))
	}
	if strings.TrimSpace(fm.Title) == "" {
		p.Add(file, lineOf("title"), "missing title")
	}
	if fm.Minutes < 1 || fm.Minutes > 120 {
		p.Add(file, lineOf("minutes"), "minutes must be between 1 and 120")
	}
	if fm.Position < 1 {
		p.Add(file, lineOf("position"), "position must be 1 or more")
	}
	if strings.TrimSpace(fm.Objective) == "" {
		p.Add(file, lineOf("objective"), "missing objective: say what the learner can do after the lesson")
	}

	body := src[bodyStart:]
	firstBodyLine := 1 + bytes.Count(src[:bodyStart], []byte("\n"))
	if len(bytes.TrimSpace(body)) == 0 {
		p.Add(file, firstBodyLine, "empty body")
		return nil, nil
	}
	lesson := &Lesson{
		Slug: fm.Slug, Module: module, Title: fm.Title, Minutes: fm.Minutes, Position: fm.Position,
		Objective: strings.TrimSpace(fm.Objective), File: file,
	}
	sum := sha256.Sum256(src)
	lesson.Hash = hex.EncodeToString(sum[:])

	doc := markdown.Parser().Parse(text.NewReader(body))
	lineAt := func(offset int) int { return firstBodyLine + bytes.Count(body[:offset], []byte("\n")) }
	var links []lessonLink
	ids := map[string]bool{}
	blockWords := 0
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		if msg := bodyProblem(n); msg != "" {
			p.Add(file, lineAt(startOf(n, body)), "%s", msg)
		}
		switch node := n.(type) {
		case *ast.Link:
			dest := string(node.Destination)
			if target, ok := strings.CutPrefix(dest, "/lessons/"); ok {
				links = append(links, lessonLink{strings.TrimSuffix(target, "/"), lineAt(startOf(n, body))})
			}
		case *ast.FencedCodeBlock:
			kind := string(node.Language(body))
			if kind != quickCheckBlock && kind != reflectionBlock {
				return ast.WalkContinue, nil
			}
			var block bytes.Buffer
			for i := 0; i < node.Lines().Len(); i++ {
				seg := node.Lines().At(i)
				block.Write(seg.Value(body))
			}
			blockWords += countWords(block.Bytes())
			blockLine := lineAt(node.Info.Segment.Start) // the opening fence
			var id string
			if kind == quickCheckBlock {
				if q, ok := parseQuickCheck(file, blockLine, block.Bytes(), p); ok {
					lesson.Checks = append(lesson.Checks, q)
					id = q.ID
				}
			} else if r, ok := parseReflection(file, blockLine, block.Bytes(), p); ok {
				lesson.Reflections = append(lesson.Reflections, r)
				id = r.ID
			}
			if id != "" {
				if ids[id] {
					p.Add(file, blockLine, "duplicate interactive id %q in this lesson", id)
				}
				ids[id] = true
			}
		}
		return ast.WalkContinue, nil
	})
	lesson.Words = countWords(body) - blockWords // prose only
	if len(*p) > before {
		return nil, nil
	}
	html, err := render(doc, body)
	if err != nil {
		p.Add(file, firstBodyLine, "render: %v", err)
		return nil, nil
	}
	lesson.HTML = html
	return lesson, links
}

// bodyProblem is what is wrong with one node of a lesson's or job aid's
// body: a level-1 heading (the title is the page's only h1) or raw HTML.
func bodyProblem(n ast.Node) string {
	switch node := n.(type) {
	case *ast.Heading:
		if node.Level == 1 {
			return "use ## and below: the title is the page's only level-1 heading"
		}
	case *ast.HTMLBlock, *ast.RawHTML:
		return "raw HTML is not allowed in course content"
	}
	return ""
}

// decodeFrontMatter strictly decodes a file's front matter into v; it
// returns the YAML and where the body starts, false (with the problem
// recorded) when there is none or it does not decode.
func decodeFrontMatter(file string, src []byte, v any, p *contentfile.Problems) (fmSrc []byte, bodyStart int, ok bool) {
	fmEnd, bodyStart, ok := splitFrontMatter(src)
	if !ok {
		p.Add(file, 1, "missing front matter: the file must start with a line '---', the YAML, and a closing '---'")
		return nil, 0, false
	}
	dec := yaml.NewDecoder(bytes.NewReader(src[4:fmEnd]))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		p.Add(file, contentfile.ErrorLine(err, 1), "bad front matter: %s", contentfile.ErrorText(err))
		return nil, 0, false
	}
	return src[4:fmEnd], bodyStart, true
}

// splitFrontMatter finds the YAML between the opening "---" line and the
// closing one. fmEnd is where the closing line starts; bodyStart follows it.
func splitFrontMatter(src []byte) (fmEnd, bodyStart int, ok bool) {
	src = bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n"))
	if !bytes.HasPrefix(src, []byte("---\n")) {
		return 0, 0, false
	}
	i := bytes.Index(src[4:], []byte("\n---\n"))
	if i < 0 {
		if bytes.HasSuffix(src, []byte("\n---")) {
			return len(src) - 3, len(src), true
		}
		return 0, 0, false
	}
	fmEnd = 4 + i + 1
	return fmEnd, fmEnd + 4, true
}

// startOf finds a byte offset for an inline or block node, for line numbers.
func startOf(n ast.Node, src []byte) int {
	for c := n; c != nil; c = c.FirstChild() {
		if t, ok := c.(*ast.Text); ok {
			return t.Segment.Start
		}
		if c.Type() == ast.TypeBlock && c.Lines().Len() > 0 {
			return c.Lines().At(0).Start
		}
	}
	for c := n.Parent(); c != nil; c = c.Parent() {
		if c.Type() == ast.TypeBlock && c.Lines().Len() > 0 {
			return c.Lines().At(0).Start
		}
	}
	return 0
}

func countWords(body []byte) int {
	return len(strings.Fields(string(body)))
}
