package web

import (
	"bytes"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/baton-course/baton/frontend"
	"github.com/baton-course/baton/server/lti"
	"github.com/baton-course/baton/server/problem"
)

var (
	app       = frontend.Dist()
	indexHTML = mustRead(app, "index.html")
	started   = time.Now()
)

func mustRead(fsys fs.FS, name string) []byte {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		panic("frontend build is missing " + name + ": " + err.Error())
	}
	return b
}

// frontend serves the embedded browser app: a file when the path names one,
// otherwise index.html so client-side routes survive a reload.
func (s *Server) frontend(c echo.Context) error {
	p := strings.TrimPrefix(path.Clean("/"+c.Param("*")), "/")
	if strings.HasPrefix(p, "api/") || p == "api" {
		return apiNotFound(c)
	}
	if p != "" && p != "index.html" {
		if f, err := app.Open(p); err == nil {
			defer f.Close()
			if info, err := f.Stat(); err == nil && !info.IsDir() {
				// Vite names assets by content hash, so they never change.
				if strings.HasPrefix(p, "assets/") {
					c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
				}
				http.ServeContent(c.Response(), c.Request(), p, info.ModTime(), f.(io.ReadSeeker))
				return nil
			}
		}
	}
	if id, ok := strings.CutPrefix(p, strings.TrimPrefix(lti.DeepLinkPage, "/")); ok {
		return s.deepLinkPage(c, id)
	}
	return serveIndex(c)
}

// serveIndex answers the app's page, which routes itself in the browser.
func serveIndex(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-cache")
	http.ServeContent(c.Response(), c.Request(), "index.html", started, bytes.NewReader(indexHTML))
	return nil
}

func apiNotFound(c echo.Context) error {
	return problem.New(problem.NotFound, "No API endpoint at %s %s.", c.Request().Method, c.Request().URL.Path)
}
