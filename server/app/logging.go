package app

import (
	"io"
	"log/slog"
)

// newLogger writes text (for people) or JSON (for log collectors).
func newLogger(w io.Writer, format string) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}
