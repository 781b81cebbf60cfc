package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// TestPortalProcedures: a citizen files a temporary residence in the
// portal — the form shows what the registry holds and asks only for the
// rest, a commune given by name, a missing field named at its field — and
// follows it: the commune police receive it and ask for more, the citizen
// sees it in the notifications and completes the form as filled in (no
// retyping), the police approve and the result prints. Another dossier is
// withdrawn; a decided one cannot be. Another citizen's dossier is not
// found by its URL.
func TestPortalProcedures(t *testing.T) {
	for _, engine := range sqldbtest.EngineNames() {
		t.Run(engine, func(t *testing.T) { portalProcedures(t, sqldbtest.URL(t, engine)) })
	}
}

var dossierPath = regexp.MustCompile(`^/portal/dossiers/([0-9a-f-]{36})\?done=submitted$`)

func portalProcedures(t *testing.T, dbURL string) {
	srv := startServer(t, dbURL)
	admin := login(t, srv.URL, "admin", adminPassword)
	const pid = "001090080001"
	password := citizenWithAccount(t, admin, pid, "Hoàng Văn Sơn", "1990-06-06", "male", "0912080001")
	b, _ := portalLogin(t, srv.URL, "/portal/services", pid, password)

	p := b.get("/portal/services")
	if p.Status != 200 || !strings.Contains(p.Body, `href="/portal/services/residence.temporary"`) || !strings.Contains(p.Body, "Sở Tư pháp") {
		t.Fatalf("the catalog: %d %s", p.Status, p.text())
	}
	p = b.get("/portal/services/residence.temporary")
	if p.Status != 200 || !strings.Contains(p.Body, "Hoàng Văn Sơn") || !strings.Contains(p.Body, "Phố Phan Đình Phùng 12") ||
		strings.Contains(p.Body, `name="name"`) || !strings.Contains(p.Body, `name="address.commune"`) {
		t.Fatalf("the form: %d %s", p.Status, p.text())
	}
	key := regexp.MustCompile(`name="key" value="([^"]+)"`).FindStringSubmatch(p.Body)[1]
	form := url.Values{"key": {key}, "address.commune": {"Bến Thành, Hồ Chí Minh"}, "address.detail": {"Số 5 Lê Lợi"}, "until": {"2027-06-30"}}
	// The proof of lawful residence is missing: named at its field.
	p = b.post("/portal/services/residence.temporary", form)
	if p.Status != 422 || !strings.Contains(p.Body, `id="e-lawful_residence"`) || !strings.Contains(p.Body, `value="Số 5 Lê Lợi"`) {
		t.Fatalf("a form without the proof: %d %s", p.Status, p.text())
	}
	// A commune nobody has.
	bad := url.Values{"key": {key}, "address.commune": {"Không Có Phường"}, "address.detail": {"x"}, "until": {"2027-06-30"}, "lawful_residence": {"x"}}
	if p := b.post("/portal/services/residence.temporary", bad); p.Status != 422 || !strings.Contains(p.Body, `id="e-address.commune"`) {
		t.Fatalf("an unknown commune: %d %s", p.Status, p.text())
	}
	form.Set("lawful_residence", "Hợp đồng thuê nhà số 15/2026")
	p = b.post("/portal/services/residence.temporary", form)
	m := dossierPath.FindStringSubmatch(p.Location)
	if p.Status != 303 || m == nil {
		t.Fatalf("submitting: %d %s %s", p.Status, p.Location, p.text())
	}
	if again := b.post("/portal/services/residence.temporary", form); again.Location != p.Location {
		t.Errorf("the form sent twice made two dossiers: %s, %s", p.Location, again.Location)
	}
	id := m[1]
	// My dossiers list them, and only them (the sector documents are My
	// documents').
	if p := b.get("/portal/dossiers"); !strings.Contains(p.Body, `href="/portal/dossiers/`+id+`"`) || strings.Contains(p.Body, `id="sector"`) {
		t.Errorf("my dossiers: %s", p.text())
	}
	if p := b.get("/portal/dossiers/" + id); p.Status != 200 || !strings.Contains(p.Body, "Số 5 Lê Lợi") || !strings.Contains(p.Body, `action="/portal/dossiers/`+id+`/withdraw"`) {
		t.Fatalf("the dossier: %d %s", p.Status, p.text())
	}

	admin.must(200, "POST", "/api/v1/dossiers/"+id+"/receive", map[string]any{})
	admin.must(200, "POST", "/api/v1/dossiers/"+id+"/request-info", map[string]any{"note": "trang 2 của hợp đồng thuê nhà"})
	p = b.get("/portal/notifications")
	if p.Status != 200 || !strings.Contains(p.Body, "trang 2 của hợp đồng thuê nhà") || strings.Contains(p.Body, "Administrator") {
		t.Fatalf("the notifications: %d %s", p.Status, p.text())
	}
	p = b.get("/portal/dossiers/" + id)
	// The form to complete holds what was filled in.
	if p.Status != 200 || !strings.Contains(p.Body, `action="/portal/dossiers/`+id+`/supplement"`) || !strings.Contains(p.Body, `value="Hợp đồng thuê nhà số 15/2026"`) &&
		!strings.Contains(p.Body, ">Hợp đồng thuê nhà số 15/2026</textarea>") {
		t.Fatalf("the dossier asked for more: %d %s", p.Status, p.text())
	}
	// The commune is shown by its name, which the form reads back.
	shown := regexp.MustCompile(`name="address.commune" value="([^"]+)"`).FindStringSubmatch(p.Body)
	if shown == nil || shown[1] != "Phường Bến Thành, Thành phố Hồ Chí Minh" {
		t.Fatalf("the commune on the form to complete: %v", shown)
	}
	sup := url.Values{"address.commune": {shown[1]}, "address.detail": {"Số 5 Lê Lợi"}, "until": {"2027-06-30"},
		"lawful_residence": {"Hợp đồng thuê nhà số 15/2026, đủ 2 trang"}}
	if p := b.post("/portal/dossiers/"+id+"/supplement", sup); p.Status != 303 {
		t.Fatalf("completing: %d %s", p.Status, p.text())
	}
	admin.must(200, "POST", "/api/v1/dossiers/"+id+"/decision", map[string]any{"approve": true})
	p = b.get("/portal/dossiers/" + id)
	if !strings.Contains(p.Body, `href="/portal/documents/`+id+`"`) || strings.Contains(p.Body, "/withdraw\"") {
		t.Fatalf("the approved dossier: %s", p.text())
	}
	if p := b.post("/portal/dossiers/"+id+"/withdraw", url.Values{"confirm": {"yes"}}); p.Status != 422 {
		t.Errorf("withdrawing a decided dossier: %d", p.Status)
	}
	if p := b.get("/portal/documents/" + id); p.Status != 200 {
		t.Errorf("the result: %d", p.Status)
	}

	// An absence declared, then withdrawn.
	p = b.get("/portal/services/residence.absence")
	key = regexp.MustCompile(`name="key" value="([^"]+)"`).FindStringSubmatch(p.Body)[1]
	p = b.post("/portal/services/residence.absence", url.Values{"key": {key}, "from": {"2026-12-20"}, "reason": {"thăm gia đình"}})
	m = dossierPath.FindStringSubmatch(p.Location)
	if m == nil {
		t.Fatalf("the absence: %d %s", p.Status, p.text())
	}
	if p := b.post("/portal/dossiers/"+m[1]+"/withdraw", url.Values{}); p.Status != 422 {
		t.Errorf("a withdrawal not confirmed: %d", p.Status)
	}
	if p := b.post("/portal/dossiers/"+m[1]+"/withdraw", url.Values{"confirm": {"yes"}}); p.Status != 303 {
		t.Errorf("the withdrawal: %d %s", p.Status, p.text())
	}

	// Another citizen reaches none of it by URL.
	const other = "001090080002"
	otherPassword := citizenWithAccount(t, admin, other, "Đinh Văn Tú", "1990-05-05", "male", "0912080002")
	o, _ := portalLogin(t, srv.URL, "/portal/dossiers", other, otherPassword)
	for _, path := range []string{"/portal/dossiers/" + id, "/portal/documents/" + id} {
		if p := o.get(path); p.Status != 404 {
			t.Errorf("another citizen's %s: %d", path, p.Status)
		}
	}
	if p := o.post("/portal/dossiers/"+m[1]+"/withdraw", url.Values{"confirm": {"yes"}}); p.Status != 404 {
		t.Errorf("another citizen withdrawing: %d", p.Status)
	}
}

