package main

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// postMultipart sends a form with a file, as a browser sends a form with
// enctype multipart/form-data.
func (b *console) postMultipart(path string, form url.Values, field, filename string, file []byte) page {
	b.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", b.csrf)
	}
	for k, vs := range form {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	if file != nil {
		fw, err := mw.CreateFormFile(field, filename)
		if err != nil {
			b.t.Fatal(err)
		}
		fw.Write(file)
	}
	mw.Close()
	req, err := http.NewRequest("POST", b.base+path, &body)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.send(req)
}

var (
	recoveryCodeRe = regexp.MustCompile(`<li><code>([0-9A-Z]{5}-[0-9A-Z]{5})</code></li>`)
	applyKeyRe     = regexp.MustCompile(`name="key" value="([^"]+)"`)
)

// TestPortalAccount: a citizen gets an account without curl — applies in
// the portal with a portrait (a mismatch refused without naming the
// detail, a double submission one application), follows it by its
// number, is approved, activates with the code from the phone and is shown
// the recovery codes once, signs in; then loses the phone: locks the
// account, gets back in with a recovery code and the passcode (the old
// password and sessions dead), and for the cooling-off period may not add
// a device or new codes.
func TestPortalAccount(t *testing.T) {
	for _, engine := range sqldbtest.EngineNames() {
		t.Run(engine, func(t *testing.T) { portalAccount(t, sqldbtest.URL(t, engine)) })
	}
}

