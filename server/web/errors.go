package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/problem"
)

// statusOf is the one mapping from a domain error's code to its status.
var statusOf = map[problem.Code]int{
	problem.Malformed:    http.StatusBadRequest,
	problem.Unauthorized: http.StatusUnauthorized,
	problem.Forbidden:    http.StatusForbidden,
	problem.NotFound:     http.StatusNotFound,
	problem.NotAllowed:   http.StatusMethodNotAllowed,
	problem.Conflict:     http.StatusConflict,
	problem.TooLarge:     http.StatusRequestEntityTooLarge,
	problem.MediaType:    http.StatusUnsupportedMediaType,
	problem.Invalid:      http.StatusUnprocessableEntity,
	problem.TooMany:      http.StatusTooManyRequests,
	problem.Internal:     http.StatusInternalServerError,
	problem.Unavailable:  http.StatusServiceUnavailable,
}

var codeOf = func() map[int]problem.Code {
	m := make(map[int]problem.Code, len(statusOf))
	for c, s := range statusOf {
		m[s] = c
	}
	return m
}()

// Status is the HTTP status of a domain error.
func Status(e *problem.Error) int { return statusOf[e.Code] }

// Document is the RFC 9457 body.
type Document struct {
	Type     string               `json:"type"`
	Title    string               `json:"title"`
	Status   int                  `json:"status"`
	Detail   string               `json:"detail,omitempty"`
	Instance string               `json:"instance,omitempty"`
	Errors   []problem.FieldError `json:"errors,omitempty"`
	LoginURL string               `json:"login_url,omitempty"`
}

// TypeURI is the problem type of a code; the OpenAPI document lists them.
func TypeURI(c problem.Code) string { return "urn:baton:problem:" + string(c) }

// ProblemContentType is the media type of a problem document.
const ProblemContentType = "application/problem+json"

// asProblem turns any error into a domain error: our own pass through,
// Echo's HTTP errors keep their status, a database that cannot be reached is
// 503, text PostgreSQL cannot store is the client's 400, and everything else
// is an internal error.
func asProblem(err error) *problem.Error {
	var pe *problem.Error
	if errors.As(err, &pe) {
		return pe
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		code, ok := codeOf[he.Code]
		if !ok || code == problem.Internal {
			return problem.Wrap(err)
		}
		detail := http.StatusText(he.Code)
		if msg, isString := he.Message.(string); isString && he.Code < 500 {
			detail = msg
		}
		return &problem.Error{Code: code, Detail: detail, Cause: he.Internal}
	}
	if database.IsBadText(err) {
		return &problem.Error{Code: problem.Malformed, Detail: "The request holds characters that cannot be stored (such as NUL).", Cause: err}
	}
	if errors.Is(err, context.DeadlineExceeded) || database.IsUnavailable(err) {
		return &problem.Error{Code: problem.Unavailable, Detail: "The service is temporarily unavailable; try again shortly.", RetryAfter: 2 * time.Second, Cause: err}
	}
	return problem.Wrap(err)
}

// errorHandler is Echo's HTTPErrorHandler for the whole server: every error
// leaves as an RFC 9457 problem; a 5xx's cause is logged, never shown.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		p := asProblem(err)
		status := Status(p)
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

			LoginURL: p.LoginURL,
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(status)
			return
		}
		c.Response().Header().Set(echo.HeaderContentType, ProblemContentType)
		c.Response().WriteHeader(status)
		_ = encode(c.Response(), doc)
	}
}

func encode(w io.Writer, doc Document) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	return enc.Encode(doc)
}
