package bind

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/baton-course/baton/server/problem"
)

type sample struct {
	Name    string   `json:"name"`
	Percent *float64 `json:"percent"`
	IDs     []string `json:"ids"`
}

func decode(body string) (sample, error) { return decodeAs("application/json", body) }

func decodeAs(contentType, body string) (sample, error) {
	e := echo.New()
	req := httptest.NewRequest("POST", "/", strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	c := e.NewContext(req, httptest.NewRecorder())
	var s sample
	err := JSON(c, &s)
	return s, err
}

func TestJSON(t *testing.T) {
	cases := []struct {
		body   string
		status int
		field  string
	}{
		{`{"name":"a","percent":5,"ids":["x"]}`, 0, ""},
		{``, 400, ""},
		{`{`, 400, ""},
		{`{"name":1}`, 400, "name"},
		{`{"nope":1}`, 400, "nope"},
		{`{} {}`, 400, ""},
		{`[]`, 400, ""},
		{`"text"`, 400, ""},
		{strings.Repeat("[", 20000), 400, ""},
	}
	for _, tc := range cases {
		_, err := decode(tc.body)
		if tc.status == 0 {
			if err != nil {
				t.Errorf("%.40q: %v", tc.body, err)
			}
			continue
		}
		var p *problem.Error
		if !errors.As(err, &p) || tc.status != 400 || p.Code != problem.Malformed {
			t.Errorf("%.40q: %v, want %d", tc.body, err, tc.status)
			continue
		}
		if tc.field != "" && (len(p.Fields) == 0 || p.Fields[0].Field != tc.field) {
			t.Errorf("%.40q: fields %v, want %s", tc.body, p.Fields, tc.field)
		}
	}
}

// TestJSONMediaType: the L1 finding. A cross-site form or text/plain post
// (which a browser sends without a CORS preflight) carrying a JSON-shaped
// body must not be decoded: only application/json, optionally UTF-8, is.
func TestJSONMediaType(t *testing.T) {
	body := `{"name":"a"}`
	for _, ct := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON; charset=UTF-8"} {
		if s, err := decodeAs(ct, body); err != nil || s.Name != "a" {
			t.Errorf("%q: %v", ct, err)
		}
	}
	for _, ct := range []string{"", "text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
		"application/json; charset=latin1", "application/json; foo=bar", "application/jsonx", "application/problem+json", "json", "application/json;;"} {
		_, err := decodeAs(ct, body)
		var p *problem.Error
		if !errors.As(err, &p) || p.Code != problem.MediaType {
			t.Errorf("%q: %v, want a media-type problem", ct, err)
		}
	}
}

// FuzzJSON: any body decodes or fails as a 4xx problem; never a panic and
// never an error a client would see as a server fault.
func FuzzJSON(f *testing.F) {
	for _, s := range []string{`{"name":"a"}`, `{`, `{"percent":1e400}`, `{"ids":[1]}`, "\x00", `{"name":"\ud800"}`, strings.Repeat("[", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		_, err := decode(body)
		if err == nil {
			return
		}
		var p *problem.Error
		if !errors.As(err, &p) || p.Code == problem.Internal || p.Code == problem.Unavailable {
			t.Fatalf("%q: %v", body, err)
		}
	})
}
