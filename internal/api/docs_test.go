package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/dancu-vn/dancu/internal/api"
)

// TestDocsOffline: the API reference is one server-rendered page that
// loads nothing from elsewhere (no script at all) and shows every
// operation of the OpenAPI document, with its path.
func TestDocsOffline(t *testing.T) {
	h := api.New(api.Deps{Version: "test"})
	get := func(path string) (*http.Response, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		b, _ := io.ReadAll(rec.Result().Body)
		return rec.Result(), string(b)
	}
	res, page := get(api.Prefix + "/docs")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("docs: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if strings.Contains(page, "<script") || regexp.MustCompile(`(src|href)="(https?:)?//`).MatchString(page) {
		t.Error("the reference loads something from elsewhere")
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q", csp)
	}
	_, doc := get(api.Prefix + "/openapi.json")
	var o struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
		}
	}
	if err := json.Unmarshal([]byte(doc), &o); err != nil {
		t.Fatal(err)
	}
	n := 0
	for path, methods := range o.Paths {
		for _, op := range methods {
			n++
			if !strings.Contains(page, `id="`+op.OperationID+`"`) || !strings.Contains(page, path) {
				t.Errorf("the reference lacks %s (%s)", op.OperationID, path)
			}
		}
	}
	if n < 90 {
		t.Errorf("only %d operations in the document", n)
	}
	if !strings.Contains(page, "Request body") || !strings.Contains(page, "required") {
		t.Error("no request bodies described")
	}
}
