package main

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// TestConsoleHouseholdHead changes the head of a household at the
// console: every other member's relationship is asked again, a missing
// one is named, a change made meanwhile is shown, and the records say who
// heads the household afterwards.
func TestConsoleHouseholdHead(t *testing.T) {
	for _, engine := range sqldbtest.EngineNames() {
		t.Run(engine, func(t *testing.T) { consoleHouseholdHead(t, sqldbtest.URL(t, engine)) })
	}
}

func consoleHouseholdHead(t *testing.T, dbURL string) {
	srv := startServer(t, dbURL)
	admin := login(t, srv.URL, "admin", adminPassword)
	admin.must(201, "POST", "/api/v1/officers", map[string]any{"username": "lan", "display_name": "Cán bộ Lan", "role": "registrar",
		"password": "Pw-lan-2026!", "jurisdiction": map[string]string{"level": "commune", "code": communeA}})
	dad, son, grand := "001050000301", "001075000302", "001205000303"
	for _, p := range []struct{ pid, given, dob string }{{dad, "Bố", "1950-01-01"}, {son, "Con", "1975-03-03"}, {grand, "Cháu", "2005-05-05"}} {
		admin.must(201, "POST", "/api/v1/citizens", map[string]any{"pid": p.pid, "name": map[string]string{"family": "Cao", "middle": "Văn", "given": p.given},
			"birth_date": p.dob, "sex": "male", "permanent_residence": map[string]string{"commune": communeA, "detail": "Số 7 Phố Quán Thánh"}})
	}
	var rec struct {
		Household struct {
			ID string `json:"household_id"`
		} `json:"household"`
	}
	admin.must(200, "POST", "/api/v1/citizens/"+dad+"/household", map[string]any{"new_household_address": map[string]string{"commune": communeA, "detail": "Số 7 Phố Quán Thánh"},
		"reason": "lập hộ", "legal_basis": "Luật Cư trú 2020"}).json(t, &rec)
	hid := rec.Household.ID
	for _, p := range []struct{ pid, rel string }{{son, "child"}, {grand, "grandchild"}} {
		admin.must(200, "POST", "/api/v1/citizens/"+p.pid+"/household", map[string]any{"household_id": hid, "relationship": p.rel, "reason": "nhập hộ", "legal_basis": "Luật Cư trú 2020"})
	}

	lan, _ := consoleLogin(t, srv.URL, "lan", "Pw-lan-2026!")
	if p := lan.get("/console/citizens/" + dad); !strings.Contains(p.Body, `href="/console/households/`+hid+`/head"`) {
		t.Fatalf("the record has no link to change the head: %s", p.text())
	}
	form := lan.get("/console/households/" + hid + "/head")
	version := regexp.MustCompile(`name="version" value="(\d+)"`).FindStringSubmatch(form.Body)
	if form.Status != 200 || version == nil || !strings.Contains(form.Body, `name="rel-`+grand+`"`) {
		t.Fatalf("the form: %d %s", form.Status, form.text())
	}
	v := url.Values{"version": {version[1]}, "new_head": {son}, "former": {"parent"}, "reason": {"chủ hộ cao tuổi"}, "legal_basis": {"Luật Cư trú 2020, Điều 26"}}
	// The grandson's relationship to the new head is not given.
	p := lan.post("/console/households/"+hid+"/head", v)
	if p.Status != 422 || !strings.Contains(p.Body, `href="#f-rel-`+grand+`"`) {
		t.Fatalf("a missing relationship: %d %s", p.Status, p.text())
	}
	// Meanwhile someone joins the household: the form asks for them too.
	extra := "001190000304"
	admin.must(201, "POST", "/api/v1/citizens", map[string]any{"pid": extra, "name": map[string]string{"family": "Lý", "given": "Dâu"},
		"birth_date": "1990-02-02", "sex": "female", "permanent_residence": map[string]string{"commune": communeA, "detail": "Số 7 Phố Quán Thánh"}})
	admin.must(200, "POST", "/api/v1/citizens/"+extra+"/household", map[string]any{"household_id": hid, "relationship": "child_in_law", "reason": "nhập hộ", "legal_basis": "Luật Cư trú 2020"})
	v.Set("rel-"+grand, "child")
	p = lan.post("/console/households/"+hid+"/head", v)
	if p.Status != 422 || !strings.Contains(p.Body, `href="#f-rel-`+extra+`"`) {
		t.Fatalf("a change that leaves out a member who joined meanwhile: %d %s", p.Status, p.text())
	}
	if !strings.Contains(p.Body, `name="rel-`+extra+`"`) {
		t.Errorf("the form shown again lacks the member who joined meanwhile: %s", p.text())
	}
	v.Set("rel-"+extra, "spouse")
	if p := lan.post("/console/households/"+hid+"/head", v); p.Status != 303 || p.Location != "/console/citizens/"+son+"?saved=1" {
		t.Fatalf("the change: %d %q %s", p.Status, p.Location, p.text())
	}
	var hh struct {
		HeadPID string `json:"head_pid"`
		Members []struct{ PID, Relationship string }
	}
	admin.must(200, "GET", "/api/v1/households/"+hid, nil).json(t, &hh)
	want := map[string]string{dad: "parent", son: "head", grand: "child", extra: "spouse"}
	for _, m := range hh.Members {
		if want[m.PID] != m.Relationship {
			t.Errorf("%s is %q, want %q", m.PID, m.Relationship, want[m.PID])
		}
	}
	if hh.HeadPID != son || len(hh.Members) != 4 {
		t.Errorf("household after: %+v", hh)
	}
	// The form opened before the change is stale now: sending it again
	// says the household changed.
	if p := lan.post("/console/households/"+hid+"/head", v); p.Status != 409 || !strings.Contains(p.text(), "vừa được thay đổi") {
		t.Errorf("a change based on an old household: %d %s", p.Status, p.text())
	}
}
