// Package webtest sends requests through the real router for tests, and
// holds every answer to a documented operation against the OpenAPI
// document the server serves: status, content type and body schema.
package webtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/baton-course/baton/server/web"
)

// Response is what the router answered.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v.
func (r Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %q: %v", r.Body, err)
	}
}

// Call sends one request through the real router. body is sent as-is when it
// is a string, otherwise encoded as JSON.
func Call(t testing.TB, h http.Handler, method, path string, body any, header ...string) Response {
	t.Helper()
	return CallWith(t, h, func(r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
	}, method, path, body)
}

// CallWith is Call with a hook to adjust the request before it is sent.
func CallWith(t testing.TB, h http.Handler, adjust func(*http.Request), method, path string, body any) Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = strings.NewReader(string(enc))
	}
	req := httptest.NewRequest(method, path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	adjust(req)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	CheckResponse(t, req, rec.Code, rec.Header(), rec.Body.Bytes())
	return Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

// AssertProblem checks that r is an RFC 9457 problem with the given status.
func AssertProblem(t testing.TB, r Response, status int) map[string]any {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body %s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("content type %q, want application/problem+json", ct)
	}
	var doc map[string]any
	r.JSON(t, &doc)
	for _, k := range []string{"type", "title", "status", "detail"} {
		if _, ok := doc[k]; !ok {
			t.Fatalf("problem lacks %q: %s", k, r.Body)
		}
	}
	if int(doc["status"].(float64)) != status {
		t.Fatalf("problem status %v, want %d", doc["status"], status)
	}
	return doc
}

var (
	specOnce   sync.Once
	specRouter routers.Router
	specErr    error

	validated atomic.Int64
)

// openAPIRouter parses the very bytes the server serves, once per run.
func openAPIRouter() (routers.Router, error) {
	specOnce.Do(func() {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(web.OpenAPIDocument())
		if err != nil {
			specErr = fmt.Errorf("openapi.json does not load: %w", err)
			return
		}
		// legacy.NewRouter validates the document itself.
		if specRouter, err = legacy.NewRouter(doc); err != nil {
			specErr = fmt.Errorf("openapi.json is not a valid OpenAPI document: %w", err)
		}
	})
	return specRouter, specErr
}

// ResponseMismatch validates one response against the operation the request
// maps to. documented is false for requests the document has no operation
// for (the browser app, unknown /api paths, routes only tests add):
// TestOpenAPIMatchesRoutes keeps every real route documented.
func ResponseMismatch(req *http.Request, status int, header http.Header, body []byte) (documented bool, err error) {
	router, err := openAPIRouter()
	if err != nil {
		return false, err
	}
	route, params, err := router.FindRoute(req)
	var missing *routers.RouteError
	if errors.As(err, &missing) && (missing.Reason == routers.ErrPathNotFound.Error() || missing.Reason == routers.ErrMethodNotAllowed.Error()) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("no route in openapi.json: %w", err)
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}
	opts.WithCustomSchemaErrorFunc(shortSchemaError)
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Options:                opts,
	}
	in.SetBodyBytes(body)
	return true, openapi3filter.ValidateResponse(context.Background(), in)
}

// shortSchemaError names where the body breaks the schema and how, without
// the library's dump of the whole schema and value (the body is printed
// once beside it).
func shortSchemaError(e *openapi3.SchemaError) string {
	if e.Origin != nil || e.Reason == "" {
		return ""
	}
	return fmt.Sprintf("at /%s: %s", strings.Join(e.JSONPointer(), "/"), e.Reason)
}

// CheckResponse fails t when the response to a documented
// operation is not what openapi.json says: a status the operation does not
// list, another content type, or a body its schema rejects. The request
// helper calls it for every response.
func CheckResponse(t testing.TB, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	if _, bench := t.(*testing.B); bench {
		return // a benchmark times the server, not this check
	}
	documented, err := ResponseMismatch(req, status, header, body)
	if err != nil {
		t.Errorf("%s %s → %d does not match openapi.json: %v\nbody: %.2000s", req.Method, req.URL.Path, status, err, body)
		return
	}
	if documented && req.Method != http.MethodHead {
		validated.Add(1)
	}
}

// Validated is how many responses this test process has checked against
// the document.
func Validated() int64 { return validated.Load() }
