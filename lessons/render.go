package lessons

import (
	"bytes"
	"html"
	"regexp"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/util"
)

// markdown is CommonMark plus GitHub tables, strikethrough and autolinks,
// with interactive blocks rendered as placeholders the browser app fills in.
// Raw HTML is never passed through (goldmark's default), and the output is
// sanitized again below in case a future option lets any through.
var markdown = goldmark.New(
	goldmark.WithExtensions(extension.GFM),
	goldmark.WithRendererOptions(renderer.WithNodeRenderers(util.Prioritized(interactiveRenderer{}, 100))),
)

// policy allows the HTML that Markdown produces, plus the placeholders'
// data attributes; scripts, event handlers and styles never survive.
var policy = func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowAttrs("data-check").Matching(regexp.MustCompile(`^[a-z0-9-]{1,64}$`)).OnElements("div")
	p.AllowAttrs("data-reflection").Matching(regexp.MustCompile(`^[a-z0-9-]{1,64}$`)).OnElements("div")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^(quick-check|reflection|language-[a-z0-9-]+)$`)).OnElements("div", "code")
	p.RequireNoFollowOnLinks(false)
	return p
}()

func render(doc ast.Node, src []byte) (string, error) {
	var buf bytes.Buffer
	if err := markdown.Renderer().Render(&buf, src, doc); err != nil {
		return "", err
	}
	return Sanitize(buf.String()), nil
}

// Sanitize strips anything unsafe from HTML bound for a browser.
func Sanitize(s string) string { return policy.Sanitize(s) }

// interactiveRenderer replaces quick-check and reflection blocks with an
// empty placeholder naming the piece; other fenced code renders as code.
type interactiveRenderer struct{}

func (interactiveRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindFencedCodeBlock, renderFenced)
}

func renderFenced(w util.BufWriter, src []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkSkipChildren, nil
	}
	block := n.(*ast.FencedCodeBlock)
	lang := string(block.Language(src))
	var body bytes.Buffer
	for i := 0; i < block.Lines().Len(); i++ {
		seg := block.Lines().At(i)
		body.Write(seg.Value(src))
	}
	switch lang {
	case quickCheckBlock, reflectionBlock:
		id := blockID(body.Bytes())
		attr := "data-check"
		if lang == reflectionBlock {
			attr = "data-reflection"
		}
		_, _ = w.WriteString(`<div class="` + lang + `" ` + attr + `="` + html.EscapeString(id) + `"></div>` + "\n")
	default:
		_, _ = w.WriteString("<pre><code")
		if lang != "" {
			_, _ = w.WriteString(` class="language-` + html.EscapeString(lang) + `"`)
		}
		_, _ = w.WriteString(">" + html.EscapeString(body.String()) + "</code></pre>\n")
	}
	return ast.WalkSkipChildren, nil
}
