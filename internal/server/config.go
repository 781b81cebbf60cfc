// Package server wires the dancu services together from a Config and serves
// them over HTTP: the JSON API, health and readiness probes and metrics.
package server

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/sqldb"
)

// Config is every setting of a dancu process, built once in cmd/dancu from
// flags and DANCU_* variables and passed down; nothing reads the
// environment anywhere else.
type Config struct {
	Addr            string        // listen address
	MetricsAddr     string        // serve /metrics on this address only; "" for nowhere
	DB              string        // sqlite:PATH or postgres://…
	Demo            bool          // load demo accounts
	AdminPassword   string        // bootstrap administrator's password (secret)
	LogLevel        string        // debug, info, warn, error
	LogFormat       string        // text or json
	ShutdownTimeout time.Duration // grace period for requests in flight
	BulkLoad        bool          // opened by a bulk load: leave indexes it deferred alone
	DataKey         string        // base64 AES-256 key sealing biometrics and signing keys (secret)
	DataKeyFile     string        // or the file holding it; default: data.key beside the SQLite file, created if missing
	PublicURL       string        // the public base URL: the OpenID issuer, the WebAuthn relying party and every absolute link; never a request's Host
	SSOSessionIdle  time.Duration // a single sign-on session unused this long ends (0: sso.DefaultSessionIdle)
	SSOSessionMax   time.Duration // a single sign-on session ends this long after its login (0: sso.DefaultSessionMax)
	HolidaysFile    string        // extra holidays and working days for deadlines (YYYY-MM-DD holiday|workday name)
	NATSURL         string        // publish change events to NATS JetStream too (optional)
	// WebhookAllowHosts may receive webhooks over http or at a loopback or
	// private address: for tests and local integration only. Every other
	// subscription is https to a public address.
	WebhookAllowHosts []string
	// RequireDataKey refuses to make or use a data key kept beside the
	// database: serve sets it outside --demo, since whoever copies the data
	// directory would otherwise take the key that seals it along.
	RequireDataKey bool
	// NoNewDataKey uses an existing data key but never makes one (audit
	// verify: checking the log must not create what it checks with).
	NoNewDataKey bool

	AuditOrigin        string // names the access log in its checkpoints when first sealed (default dancu/access-log)
	AuditCheckpointDir string // copy every signed audit checkpoint to this directory, outside the database
	AuditNATSURL       string // and to NATS JetStream stream DANCU_AUDIT (optional)

	// MessageGatewayURL receives the messages to citizens (activation
	// codes, notices) as JSON posts; MessageGatewayToken is sent as its
	// bearer token (secret). Without a gateway, messages wait in the
	// outbox, readable only in --demo.
	MessageGatewayURL   string
	MessageGatewayToken string
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
	fmt.Fprintf(w, "metrics addr      %s\n", c.MetricsAddr)
	fmt.Fprintf(w, "db                %s\n", sqldb.Redact(c.DB))
	fmt.Fprintf(w, "demo              %v\n", c.Demo)
	fmt.Fprintf(w, "admin password    %s\n", mask(c.AdminPassword))
	fmt.Fprintf(w, "log level         %s\n", c.LogLevel)
	fmt.Fprintf(w, "log format        %s\n", c.LogFormat)
	fmt.Fprintf(w, "shutdown timeout  %s\n", c.ShutdownTimeout)
	fmt.Fprintf(w, "data key          %s\n", c.DataKeyInEffect())
	fmt.Fprintf(w, "public url        %s\n", c.PublicURL)
	fmt.Fprintf(w, "sso session idle  %s\n", c.SSOSessionIdle)
	fmt.Fprintf(w, "sso session max   %s\n", c.SSOSessionMax)
	fmt.Fprintf(w, "holidays file     %s\n", c.HolidaysFile)
	fmt.Fprintf(w, "nats url          %s\n", c.NATSURL)
	fmt.Fprintf(w, "webhook allow     %s\n", strings.Join(c.WebhookAllowHosts, ","))
	fmt.Fprintf(w, "audit origin      %s\n", c.AuditOrigin)
	fmt.Fprintf(w, "audit checkpoints %s\n", c.AuditCheckpointDir)
	fmt.Fprintf(w, "audit nats url    %s\n", c.AuditNATSURL)
	fmt.Fprintf(w, "message gateway   %s\n", or(c.MessageGatewayURL, "(not set: messages wait in the outbox)"))
	fmt.Fprintf(w, "gateway token     %s\n", mask(c.MessageGatewayToken))
}

