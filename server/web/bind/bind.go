// Package bind decodes request bodies strictly: sent as application/json,
// one JSON value, no unknown fields, the right types. A body of another media
// type is a 415 problem; anything else wrong is a 400 problem naming what is
// wrong, so clients learn of typos instead of having fields ignored.
package bind

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/baton-course/baton/server/problem"
)

// JSON decodes the request body into v.
func JSON(c echo.Context, v any) error {
	body := c.Request().Body
	if body == nil {
		return problem.New(problem.Malformed, "The request needs a JSON body.")
	}
	if err := mediaType(c.Request().Header.Get(echo.HeaderContentType)); err != nil {
		return err
	}
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return describe(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return problem.New(problem.Malformed, "The body must hold exactly one JSON value.")
	}
	return nil
}

// mediaType accepts only application/json, with at most a UTF-8 charset.
// A browser sends a cross-site form or a text/plain fetch without asking the
// server first (no CORS preflight); refusing every other type here, before
// the body is read, keeps such a request from ever being taken as JSON.
func mediaType(header string) error {
	refuse := problem.New(problem.MediaType, "Send the body as Content-Type: application/json.")
	if header == "" {
		return refuse
	}
	mt, params, err := mime.ParseMediaType(header)
	if err != nil || mt != "application/json" {
		return refuse
	}
	for name, value := range params {
		if name != "charset" || !strings.EqualFold(value, "utf-8") {
			return refuse
		}
	}
	return nil
}

func describe(err error) error {
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	var httpErr *echo.HTTPError
	switch {
	case errors.Is(err, io.EOF):
		return problem.New(problem.Malformed, "The request needs a JSON body.")
	case errors.As(err, &syntax):
		return problem.New(problem.Malformed, "The body is not valid JSON (at byte %d).", syntax.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return problem.New(problem.Malformed, "The body is not valid JSON (it ends too early).")
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return problem.New(problem.Malformed, "The body must be a JSON object.")
		}
		return &problem.Error{Code: problem.Malformed, Detail: fmt.Sprintf("Field %q must be of JSON type %s.", field, jsonType(typeErr.Type.Kind().String())),
			Fields: []problem.FieldError{{Field: field, Message: "wrong type"}}}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &problem.Error{Code: problem.Malformed, Detail: fmt.Sprintf("Unknown field %q.", name),
			Fields: []problem.FieldError{{Field: name, Message: "unknown field"}}}
	case errors.As(err, &httpErr):
		return httpErr // the body limit cut the read short: 413
	}
	return problem.New(problem.Malformed, "The body could not be read as JSON.")
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "map", "struct", "ptr":
		return "object"
	}
	return "number"
}
