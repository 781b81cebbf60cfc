package server

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestPanicIsProblem: a handler that panics answers 500 problem details
// that say nothing of the panic, and the panic is logged.
func TestPanicIsProblem(t *testing.T) {
	var logs bytes.Buffer
	h := harden(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Secret-Internal", "x")
		w.Header().Set("Content-Type", "text/html")
		panic("db password is hunter2")
	}), slog.New(slog.NewTextHandler(&logs, nil)))
	srv := httptest.NewServer(h)
	defer srv.Close()
	res, err := http.Get(srv.URL + "/api/v1/anything")
	if err != nil {
		t.Fatalf("the panic cut the connection: %v", err)
	}
	defer res.Body.Close()
	var p map[string]any
	if err := json.NewDecoder(res.Body).Decode(&p); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 500 || res.Header.Get("Content-Type") != "application/problem+json" || p["status"] != 500.0 || p["type"] == nil || p["title"] == nil {
		t.Errorf("panic answered %d %q %v", res.StatusCode, res.Header.Get("Content-Type"), p)
	}
	if b, _ := json.Marshal(p); strings.Contains(string(b), "hunter2") || res.Header.Get("X-Secret-Internal") != "" {
		t.Errorf("the answer shows the panic: %s", b)
	}
	if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("headers: %v", res.Header)
	}
	if !strings.Contains(logs.String(), "hunter2") {
		t.Errorf("the panic was not logged: %s", logs.String())
	}
}
