package main

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// TestConsoleCards walks the card work of a commune: applications decided,
// the approved ones waiting for the card centre's batch, the cards handed
// over, and the batches page counting what reached its holders; an officer
// of another commune sees none of it.
func TestConsoleCards(t *testing.T) {
	for _, engine := range sqldbtest.EngineNames() {
		t.Run(engine, func(t *testing.T) { consoleCards(t, sqldbtest.URL(t, engine)) })
	}
}

var deliveryForm = regexp.MustCompile(`action="/console/cards/deliveries/([0-9a-f-]{36})"`)

func consoleCards(t *testing.T, dbURL string) {
	if _, _, err := runCLI(t, map[string]string{"DANCU_DATA_KEY": testDataKey}, "pki", "init", "--db", dbURL); err != nil {
		t.Fatalf("pki init: %v", err)
	}
	srv := startServer(t, dbURL)
	admin := login(t, srv.URL, "admin", adminPassword)
	for _, o := range []struct{ user, code string }{{"lan", communeA}, {"tam", communeB}} {
		admin.must(201, "POST", "/api/v1/officers", map[string]any{"username": o.user, "display_name": "Cán bộ " + o.user, "role": "registrar",
			"password": "Pw-" + o.user + "-2026!", "jurisdiction": map[string]string{"level": "commune", "code": o.code}})
	}
	pids := []string{"001090000201", "001190000202"}
	for i, pid := range pids {
		admin.must(201, "POST", "/api/v1/citizens", map[string]any{"pid": pid, "name": map[string]string{"family": "Đỗ", "given": []string{"Mai", "Linh"}[i]},
			"birth_date": []string{"1990-03-03", "1990-04-04"}[i], "sex": []string{"male", "female"}[i],
			"permanent_residence": map[string]string{"commune": communeA, "detail": "Số 9 Đội Cấn"}})
		admin.must(201, "POST", "/api/v1/cards/applications", cardIntake(pid))
	}

	lan, _ := consoleLogin(t, srv.URL, "lan", "Pw-lan-2026!")
	p := lan.get("/console/cards?state=submitted")
	apps := regexp.MustCompile(`action="/console/cards/applications/([0-9a-f-]{36})"`).FindAllStringSubmatch(p.Body, -1)
	if p.Status != 200 || len(apps) != 2 {
		t.Fatalf("the queue to decide: %d, %d forms", p.Status, len(apps))
	}
	for _, m := range apps {
		if p := lan.post("/console/cards/applications/"+m[1], url.Values{"action": {"approve"}}); p.Status != 303 {
			t.Fatalf("approve: %d %s", p.Status, p.text())
		}
	}

	// The batches page: Ba Đình waits with two approved applications.
	p = lan.get("/console/cards/batches")
	if p.Status != 200 || !strings.Contains(p.Body, `<th scope="row">Phường Ba Đình, Thành phố Hà Nội</th><td>2</td>`) {
		t.Fatalf("the batches page before production: %d %s", p.Status, p.text())
	}
	// Another commune's officer does not see the commune waiting.
	tam, _ := consoleLogin(t, srv.URL, "tam", "Pw-tam-2026!")
	if p := tam.get("/console/cards/batches"); p.Status != 200 || strings.Contains(p.text(), "Ba Đình") {
		t.Errorf("another commune's batches page: %d", p.Status)
	}
	// The console only follows production: it is the card centre's, through
	// the API, whose answer holds each chip's personalisation.
	if p := lan.post("/console/cards/batches", url.Values{"commune": {communeA}}); p.Status != 405 && p.Status != 404 {
		t.Errorf("the console produced a batch: %d", p.Status)
	}
	var batch struct{ Cards []struct{ ID string } }
	admin.must(201, "POST", "/api/v1/cards/batches", map[string]any{"commune": communeA}).json(t, &batch)
	if len(batch.Cards) != 2 {
		t.Fatalf("the centre's batch: %+v", batch)
	}
	p = lan.get("/console/cards/batches")
	if !strings.Contains(p.Body, "0 / 2") || !strings.Contains(p.Body, `class="caption">admin<`) || !strings.Contains(p.text(), "Không có hồ sơ nào") {
		t.Errorf("the batches page after production: %s", p.text())
	}
	// Hand over one card: the batch counts it.
	p = lan.get("/console/cards?state=produced")
	cards := deliveryForm.FindAllStringSubmatch(p.Body, -1)
	if len(cards) != 2 {
		t.Fatalf("the queue to hand over lists %d cards", len(cards))
	}
	if p := lan.post("/console/cards/deliveries/"+cards[0][1], url.Values{}); p.Status != 303 {
		t.Fatalf("hand over: %d %s", p.Status, p.text())
	}
	if p := lan.get("/console/cards/batches"); !strings.Contains(p.Body, "1 / 2") {
		t.Errorf("the batch does not count the card handed over: %s", p.text())
	}
	if p := tam.get("/console/cards/batches"); strings.Contains(p.text(), "Ba Đình") {
		t.Errorf("another commune's officer sees Ba Đình's batch: %s", p.text())
	}
}
