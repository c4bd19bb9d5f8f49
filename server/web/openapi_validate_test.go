package web_test

import (
	"context"
	"errors"
	"fmt"
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

var (
	specOnce   sync.Once
	specRouter routers.Router
	specErr    error

	// validatedResponses counts the responses checked against the document
	// in this test run (printed by TestMain under -v).
	validatedResponses atomic.Int64
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

// responseMismatch validates one response against the operation the request
// maps to. documented is false for requests the document has no operation
// for (the browser app, unknown /api paths, routes only tests add):
// TestOpenAPIMatchesRoutes keeps every real route documented.
func responseMismatch(req *http.Request, status int, header http.Header, body []byte) (documented bool, err error) {
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

// checkResponseAgainstSpec fails t when the response to a documented
// operation is not what openapi.json says: a status the operation does not
// list, another content type, or a body its schema rejects. The request
// helper calls it for every response.
func checkResponseAgainstSpec(t testing.TB, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	if _, bench := t.(*testing.B); bench {
		return // a benchmark times the server, not this check
	}
	documented, err := responseMismatch(req, status, header, body)
	if err != nil {
		t.Errorf("%s %s → %d does not match openapi.json: %v\nbody: %.2000s", req.Method, req.URL.Path, status, err, body)
		return
	}
	if documented && req.Method != http.MethodHead {
		validatedResponses.Add(1)
	}
}

// TestOpenAPIValidationIsStrict proves the check catches what it is for: a
// real response with one field renamed, a status the operation does not
// list, and a body in another media type.
func TestOpenAPIValidationIsStrict(t *testing.T) {
	t.Parallel()
	s, db := newTestServer(t)
	h := s.Handler()
	a := signUp(t, h, db, "")
	r := call(t, h, "GET", "/api/me", nil, a.auth()...)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"email":`) {
		t.Fatalf("me: %d %s", r.Status, r.Body)
	}
	req := httptest.NewRequest("GET", "/api/me", nil)
	if documented, err := responseMismatch(req, r.Status, r.Header, r.Body); !documented || err != nil {
		t.Fatalf("the real response should pass: documented %v, %v", documented, err)
	}

	renamed := []byte(strings.Replace(string(r.Body), `"email":`, `"e_mail":`, 1))
	_, err := responseMismatch(req, r.Status, r.Header, renamed)
	if err == nil || !strings.Contains(err.Error(), `property "email" is missing`) {
		t.Errorf("a renamed field passed: %v", err)
	}
	if _, err := responseMismatch(req, 418, r.Header, r.Body); err == nil || !strings.Contains(err.Error(), "status is not supported") {
		t.Errorf("an undocumented status passed: %v", err)
	}
	text := http.Header{"Content-Type": {"text/plain"}}
	if _, err := responseMismatch(req, r.Status, text, r.Body); err == nil {
		t.Error("a text/plain body passed where JSON is documented")
	}
	if documented, _ := responseMismatch(httptest.NewRequest("GET", "/lessons/x", nil), 200, r.Header, r.Body); documented {
		t.Error("a browser-app path counted as an API operation")
	}
}