// TestCorrectionRequest: "this is wrong" on my data opens a correction
// request routed to the police of my commune; it cannot be approved until
// the record is corrected citing it, then it can, and the citizen sees the
// result.
func TestCorrectionRequest(t *testing.T) {
	for _, engine := range sqldbtest.EngineNames() {
		t.Run(engine, func(t *testing.T) { correctionRequest(t, sqldbtest.URL(t, engine)) })
	}
}

func correctionRequest(t *testing.T, dbURL string) {
	srv := startServer(t, dbURL)
	admin := login(t, srv.URL, "admin", adminPassword)
	const pid = "001090081001"
	password := citizenWithAccount(t, admin, pid, "Bùi Văn Lộc", "1990-03-03", "male", "0912081001")
	b, me := portalLogin(t, srv.URL, "/portal/me", pid, password)
	if !strings.Contains(me.Body, `href="/portal/services/registry.correction"`) {
		t.Fatalf("my data has no way to ask for a correction: %s", me.text())
	}
	p := b.get("/portal/services/registry.correction")
	key := regexp.MustCompile(`name="key" value="([^"]+)"`).FindStringSubmatch(p.Body)
	if p.Status != 200 || key == nil || !strings.Contains(p.Body, `<option value="birth_date">`) {
		t.Fatalf("the correction form: %d %s", p.Status, p.text())
	}
	if p := b.post("/portal/services/registry.correction", url.Values{"key": {key[1]}, "field": {"pid"}, "correct": {"x"}, "evidence": {"y"}}); p.Status != 422 || !strings.Contains(p.Body, `id="e-field"`) {
		t.Fatalf("a field that cannot be corrected: %d %s", p.Status, p.text())
	}
	p = b.post("/portal/services/registry.correction", url.Values{"key": {key[1]}, "field": {"ethnicity"}, "correct": {"Mường"},
		"evidence": {"Giấy khai sinh số 12/1990"}})
	m := dossierPath.FindStringSubmatch(p.Location)
	if p.Status != 303 || m == nil {
		t.Fatalf("the request: %d %s", p.Status, p.text())
	}
	id := m[1]
	var d struct{ Code, Commune string }
	admin.must(200, "GET", "/api/v1/dossiers/"+id, nil).json(t, &d)
	if d.Commune != "00004" {
		t.Errorf("the request went to %s, not the commune of permanent residence", d.Commune)
	}
	admin.must(200, "POST", "/api/v1/dossiers/"+id+"/receive", map[string]any{})
	// Approving before the record was corrected is refused.
	if r := admin.do("POST", "/api/v1/dossiers/"+id+"/decision", map[string]any{"approve": true}); r.Status != 409 || !strings.Contains(string(r.Body), d.Code) {
		t.Fatalf("approving an uncorrected record: %d %s", r.Status, r.Body)
	}
	var c struct{ Version int64 }
	admin.must(200, "GET", "/api/v1/citizens/"+pid+"?purpose=correction", nil).json(t, &c)
	admin.must(200, "PATCH", "/api/v1/citizens/"+pid, map[string]any{"changes": map[string]any{"ethnicity": map[string]string{"code": "03"}},
		"reason": "giấy khai sinh", "legal_basis": "Luật Căn cước 2023", "dossier_ref": d.Code}, "If-Match", fmt.Sprintf(`"%d"`, c.Version))
	admin.must(200, "POST", "/api/v1/dossiers/"+id+"/decision", map[string]any{"approve": true})
	if p := b.get("/portal/dossiers/" + id); !strings.Contains(p.Body, "tag-approved") && !strings.Contains(p.Body, "tag-returned") {
		t.Errorf("the citizen's request after approval: %s", p.text())
	}
}