func portalAccount(t *testing.T, dbURL string) {
	srv := startServer(t, dbURL)
	admin := login(t, srv.URL, "admin", adminPassword)
	const pid, phone = "001190078001", "0912078001"
	admin.must(201, "POST", "/api/v1/citizens", map[string]any{"pid": pid,
		"name":       map[string]string{"family": "Lê", "middle": "Thị", "given": "Hoa"},
		"birth_date": "1990-08-08", "sex": "female", "permanent_residence": map[string]string{"commune": communeA, "detail": "Phố Kim Mã 3"}})

	photo := portrait(4000)
	anon := newConsole(t, srv.URL)
	p := anon.get("/portal/apply")
	m := applyKeyRe.FindStringSubmatch(p.Body)
	if p.Status != 200 || m == nil || !strings.Contains(p.Body, `enctype="multipart/form-data"`) {
		t.Fatalf("the application form: %d %s", p.Status, p.text())
	}
	form := func(birth string) url.Values {
		return url.Values{"key": {m[1]}, "pid": {pid}, "name": {"lê thị hoa"}, "birth_date": {birth}, "sex": {"female"},
			"phone": {phone}, "email": {"hoa@example.vn"}}
	}
	// A detail that differs: one refusal, which does not say which.
	p = anon.postMultipart("/portal/apply", form("1990-01-01"), "face", "me.jpg", photo)
	if p.Status != 422 || !strings.Contains(p.Body, "Không thể mở tài khoản trực tuyến") || strings.Contains(p.Body, `href="#f-birth_date"`) {
		t.Fatalf("a mismatching application: %d %s", p.Status, p.text())
	}
	// No portrait: named at its field.
	p = anon.postMultipart("/portal/apply", form("1990-08-08"), "face", "", nil)
	if p.Status != 422 || !strings.Contains(p.Body, `id="e-face"`) {
		t.Fatalf("an application without a portrait: %d %s", p.Status, p.text())
	}
	p = anon.postMultipart("/portal/apply", form("1990-08-08"), "face", "me.jpg", photo)
	if p.Status != 303 || !strings.HasPrefix(p.Location, "/portal/apply/") {
		t.Fatalf("the application: %d %s", p.Status, p.text())
	}
	receipt := strings.TrimSuffix(p.Location, "?done=submitted")
	if again := anon.postMultipart("/portal/apply", form("1990-08-08"), "face", "me.jpg", photo); again.Location != p.Location {
		t.Errorf("the form sent twice made two applications: %s, %s", p.Location, again.Location)
	}
	id := strings.TrimPrefix(receipt, "/portal/apply/")
	// Followed by its number, by anyone who has it: no personal data.
	other := newConsole(t, srv.URL)
	if p := other.get("/portal/apply/follow?id=" + id); p.Status != 303 || p.Location != receipt {
		t.Fatalf("following by number: %d %s", p.Status, p.Location)
	}
	p = other.get(receipt + "?lang=en")
	if p.Status != 200 || !strings.Contains(p.Body, "Waiting for a decision") || strings.Contains(p.Body, pid) || strings.Contains(p.Body, phone) {
		t.Fatalf("the receipt: %d %s", p.Status, p.text())
	}

	admin.must(200, "POST", "/api/v1/eid/applications/"+id+"/decision", map[string]any{"approve": true})
	if p := other.get(receipt); !strings.Contains(p.Body, `href="/portal/activate"`) {
		t.Fatalf("an approved application's receipt does not lead to activation: %s", p.text())
	}

	// Activation: the same answer for a contact that does not match.
	act := newConsole(t, srv.URL)
	act.get("/portal/activate")
	wrong := act.post("/portal/activate/code", url.Values{"pid": {pid}, "contact": {"0912999999"}})
	p = act.post("/portal/activate/code", url.Values{"pid": {pid}, "contact": {phone}})
	if p.Status != 200 || wrong.Status != 200 || !strings.Contains(p.Body, `name="code"`) || !strings.Contains(wrong.Body, `name="code"`) {
		t.Fatalf("asking for the code: %d / %d %s", p.Status, wrong.Status, p.text())
	}
	code := activationCode(t, srv.URL, phone)
	const password, passcode, newPassword = "Hoa-Sen-2026!", "240719", "Hoa-Moi-2027!"
	set := url.Values{"pid": {pid}, "contact": {phone}, "code": {code}, "password": {password}, "password2": {password}, "passcode": {"123456"}}
	if p := act.post("/portal/activate", set); p.Status != 422 || !strings.Contains(p.Body, `id="e-passcode"`) {
		t.Fatalf("a run as passcode: %d %s", p.Status, p.text())
	}
	set.Set("passcode", passcode)
	p = act.post("/portal/activate", set)
	codes := recoveryCodeRe.FindAllStringSubmatch(p.Body, -1)
	if p.Status != 200 || len(codes) != 10 || !strings.Contains(p.Body, `href="/portal/login"`) {
		t.Fatalf("activation: %d, %d codes: %s", p.Status, len(codes), p.text())
	}

	b, me := portalLogin(t, srv.URL, "/portal/security", pid, password)
	// The portal greets the citizen by name, from the provider's userinfo.
	if me.Status != 200 || !strings.Contains(me.Body, "Còn 10 mã chưa dùng") || !strings.Contains(me.Body, `<span class="who">Lê Thị Hoa</span>`) {
		t.Fatalf("the security page after activation: %d %s", me.Status, me.text())
	}
	if p := b.post("/portal/security/recovery-codes", url.Values{"passcode": {"135792"}}); p.Status != 422 || !strings.Contains(p.Body, `id="e-passcode"`) {
		t.Errorf("new codes with a wrong passcode: %d", p.Status)
	}
	// The phone is lost: lock now, get back in with a code.
	if p := b.post("/portal/security/lock", url.Values{"confirm": {"yes"}}); p.Status != 200 {
		t.Fatalf("lock: %d %s", p.Status, p.text())
	}
	rec := newConsole(t, srv.URL)
	rec.get("/portal/recover")
	bad := url.Values{"pid": {pid}, "code": {codes[0][1]}, "passcode": {"135792"}, "password": {newPassword}, "password2": {newPassword}}
	if p := rec.post("/portal/recover", bad); p.Status != 401 || !strings.Contains(p.Body, "mã khôi phục hoặc mã khóa không đúng") {
		t.Fatalf("recovery with a wrong passcode: %d %s", p.Status, p.text())
	}
	good := url.Values{"pid": {pid}, "code": {strings.ToLower(codes[0][1])}, "passcode": {passcode}, "password": {newPassword}, "password2": {newPassword}}
	if p := rec.post("/portal/recover", good); p.Status != 200 || !strings.Contains(p.Body, "Đã khôi phục tài khoản") {
		t.Fatalf("recovery: %d %s", p.Status, p.text())
	}
	if p := b.get("/portal/me"); p.Status != 303 {
		t.Errorf("the session from before the recovery still opens pages: %d", p.Status)
	}
	if p := rec.post("/portal/recover", good); p.Status != 401 {
		t.Errorf("a recovery code used twice: %d", p.Status)
	}
	b, me = portalLogin(t, srv.URL, "/portal/security", pid, newPassword)
	if me.Status != 200 || !strings.Contains(me.Body, "Còn 9 mã chưa dùng") || !strings.Contains(me.Body, "vừa được khôi phục") {
		t.Fatalf("the security page after recovery: %d %s", me.Status, me.text())
	}
	if p := b.post("/portal/security/recovery-codes", url.Values{"passcode": {passcode}}); p.Status != 403 {
		t.Errorf("new codes during the cooling-off: %d", p.Status)
	}
	// Before: the approval and the activation code.
	if ms := messagesTo(t, srv.URL, phone, 3); len(ms) < 3 || !strings.Contains(ms[0].Body, "mã khôi phục") {
		t.Errorf("no notice of the recovery to the phone: %+v", ms)
	}
	// The recovery is in the citizen's own access log.
	if p := b.get("/portal/access"); !strings.Contains(p.Body, "Khôi phục tài khoản bằng mã khôi phục") {
		t.Errorf("the recovery is not in the access log: %s", p.text())
	}
}

