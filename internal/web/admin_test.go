package web

import (
	"github.com/dancu-vn/dancu/internal/errs"
	"net/http/httptest"
	"testing"
	"time"
)

func TestCertState(t *testing.T) {
	now := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		end   time.Time
		state string
	}{
		{now.AddDate(0, 0, 31), "ok"},
		{now.Add(30 * 24 * time.Hour), "ok"},
		{now.Add(30*24*time.Hour - time.Second), "soon"},
		{now.Add(time.Hour), "soon"},
		{now, "expired"},
		{now.AddDate(-1, 0, 0), "expired"},
	} {
		if got, _ := certState(now, c.end); got != c.state {
			t.Errorf("certState(now, now+%s) = %s, want %s", c.end.Sub(now), got, c.state)
		}
	}
	if _, days := certState(now, now.AddDate(0, 0, 10)); days != 10 {
		t.Errorf("days left = %d, want 10", days)
	}
	if crlLate(now, now.Add(time.Minute)) || !crlLate(now, now) || !crlLate(now, now.Add(-time.Hour)) {
		t.Error("a CRL is late from its next update on, not before")
	}
}

func TestServiceErrors(t *testing.T) {
	var f formErrors
	err := fieldsErr()
	r := httptest.NewRequest("GET", "/console/admin", nil)
	if !serviceErrors(r, &f, err, map[string]string{"jurisdiction.code": "code"}, "code", "services") {
		t.Fatal("an Invalid error was not taken as field errors")
	}
	if f.Of("code") == "" || f.Of("services") == "" || f.Of("form") == "" {
		t.Fatalf("errors at the wrong fields: %+v", f.List)
	}
	// The reason is said in the page's language.
	if got := f.Of("code"); got != "là bắt buộc" {
		t.Errorf("a reason on a Vietnamese page: %q", got)
	}
}

func fieldsErr() error {
	var f errs.Fields
	f.Add("jurisdiction.code", "is required")
	f.Add("services[1]", "not a service")
	f.Add("elsewhere", "unknown")
	return f.Err()
}
