// Package problem is Baton's one error type and the Echo error handler that
// renders every error as an RFC 9457 problem document. Handlers and area
// packages return *Error values; the handler maps their code to a status,
// logs the cause and shows the client only the safe text.
package problem

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
)

// Code classifies an error. Each maps to exactly one HTTP status.
type Code string

const (
	Malformed    Code = "malformed"    // 400: not JSON, unknown field, wrong type
	Unauthorized Code = "unauthorized" // 401
	Forbidden    Code = "forbidden"    // 403
	NotFound     Code = "not-found"    // 404, also for what the caller may not see
	NotAllowed   Code = "not-allowed"  // 405
	Conflict     Code = "conflict"     // 409
	TooLarge     Code = "too-large"    // 413
	Invalid      Code = "validation"   // 422
	TooMany      Code = "rate-limited" // 429
	Internal     Code = "internal"     // 500
	Unavailable  Code = "unavailable"  // 503
)

var statusOf = map[Code]int{
	Malformed:    http.StatusBadRequest,
	Unauthorized: http.StatusUnauthorized,
	Forbidden:    http.StatusForbidden,
	NotFound:     http.StatusNotFound,
	NotAllowed:   http.StatusMethodNotAllowed,
	Conflict:     http.StatusConflict,
	TooLarge:     http.StatusRequestEntityTooLarge,
	Invalid:      http.StatusUnprocessableEntity,
	TooMany:      http.StatusTooManyRequests,
	Internal:     http.StatusInternalServerError,
	Unavailable:  http.StatusServiceUnavailable,
}

var codeOf = func() map[int]Code {
	m := make(map[int]Code, len(statusOf))
	for c, s := range statusOf {
		m[s] = c
	}
	return m
}()

// FieldError names one input field that broke a rule.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is an error meant for a client. Detail is shown; Cause is logged only.
type Error struct {
	Code       Code
	Detail     string
	Fields     []FieldError
	RetryAfter time.Duration
	Cause      error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Detail, e.Cause)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Detail)
}

func (e *Error) Unwrap() error { return e.Cause }

// Status is the HTTP status of the error's code.
func (e *Error) Status() int { return statusOf[e.Code] }

// New makes an error with a safe detail text.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Detail: fmt.Sprintf(format, args...)}
}

// Validation makes a 422 carrying per-field messages.
func Validation(fields ...FieldError) *Error {
	return &Error{Code: Invalid, Detail: "The request breaks one or more rules; see errors.", Fields: fields}
}

// Fields makes a 422 from field/message pairs, skipping empty messages, or
// returns nil when every message is empty: validators return "" for a good
// value, so a handler lists each field beside its check.
func Fields(pairs ...string) error {
	var fields []FieldError
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			fields = append(fields, FieldError{Field: pairs[i], Message: pairs[i+1]})
		}
	}
	if len(fields) == 0 {
		return nil
	}
	return Validation(fields...)
}

// Required is the validator of a field that must not be empty.
func Required(v string) string {
	if v == "" {
		return "is required"
	}
	return ""
}

// Wrap makes an internal error whose cause is logged and never shown.
func Wrap(err error) *Error {
	return &Error{Code: Internal, Detail: "An internal error occurred. It has been logged.", Cause: err}
}

// Document is the RFC 9457 body.
type Document struct {
	Type     string       `json:"type"`
	Title    string       `json:"title"`
	Status   int          `json:"status"`
	Detail   string       `json:"detail,omitempty"`
	Instance string       `json:"instance,omitempty"`
	Errors   []FieldError `json:"errors,omitempty"`
}

// TypeURI is the problem type of a code; the OpenAPI document lists them.
func TypeURI(c Code) string { return "urn:baton:problem:" + string(c) }

// ContentType is the media type of a problem document.
const ContentType = "application/problem+json"

// From turns any error into an *Error: our own pass through, Echo's HTTP
// errors keep their status, a database that cannot be reached is 503, and
// everything else is an internal error.
func From(err error) *Error {
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		code, ok := codeOf[he.Code]
		if !ok {
			code = Internal
		}
		detail := http.StatusText(he.Code)
		if msg, isString := he.Message.(string); isString && he.Code < 500 {
			detail = msg
		}
		if code == Internal {
			return Wrap(err)
		}
		return &Error{Code: code, Detail: detail, Cause: he.Internal}
	}
	if IsBadText(err) {
		return &Error{Code: Malformed, Detail: "The request holds characters that cannot be stored (such as NUL).", Cause: err}
	}
	if errors.Is(err, context.DeadlineExceeded) || IsUnavailable(err) {
		return &Error{Code: Unavailable, Detail: "The service is temporarily unavailable; try again shortly.", RetryAfter: 2 * time.Second, Cause: err}
	}
	return Wrap(err)
}

// Handler is Echo's HTTPErrorHandler for the whole server.
func Handler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		p := From(err)
		status := p.Status()
		if status >= 500 {
			log.ErrorContext(c.Request().Context(), "request failed",
				"request_id", c.Response().Header().Get(echo.HeaderXRequestID),
				"method", c.Request().Method, "path", c.Path(), "status", status, "cause", err)
		}
		if p.RetryAfter > 0 {
			secs := int((p.RetryAfter + time.Second - 1) / time.Second)
			c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
		}
		doc := Document{
			Type:   TypeURI(p.Code),
			Title:  http.StatusText(status),
			Status: status,
			Detail: p.Detail,
			Errors: p.Fields,
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(status)
			return
		}
		c.Response().Header().Set(echo.HeaderContentType, ContentType)
		c.Response().WriteHeader(status)
		_ = encode(c.Response(), doc)
	}
}