// TestPortalTOTP: a citizen sets up an authenticator app from the security
// page (a QR code, turned on by a code from the app), is told so on the
// phone, cannot start a second setup that would turn the first off, and
// turns it off with the passcode.
func TestPortalTOTP(t *testing.T) {
	for _, engine := range sqldbtest.EngineNames() {
		t.Run(engine, func(t *testing.T) { portalTOTP(t, sqldbtest.URL(t, engine)) })
	}
}

var totpSecretRe = regexp.MustCompile(`<code class="secret wrap-any">([A-Z2-7]+)</code>`)

func portalTOTP(t *testing.T, dbURL string) {
	srv := startServer(t, dbURL)
	admin := login(t, srv.URL, "admin", adminPassword)
	const pid, phone = "001090086001", "0912086001"
	password := citizenWithAccount(t, admin, pid, "Tạ Văn Hưng", "1990-06-16", "male", phone)
	b, _ := portalLogin(t, srv.URL, "/portal/security", pid, password)
	p := b.post("/portal/security/totp", nil)
	m := totpSecretRe.FindStringSubmatch(p.Body)
	if p.Status != 200 || m == nil || !strings.Contains(p.Body, `src="data:image/png;base64,`) {
		t.Fatalf("the setup page: %d %s", p.Status, p.text())
	}
	if p := b.post("/portal/security/totp/confirm", url.Values{"code": {"000000"}, "secret": {m[1]}}); p.Status != 422 || !strings.Contains(p.Body, `id="e-code"`) {
		t.Fatalf("a wrong code: %d %s", p.Status, p.text())
	}
	code, err := totp.GenerateCode(m[1], time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if p := b.post("/portal/security/totp/confirm", url.Values{"code": {code}}); p.Status != 303 {
		t.Fatalf("turning it on: %d %s", p.Status, p.text())
	}
	if p := b.get("/portal/security"); !strings.Contains(p.Body, `action="/portal/security/totp/off"`) {
		t.Fatalf("the security page after setup: %s", p.text())
	}
	if ms := messagesTo(t, srv.URL, phone, 3); len(ms) < 3 || !strings.Contains(ms[0].Body, "authenticator app was just turned on") {
		t.Errorf("no notice of the authenticator app: %+v", ms)
	}
	if p := b.post("/portal/security/totp", nil); p.Status != 409 {
		t.Errorf("a second setup while one is on: %d", p.Status)
	}
	if p := b.post("/portal/security/totp/off", url.Values{"passcode": {"135792"}}); p.Status != 422 {
		t.Errorf("turning it off with a wrong passcode: %d", p.Status)
	}
	if p := b.post("/portal/security/totp/off", url.Values{"passcode": {"240719"}}); p.Status != 303 {
		t.Errorf("turning it off: %d %s", p.Status, p.text())
	}
}
