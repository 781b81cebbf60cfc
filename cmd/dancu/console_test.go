package main

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// TestConsole walks the officer console as a commune registrar does, on
// both stores, and checks what a browser cannot see: cookies, CSRF, the
// access log, idempotency and conflicts.
func TestConsole(t *testing.T) {
	for _, engine := range sqldbtest.EngineNames() {
		t.Run(engine, func(t *testing.T) { consoleJourney(t, sqldbtest.URL(t, engine)) })
	}
}

var newNumber = regexp.MustCompile(`class="bignum">(\d{12})<`)

func consoleJourney(t *testing.T, dbURL string) {
	srv := startServer(t, dbURL)
	admin := login(t, srv.URL, "admin", adminPassword)
	for _, o := range []struct{ user, role, level, code string }{
		{"lan", "registrar", "commune", communeA}, {"khoa", "registrar", "commune", communeA}, {"xem", "viewer", "commune", communeA},
	} {
		admin.must(201, "POST", "/api/v1/officers", map[string]any{"username": o.user, "display_name": "Cán bộ " + o.user, "role": o.role,
			"password": "Pw-" + o.user + "-2026!", "jurisdiction": map[string]string{"level": o.level, "code": o.code}})
	}
	// Two people of Ba Đình.
	mother, father := "001190000101", "001088000102"
	for _, p := range []struct{ pid, given, sex, dob string }{{mother, "Hoà", "female", "1990-05-01"}, {father, "Đức", "male", "1988-02-02"}} {
		admin.must(201, "POST", "/api/v1/citizens", map[string]any{"pid": p.pid, "name": map[string]string{"family": "Phạm", "middle": "Thị", "given": p.given},
			"birth_date": p.dob, "sex": p.sex, "permanent_residence": map[string]string{"commune": communeA, "detail": "Số 5 Phố Kim Mã"}})
	}

	// Anonymous: every console page asks for sign-in; a form without the
	// session's token is refused before anything happens.
	anon := newConsole(t, srv.URL)
	if p := anon.get("/console/citizens/" + mother); p.Status != 303 || !strings.HasPrefix(p.Location, "/console/login?next=") {
		t.Fatalf("an anonymous record page: %d %q", p.Status, p.Location)
	}
	if p := anon.post("/console/login", url.Values{"csrf": {"forged"}, "username": {"lan"}, "password": {"Pw-lan-2026!"}}); p.Status != 403 {
		t.Errorf("a sign-in form with a forged token: %d", p.Status)
	}

	// A registrar signs in: the password, then an authenticator app.
	lan, secret := consoleLogin(t, srv.URL, "lan", "Pw-lan-2026!")
	if secret == "" {
		t.Fatal("a registrar signed in without a second factor")
	}
	c := lan.cookie("dancu_console")
	if c == nil || c.Value == "" {
		t.Fatal("no session cookie")
	}
	// The API's password login of an officer with an app needs its code.
	var refused problem
	(&client{t: t, base: srv.URL}).do("POST", "/api/v1/auth/login", map[string]string{"username": "lan", "password": "Pw-lan-2026!"}).json(t, &refused)
	if refused.Status != 401 {
		t.Errorf("an API login without the code: %d", refused.Status)
	}

	// Search without diacritics; a number opens the record.
	p := lan.get("/console/citizens?q=" + url.QueryEscape("pham thi hoa"))
	if p.Status != 200 || !strings.Contains(p.Body, "/console/citizens/"+mother) {
		t.Fatalf("search without diacritics: %d %s", p.Status, p.text())
	}
	if p := lan.get("/console/citizens?q=" + father); p.Status != 303 || p.Location != "/console/citizens/"+father {
		t.Errorf("a 12-digit search: %d %q", p.Status, p.Location)
	}
	if p := lan.get("/console/citizens?q=31/02/1990"); p.Status != 422 || !strings.Contains(p.Body, "error-summary") {
		t.Errorf("an impossible date: %d", p.Status)
	}
	if p := lan.get("/console/citizens/" + mother); p.Status != 200 || !strings.Contains(p.Body, "Phạm Thị Hoà") || !strings.Contains(p.Body, `id="history"`) {
		t.Fatalf("the record page: %d %s", p.Status, p.text())
	}
	var evs []struct {
		Action string `json:"action"`
	}
	admin.must(200, "GET", "/api/v1/access-events?subject="+mother, nil).json(t, &evs)
	if len(evs) == 0 {
		t.Error("reading a record in the console left no access record")
	}

	// CSRF: a form from another origin, or with another session's token,
	// changes nothing.
	edit := url.Values{"version": {"1"}, "family": {"Phạm"}, "middle": {"Thị"}, "given": {"Hoà"}, "nationality": {"VNM"},
		"phone": {"0912000333"}, "reason": {"Công dân đề nghị"}, "legal_basis": {"Luật Căn cước 2023, Điều 9"}}
	lan.get("/console/citizens/" + mother + "/edit")
	if p := lan.post("/console/citizens/"+mother+"/edit", clone(edit), "Origin", "https://evil.example"); p.Status != 403 {
		t.Errorf("a form from another site: %d", p.Status)
	}
	withOther := clone(edit)
	withOther.Set("csrf", anon.csrf)
	if p := lan.post("/console/citizens/"+mother+"/edit", withOther); p.Status != 403 {
		t.Errorf("a form with another visitor's token: %d", p.Status)
	}
	noReason := clone(edit)
	noReason.Del("reason")
	if p := lan.post("/console/citizens/"+mother+"/edit", noReason); p.Status != 422 || !strings.Contains(p.Body, `id="e-reason"`) {
		t.Errorf("a change without a reason: %d %s", p.Status, p.text())
	}
	badPhone := clone(edit)
	badPhone.Set("phone", "12")
	if p := lan.post("/console/citizens/"+mother+"/edit", badPhone); p.Status != 422 || !strings.Contains(p.Body, `id="e-phone"`) {
		t.Errorf("a wrong phone: %d %s", p.Status, p.text())
	}
	var rec struct {
		Version int64
		Phone   string
	}
	admin.must(200, "GET", "/api/v1/citizens/"+mother+"?purpose=test", nil).json(t, &rec)
	if rec.Version != 1 || rec.Phone != "" {
		t.Fatalf("refused forms changed the record: %+v", rec)
	}
	if p := lan.post("/console/citizens/"+mother+"/edit", clone(edit)); p.Status != 303 {
		t.Fatalf("a correction: %d %s", p.Status, p.text())
	}
	admin.must(200, "GET", "/api/v1/citizens/"+mother+"?purpose=test", nil).json(t, &rec)
	if rec.Version != 2 || rec.Phone != "0912000333" {
		t.Fatalf("after the correction: %+v", rec)
	}
	// A second registrar still holding version 1 meets the change.
	khoa, khoaKey := consoleLogin(t, srv.URL, "khoa", "Pw-khoa-2026!")
	stale := clone(edit)
	stale.Set("phone", "0988000444")
	p = khoa.post("/console/citizens/"+mother+"/edit", stale)
	if p.Status != 409 || !strings.Contains(p.Body, `id="conflict"`) || !strings.Contains(p.Body, "Thay đổi bởi lan lúc") || !strings.Contains(p.Body, "0988000444") {
		t.Fatalf("a stale change: %d %s", p.Status, p.text())
	}
	admin.must(200, "GET", "/api/v1/citizens/"+mother+"?purpose=test", nil).json(t, &rec)
	if rec.Phone != "0912000333" {
		t.Fatalf("a stale change overwrote the record: %+v", rec)
	}

	// A birth: the number is shown, the child takes the mother's
	// residence, and the same form sent twice registers one child.
	lan.get("/console/births/new?mother_pid=" + mother)
	birth := url.Values{"key": {"k-1"}, "family": {"Nguyễn"}, "middle": {"Minh"}, "given": {"Khang"}, "birth_date": {"01/11/2026"},
		"sex": {"male"}, "registration_commune": {communeA}, "mother_pid": {mother}, "father_pid": {father}, "lives_with": {"mother"},
		"nationality": {"VNM"}, "reason": {"Đăng ký khai sinh"}, "legal_basis": {"Luật Hộ tịch 2014, Điều 16"}}
	// A mistyped number: the service's reason, in Vietnamese, at the field.
	typo := clone(birth)
	typo.Set("key", "k-typo")
	typo.Set("mother_pid", "00119000010")
	if p := lan.post("/console/births", typo); p.Status != 422 || !strings.Contains(p.Body, "số định danh cá nhân gồm 12 chữ số, bạn đã nhập 11 ký tự") {
		t.Errorf("a mistyped mother's number: %d %s", p.Status, p.text())
	}
	p = lan.post("/console/births", clone(birth))
	if p.Status != 303 || !strings.Contains(p.Location, "?registered=1") {
		t.Fatalf("a birth: %d %s", p.Status, p.text())
	}
	child := strings.TrimSuffix(strings.TrimPrefix(p.Location, "/console/citizens/"), "?registered=1")
	shown := lan.get(p.Location)
	if m := newNumber.FindStringSubmatch(shown.Body); m == nil || m[1] != child {
		t.Errorf("the new number is not shown: %s", shown.text())
	}
	if again := lan.post("/console/births", clone(birth)); again.Location != p.Location {
		t.Errorf("the same birth form twice: %q then %q", p.Location, again.Location)
	}
	if p := lan.get("/console/citizens/" + child + "/edit"); p.Status != 200 {
		t.Errorf("the commune cannot open the record of the child it registered: %d", p.Status)
	}

	// A viewer reads but cannot open a change form.
	xem, _ := consoleLogin(t, srv.URL, "xem", "Pw-xem-2026!")
	if p := xem.get("/console/citizens/" + mother + "/edit"); p.Status != 403 {
		t.Errorf("a viewer's change form: %d", p.Status)
	}

	// The language is remembered with the officer.
	lan.post("/console/language", url.Values{"lang": {"en"}, "next": {"/console/"}})
	if p := lan.get("/console/"); !strings.Contains(p.Body, `lang="en"`) {
		t.Error("the console did not switch to English")
	}

	// A lost phone: an administrator resets the second factor, the
	// officer's sessions end, the next sign-in enrols a new app.
	admin.must(204, "DELETE", "/api/v1/officers/lan/second-factor", nil)
	if p := lan.get("/console/"); p.Status != 303 {
		t.Errorf("a session after the reset of the second factor: %d", p.Status)
	}
	_, secret2 := consoleLogin(t, srv.URL, "lan", "Pw-lan-2026!")
	if secret2 == "" || secret2 == secret {
		t.Error("after a reset, the sign-in did not enrol a new app")
	}

	// Sign out everywhere ends every session of the officer.
	k2, _ := consoleLoginWith(t, srv.URL, "khoa", "Pw-khoa-2026!", khoaKey, time.Now().Add(30*time.Second))
	if p := khoa.post("/console/logout-everywhere", url.Values{}); p.Status != 303 {
		t.Fatalf("sign out everywhere: %d", p.Status)
	}
	for _, b := range []*console{khoa, k2} {
		if p := b.get("/console/"); p.Status != 303 {
			t.Errorf("a session after signing out everywhere: %d", p.Status)
		}
	}
}

func clone(v url.Values) url.Values {
	out := url.Values{}
	for k, x := range v {
		out[k] = append([]string(nil), x...)
	}
	return out
}
