// Package server wires the dancu services together from a Config and serves
// them over HTTP: the JSON API, health and readiness probes and metrics.
package server

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/dancu-vn/dancu/internal/sqldb"
)

// Config is every setting of a dancu process, built once in cmd/dancu from
// flags and DANCU_* variables and passed down; nothing reads the
// environment anywhere else.
type Config struct {
	Addr            string        // listen address
	DB              string        // sqlite:PATH or postgres://…
	Demo            bool          // load demo accounts
	AdminPassword   string        // bootstrap administrator's password (secret)
	LogLevel        string        // debug, info, warn, error
	LogFormat       string        // text or json
	ShutdownTimeout time.Duration // grace period for requests in flight
	BulkLoad        bool          // opened by a bulk load: leave indexes it deferred alone
}

// DefaultConfig is the configuration of a plain `dancu serve`.
func DefaultConfig() Config {
	return Config{Addr: "127.0.0.1:8080", DB: sqldb.DefaultURL, LogLevel: "info", LogFormat: "text", ShutdownTimeout: 15 * time.Second}
}

// Dump writes the configuration with secrets masked.
func (c Config) Dump(w io.Writer) {
	mask := func(s string) string {
		if s == "" {
			return "(not set)"
		}
		return "xxxxx"
	}
	fmt.Fprintf(w, "addr              %s\n", c.Addr)
	fmt.Fprintf(w, "db                %s\n", sqldb.Redact(c.DB))
	fmt.Fprintf(w, "demo              %v\n", c.Demo)
	fmt.Fprintf(w, "admin password    %s\n", mask(c.AdminPassword))
	fmt.Fprintf(w, "log level         %s\n", c.LogLevel)
	fmt.Fprintf(w, "log format        %s\n", c.LogFormat)
	fmt.Fprintf(w, "shutdown timeout  %s\n", c.ShutdownTimeout)
}

// NewLogger returns the process logger described by the configuration.
func (c Config) NewLogger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", c.LogLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(c.LogFormat) {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", c.LogFormat)
}

// ReadSecret returns the value of name, or the contents of the file named
// by name_FILE (for secrets mounted as files).
func ReadSecret(getenv func(string) string, name string) (string, error) {
	if v := getenv(name); v != "" {
		return v, nil
	}
	if f := getenv(name + "_FILE"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("%s_FILE: %w", name, err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return "", nil
}
