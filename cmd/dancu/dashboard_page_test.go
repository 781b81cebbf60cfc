package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/indicator"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// TestDashboardPage: the counts a test creates appear on the dashboard of
// the commune, its province and the nation, and in the CSV, once the
// indicators are rebuilt; a commune's registrar cannot open another
// commune's or the nation's board.
func TestDashboardPage(t *testing.T) {
	for _, engine := range sqldbtest.EngineNames() {
		t.Run(engine, func(t *testing.T) { dashboardPage(t, sqldbtest.URL(t, engine)) })
	}
}

func dashboardPage(t *testing.T, dbURL string) {
	w := newWorld(t, dbURL)
	// A birth registered in commune A.
	w.c(admin).must(201, "POST", "/api/v1/births", map[string]any{
		"name": map[string]string{"family": "Lê", "middle": "Minh", "given": "An"}, "birth_date": "2026-11-01", "sex": "female",
		"birth_registration_place": map[string]string{"commune": communeA}, "father": map[string]string{"pid": w.subjectPID},
		"permanent_residence": map[string]string{"commune": communeA}, "reason": "birth registration", "legal_basis": "Luật Hộ tịch 2014"},
		"Idempotency-Key", "dashboard-birth")
	b, _ := consoleLogin(t, w.srv.URL, "admin", adminPassword)
	b.get("/console/dashboard")
	if p := b.post("/console/dashboard/refresh", nil); p.Status != 303 {
		t.Fatalf("refresh: %d %s", p.Status, p.text())
	}
	month := indicator.MonthsUntil(time.Now(), 1)[0]
	count := func(unit, name string) string {
		t.Helper()
		p := b.get("/console/dashboard.csv?unit=" + unit)
		if p.Status != 200 || !strings.HasPrefix(p.Body, "unit,month,indicator,count,built_at\n") {
			t.Fatalf("CSV of %s: %d %.200s", unit, p.Status, p.Body)
		}
		m := regexp.MustCompile(`(?m)^` + unit + `,` + month + `,` + name + `,(\d+),`).FindStringSubmatch(p.Body)
		if m == nil {
			return ""
		}
		return m[1]
	}
	// The world made one card application after another in commune A, and
	// produced cards and e-ID applications there.
	for _, unit := range []string{communeA, "01", indicator.Nation} {
		for _, name := range []string{indicator.People, indicator.Births, indicator.CardReceived, indicator.CardPrinted, indicator.EIDReceived} {
			if n := count(unit, name); n == "" || n == "0" {
				t.Errorf("%s %s: %q", unit, name, n)
			}
		}
	}
	before := count(communeA, indicator.CardReceived)
	w.cardApplication()
	b.post("/console/dashboard/refresh", nil) // within RefreshGap: no rebuild
	if got := count(communeA, indicator.CardReceived); got != before {
		t.Errorf("a refresh within the gap rebuilt: %s → %s", before, got)
	}
	p := b.get("/console/dashboard?unit=01")
	if p.Status != 200 || !strings.Contains(p.Body, "<svg") || !strings.Contains(p.Body, "/console/dashboard?unit="+communeA) {
		t.Errorf("the province board: %d %s", p.Status, p.text())
	}
	regB, _ := consoleLogin(t, w.srv.URL, "registrar-b", "Pw-registrar-b-2026!")
	for _, u := range []string{communeA, "01", indicator.Nation} {
		if p := regB.get("/console/dashboard?unit=" + u); p.Status != 403 {
			t.Errorf("a registrar of commune B opened the board of %s: %d", u, p.Status)
		}
	}
	if p := regB.get("/console/dashboard"); p.Status != 200 {
		t.Errorf("a registrar's own board: %d %s", p.Status, p.text())
	}
}
