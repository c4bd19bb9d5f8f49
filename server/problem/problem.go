// Package problem is Baton's one error type. Domain packages return *Error
// values with a code, a text safe to show and per-field messages; the web
// layer maps each code to an HTTP status and renders an RFC 9457 document,
// logging the cause and showing the client only the safe text.
package problem

import (
	"fmt"
	"time"
)

// Code classifies an error. The web layer maps each to exactly one HTTP
// status (the comments say which).
type Code string

const (
	Malformed    Code = "malformed"    // 400: not JSON, unknown field, wrong type
	Unauthorized Code = "unauthorized" // 401
	Forbidden    Code = "forbidden"    // 403
	NotFound     Code = "not-found"    // 404, also for what the caller may not see
	NotAllowed   Code = "not-allowed"  // 405
	Conflict     Code = "conflict"     // 409
	TooLarge     Code = "too-large"    // 413
	MediaType    Code = "media-type"   // 415: a body that is not application/json
	Invalid      Code = "validation"   // 422
	TooMany      Code = "rate-limited" // 429
	Internal     Code = "internal"     // 500
	Unavailable  Code = "unavailable"  // 503
)

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
	// LoginURL is where to sign in instead, for a refusal that has one
	// (a password sign-in where single sign-on is required).
	LoginURL string
	Cause    error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Detail, e.Cause)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Detail)
}

func (e *Error) Unwrap() error { return e.Cause }

// New makes an error with a safe detail text.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Detail: fmt.Sprintf(format, args...)}
}

// Validation makes a 422 carrying per-field messages. The detail is shown
// to people above the fields it names, so it speaks to them.
func Validation(fields ...FieldError) *Error {
	return &Error{Code: Invalid, Detail: "Check the highlighted fields.", Fields: fields}
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