// TestPortalDependants: a parent sees the child under 14 the registry
// records, attaches it and reads its record; the child's page is not found
// for anyone else, and a person who is not the citizen's child cannot be
// attached.
func TestPortalDependants(t *testing.T) {
	for _, engine := range sqldbtest.EngineNames() {
		t.Run(engine, func(t *testing.T) { portalDependants(t, sqldbtest.URL(t, engine)) })
	}
}

func portalDependants(t *testing.T, dbURL string) {
	srv := startServer(t, dbURL)
	admin := login(t, srv.URL, "admin", adminPassword)
	const parent, child, stranger = "001090082001", "001218082002", "001090082003"
	password := citizenWithAccount(t, admin, parent, "Trịnh Văn Hải", "1990-02-02", "male", "0912082001")
	admin.must(201, "POST", "/api/v1/citizens", map[string]any{"pid": child, "name": map[string]string{"family": "Trịnh", "middle": "Minh", "given": "Khôi"},
		"birth_date": "2018-06-01", "sex": "male", "father": map[string]string{"pid": parent, "name": "Trịnh Văn Hải"},
		"permanent_residence": map[string]string{"commune": "00004", "detail": "Phố Phan Đình Phùng 12"}})
	otherPassword := citizenWithAccount(t, admin, stranger, "Mai Văn Tài", "1990-01-09", "male", "0912082003")

	b, p := portalLogin(t, srv.URL, "/portal/dependants", parent, password)
	if p.Status != 200 || !strings.Contains(p.Body, "Trịnh Minh Khôi") || !strings.Contains(p.Body, `name="pid" value="`+child+`"`) {
		t.Fatalf("the dependants page: %d %s", p.Status, p.text())
	}
	if p := b.post("/portal/dependants", url.Values{"pid": {stranger}}); p.Status != 422 {
		t.Errorf("attaching someone who is not my child: %d", p.Status)
	}
	if p := b.get("/portal/dependants/" + child); p.Status != 404 {
		t.Errorf("a child not yet attached: %d", p.Status)
	}
	if p := b.post("/portal/dependants", url.Values{"pid": {child}}); p.Status != 303 {
		t.Fatalf("attaching my child: %d %s", p.Status, p.text())
	}
	if p := b.get("/portal/dependants/" + child); p.Status != 200 || !strings.Contains(p.Body, "Trịnh Minh Khôi") || !strings.Contains(p.Body, "Bạn là cha") {
		t.Fatalf("my child's page: %d %s", p.Status, p.text())
	}
	o, _ := portalLogin(t, srv.URL, "/portal/", stranger, otherPassword)
	if p := o.get("/portal/dependants/" + child); p.Status != 404 {
		t.Errorf("another citizen reading my child's page: %d", p.Status)
	}
}