func or(s, otherwise string) string {
	if s == "" {
		return otherwise
	}
	return s
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

// defaultDataKeyPath is where the data key is kept when none is given:
// beside the SQLite database, or in ./dancu-data for PostgreSQL.
func (c Config) defaultDataKeyPath() string {
	dir := "dancu-data"
	if p, ok := strings.CutPrefix(c.DB, "sqlite:"); ok {
		p, _, _ = strings.Cut(p, "?")
		dir = filepath.Dir(p)
	}
	return filepath.Join(dir, "data.key")
}

// DataKeyInEffect says which data key serve would use, never the key
// itself, and never makes one.
func (c Config) DataKeyInEffect() string {
	switch {
	case c.DataKey != "":
		return "from DANCU_DATA_KEY (value masked)"
	case c.DataKeyFile != "":
		if _, err := os.Stat(c.DataKeyFile); err != nil {
			return "file " + c.DataKeyFile + " (DANCU_DATA_KEY_FILE; cannot be read: " + err.Error() + ")"
		}
		return "file " + c.DataKeyFile + " (DANCU_DATA_KEY_FILE)"
	}
	path := c.defaultDataKeyPath()
	if _, err := os.Stat(path); err == nil {
		return "file " + path + " beside the database (in use; outside --demo serve refuses it: set DANCU_DATA_KEY_FILE)"
	}
	return "not set (serve --demo would make " + path + "; serve outside --demo refuses to start)"
}

// dataKey returns the data key: given, read from DataKeyFile, or read from
// (and on first use written to) data.key beside the SQLite database or in
// ./dancu-data for PostgreSQL.
func (c Config) dataKey(log *slog.Logger) ([]byte, error) {
	if c.DataKey != "" {
		return eid.ParseKey(c.DataKey)
	}
	if c.RequireDataKey && c.DataKeyFile == "" {
		return nil, errs.E(errs.Invalid, "no data key: set DANCU_DATA_KEY or DANCU_DATA_KEY_FILE (a base64 AES-256 key kept apart from the database, "+
			"e.g. openssl rand -base64 32 > /etc/dancu/data.key); only --demo makes one beside the database")
	}
	path := c.DataKeyFile
	if path == "" {
		path = c.defaultDataKeyPath()
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && c.NoNewDataKey {
		return nil, errs.E(errs.NotFound, "no data key at %s: set DANCU_DATA_KEY or DANCU_DATA_KEY_FILE to the deployment's key (this command never makes one)", path)
	}
	if errors.Is(err, os.ErrNotExist) && c.DataKeyFile == "" {
		created, werr := writeNewKey(path)
		if werr != nil {
			return nil, fmt.Errorf("data key: %w", werr)
		}
		if created {
			log.Warn("created a new data key: keep it safe and back it up (set DANCU_DATA_KEY or DANCU_DATA_KEY_FILE in production)", "file", path)
		}
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("data key file: %w", err)
	}
	return eid.ParseKey(string(b))
}

// writeNewKey writes a fresh data key to path unless a file is there
// already (another process won the race); it reports whether it wrote.
func writeNewKey(path string) (bool, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return false, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	_, err = f.WriteString(eid.NewKey() + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err == nil, err
}

// PublicBase decides the public base URL from the configured one, or, when
// none is configured, from the address the server listens on: a loopback
// or unspecified address becomes localhost, which browsers treat as a
// secure context and WebAuthn accepts as a relying-party ID (an IP address
// is neither). The request's Host header never decides it.
func PublicBase(configured string, listen net.Addr) (string, error) {
	if configured != "" {
		u, err := url.Parse(configured)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			return "", fmt.Errorf("--public-url %q: want an absolute http(s) URL of a host, such as https://id.dancu.vn, without a path", configured)
		}
		return u.Scheme + "://" + u.Host, nil
	}
	host, port, err := net.SplitHostPort(listen.String())
	if err != nil {
		return "", err
	}
	if ip := net.ParseIP(host); ip != nil && (ip.IsLoopback() || ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port), nil
}
