package httpserver

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
)

// Formats of NewLogger.
const (
	// TextFormat is slog's key=value lines.
	TextFormat = "text"
	// JSONFormat is one JSON object a line.
	JSONFormat = "json"
)

// ErrLogFormat is returned by NewLogger for a format other than TextFormat and JSONFormat.
var ErrLogFormat = errors.New("want text or json")

// NewLogger is the slog logger of a server: lines in format (TextFormat or JSONFormat) on w,
// from level up.
func NewLogger(w io.Writer, format string, level slog.Level) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: level}
	switch format {
	case TextFormat:
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case JSONFormat:
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: %w", format, ErrLogFormat)
}