// TestPortalSectorAndAgencies: my documents show what a sector agency
// sent of me, with its source and date, and for the documents not held
// say who holds them and how to ask; the consents page lists the
// agencies I allowed to read my data and withdraws one with a click.
func TestPortalSectorAndAgencies(t *testing.T) {
	for _, engine := range sqldbtest.EngineNames() {
		t.Run(engine, func(t *testing.T) { portalSectorAndAgencies(t, sqldbtest.URL(t, engine)) })
	}
}

func portalSectorAndAgencies(t *testing.T, dbURL string) {
	srv := startServer(t, dbURL)
	admin := login(t, srv.URL, "admin", adminPassword)
	admin.must(201, "POST", "/api/v1/oidc/clients", map[string]any{"id": "dvc-app", "name": "Dịch vụ công", "type": "native",
		"redirect_uris": []string{"http://127.0.0.1/cb"}})
	const pid = "001090083001"
	password := citizenWithAccount(t, admin, pid, "Lâm Văn Quý", "1990-08-18", "male", "0912083001")
	agency := func(id, name, kind string, services, fields []string, purpose string) *client {
		var c struct{ Secret string }
		admin.must(201, "POST", "/api/v1/oidc/clients", map[string]any{"id": id, "name": name, "type": "service"}).json(t, &c)
		admin.must(201, "POST", "/api/v1/agencies", map[string]any{"id": id, "name": name, "kind": kind, "services": services,
			"fields": fields, "purposes": []string{purpose}, "rate_per_second": 100})
		return agencyToken(t, srv.URL, id, c.Secret)
	}
	bhxh := agency("bhxh", "Bảo hiểm xã hội Việt Nam", "ministry", []string{"enrich"}, nil, "social insurance")
	agency("bank", "Ngân hàng Thử", "bank", []string{"query"}, []string{"name", "phone"}, "eKYC")
	bhxh.must(200, "POST", "/api/v1/enrichment?kind=social_insurance",
		fmt.Sprintf(`{"external_id":"0112233445","pid":%q,"dated":"2026-11-30","data":{"contribution_months":120}}`+"\n", pid),
		"Content-Type", "application/x-ndjson")
	me := citizenLogin(t, srv.URL, "dvc-app", pid, password)
	me.must(201, "POST", "/api/v1/me/agency-consents", map[string]any{"agency": "bank", "fields": []string{"name", "phone"}, "purpose": "eKYC", "days": 30})

	b, p := portalLogin(t, srv.URL, "/portal/documents", pid, password)
	if p.Status != 200 || !strings.Contains(p.Body, "0112233445") || !strings.Contains(p.Body, "Bảo hiểm xã hội Việt Nam · dữ liệu ngày 30/11/2026") {
		t.Fatalf("the sector document: %d %s", p.Status, p.text())
	}
	// Not held here: who holds it and how to ask, never a bare "no data".
	if !strings.Contains(p.Body, "Giấy phép lái xe</strong>: chưa có trong hệ thống này. Cơ quan giữ") || strings.Contains(p.Body, "Sổ bảo hiểm xã hội</strong>: chưa có") {
		t.Errorf("the documents not held: %s", p.text())
	}
	p = b.get("/portal/consents")
	if !strings.Contains(p.Body, "Ngân hàng Thử") || !strings.Contains(p.Body, `action="/portal/agency-consents/bank"`) {
		t.Fatalf("the agencies' consents: %s", p.text())
	}
	if p := b.post("/portal/agency-consents/bank", nil); p.Status != 303 {
		t.Fatalf("withdrawing the bank's consent: %d %s", p.Status, p.text())
	}
	if p := b.get("/portal/consents"); strings.Contains(p.Body, `action="/portal/agency-consents/bank"`) {
		t.Error("a withdrawn consent is still listed")
	}
	if p := b.post("/portal/agency-consents/bank", nil); p.Status != 404 {
		t.Errorf("withdrawing it again: %d", p.Status)
	}
}

