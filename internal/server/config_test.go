package server

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDataKey: with no key configured, the first start writes one beside
// the SQLite file (readable by the owner only) and later starts read the
// same one; a configured key or key file wins; bad keys are refused.
func TestDataKey(t *testing.T) {
	dir := t.TempDir()
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	cfg := Config{DB: "sqlite:" + filepath.Join(dir, "sub", "d.db") + "?_x=1"}
	k1, err := cfg.dataKey(log)
	if err != nil || len(k1) != 32 {
		t.Fatalf("first dataKey = %d bytes, %v", len(k1), err)
	}
	path := filepath.Join(dir, "sub", "data.key")
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file %v, %v; want mode 0600", fi, err)
	}
	if !strings.Contains(logged.String(), "created a new data key") {
		t.Errorf("no warning about the new key: %s", logged.String())
	}
	k2, err := cfg.dataKey(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("second dataKey differs or fails: %v", err)
	}
	// A configured key file must exist: it is never created.
	cfg.DataKeyFile = filepath.Join(dir, "missing.key")
	if _, err := cfg.dataKey(log); err == nil {
		t.Error("a missing DANCU_DATA_KEY_FILE was accepted")
	}
	cfg.DataKeyFile = path
	if k3, err := cfg.dataKey(log); err != nil || !bytes.Equal(k3, k1) {
		t.Errorf("DANCU_DATA_KEY_FILE: %v", err)
	}
	for _, bad := range []string{"not base64!", "c2hvcnQ="} {
		if _, err := (Config{DataKey: bad}).dataKey(log); err == nil {
			t.Errorf("data key %q accepted", bad)
		}
	}
}