// TestAssistedDossier: at a counter of another commune an officer files a
// temporary residence for a citizen who is there; a passcode the citizen
// did not type is refused and nothing is filed; with theirs the dossier is
// the citizen's — in their portal, its first step by the counter's unit —
// and the officer's read of the record is in the citizen's access log.
func TestAssistedDossier(t *testing.T) {
	for _, engine := range sqldbtest.EngineNames() {
		t.Run(engine, func(t *testing.T) { assistedDossier(t, sqldbtest.URL(t, engine)) })
	}
}

func assistedDossier(t *testing.T, dbURL string) {
	srv := startServer(t, dbURL)
	admin := login(t, srv.URL, "admin", adminPassword)
	const pid = "001050084001"
	password := citizenWithAccount(t, admin, pid, "Đoàn Văn Lợi", "1950-01-01", "male", "0912084001")
	admin.must(201, "POST", "/api/v1/officers", map[string]any{"username": "tam", "display_name": "Cán bộ Tâm", "role": "registrar",
		"password": "Pw-tam-2026!", "jurisdiction": map[string]string{"level": "commune", "code": communeB}})
	con, _ := consoleLogin(t, srv.URL, "tam", "Pw-tam-2026!")
	p := con.get("/console/assist?service=residence.temporary")
	if p.Status != 200 || !strings.Contains(p.Body, `name="address.commune"`) || !strings.Contains(p.Body, `name="passcode"`) {
		t.Fatalf("the counter's form: %d %s", p.Status, p.text())
	}
	key := regexp.MustCompile(`name="key" value="([^"]+)"`).FindStringSubmatch(p.Body)[1]
	form := url.Values{"service": {"residence.temporary"}, "key": {key}, "pid": {pid}, "passcode": {"135792"},
		"address.commune": {"Bến Thành, Hồ Chí Minh"}, "address.detail": {"Số 9 Lê Lợi"}, "until": {"2027-03-31"}, "lawful_residence": {"Hợp đồng thuê 3/2026"}}
	if p := con.post("/console/assist", form); p.Status != 422 || !strings.Contains(p.Body, `id="e-passcode"`) {
		t.Fatalf("a passcode the citizen did not type: %d %s", p.Status, p.text())
	}
	form.Set("passcode", "240719")
	p = con.post("/console/assist", form)
	if p.Status != 201 || !strings.Contains(p.Body, "HS-") {
		t.Fatalf("filing at the counter: %d %s", p.Status, p.text())
	}
	b, mine := portalLogin(t, srv.URL, "/portal/dossiers", pid, password)
	m := regexp.MustCompile(`href="/portal/dossiers/([0-9a-f-]{36})"`).FindStringSubmatch(mine.Body)
	if m == nil {
		t.Fatalf("the citizen does not see the dossier: %s", mine.text())
	}
	if p := b.get("/portal/dossiers/" + m[1]); !strings.Contains(p.Body, "nộp tại quầy, người dân xác nhận bằng mã khóa") || strings.Contains(p.Body, "Cán bộ Tâm") {
		t.Errorf("the dossier's first step: %s", p.text())
	}
	if p := b.get("/portal/access"); !strings.Contains(p.Body, "Công an") {
		t.Errorf("the counter's read is not in the citizen's access log: %s", p.text())
	}
}

// TestPortalProof: each entry of "who accessed my data" links to its
// inclusion proof in the verifiable access log, which checks against the
// signed checkpoint with the log's verifier key (golang.org/x/mod's note
// and tlog, not dancu's code); another citizen's entry is not found.
func TestPortalProof(t *testing.T) {
	for _, engine := range sqldbtest.EngineNames() {
		t.Run(engine, func(t *testing.T) { portalProof(t, sqldbtest.URL(t, engine)) })
	}
}

func portalProof(t *testing.T, dbURL string) {
	srv := startServer(t, dbURL)
	admin := login(t, srv.URL, "admin", adminPassword)
	const pid, other = "001090085001", "001090085002"
	password := citizenWithAccount(t, admin, pid, "Kiều Văn Phong", "1990-07-17", "male", "0912085001")
	otherPassword := citizenWithAccount(t, admin, other, "Kiều Văn Lâm", "1990-07-18", "male", "0912085002")
	admin.must(200, "GET", "/api/v1/citizens/"+pid+"?purpose="+url.QueryEscape("kiểm tra hồ sơ"), nil)
	b, p := portalLogin(t, srv.URL, "/portal/access", pid, password)
	m := regexp.MustCompile(`href="/portal/access/([0-9a-f-]{36})/proof"`).FindStringSubmatch(p.Body)
	if p.Status != 200 || m == nil {
		t.Fatalf("no proof link in the access log: %d %s", p.Status, p.text())
	}
	var proof struct {
		Index       int64       `json:"index"`
		LeafHash    tlog.Hash   `json:"leaf_hash"`
		Checkpoint  string      `json:"checkpoint"`
		Proof       []tlog.Hash `json:"proof"`
		VerifierKey string      `json:"verifier_key"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		p = b.get("/portal/access/" + m[1] + "/proof?format=json")
		if p.Status == 200 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if p.Status != 200 || json.Unmarshal([]byte(p.Body), &proof) != nil {
		t.Fatalf("the proof: %d %s", p.Status, p.Body)
	}
	v, err := note.NewVerifier(proof.VerifierKey)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open([]byte(proof.Checkpoint), note.VerifierList(v))
	if err != nil {
		t.Fatalf("the checkpoint's signature: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	size, _ := strconv.ParseInt(lines[1], 10, 64)
	root, err := tlog.ParseHash(lines[2])
	if err != nil || size <= proof.Index {
		t.Fatalf("checkpoint %q: %v", n.Text, err)
	}
	if err := tlog.CheckRecord(proof.Proof, size, root, proof.Index, proof.LeafHash); err != nil {
		t.Errorf("the entry is not proved in the signed tree: %v", err)
	}
	if p := b.get("/portal/access/" + m[1] + "/proof"); p.Status != 200 || !strings.Contains(p.Body, "Bằng chứng ghi nhật ký") {
		t.Errorf("the proof page: %d", p.Status)
	}
	o, _ := portalLogin(t, srv.URL, "/portal/", other, otherPassword)
	if p := o.get("/portal/access/" + m[1] + "/proof?format=json"); p.Status != 404 {
		t.Errorf("another citizen's proof: %d", p.Status)
	}
}
