package main

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// follow goes on through the redirects that stay on the server, as a
// browser does, and returns the first answer that is not one, and the
// address it came from.
func (b *console) follow(p page) (page, *url.URL) {
	b.t.Helper()
	var at *url.URL
	for i := 0; i < 12 && p.Status >= 300 && p.Status < 400; i++ {
		u, err := url.Parse(p.Location)
		if err != nil {
			b.t.Fatal(err)
		}
		if u.IsAbs() && !strings.HasPrefix(p.Location, b.base) {
			b.t.Fatalf("a redirect off the server: %s", p.Location)
		}
		at = u
		p = b.get(u.RequestURI())
	}
	return p, at
}

// portalLogin signs a citizen in to the portal through the OpenID
// provider's pages: the portal's redirect, the login page, the consent
// page the first time, and back to the portal with the code. It returns
// the browser and the page the portal then shows.
func portalLogin(t *testing.T, base, next, pid, password string) (*console, page) {
	t.Helper()
	b := newConsole(t, base)
	p, at := b.follow(b.get("/portal/login?next=" + url.QueryEscape(next)))
	if p.Status != 200 || at == nil || !strings.Contains(p.Body, `name="password"`) {
		t.Fatalf("the provider's login page: %d %s", p.Status, p.Body)
	}
	id := at.Query().Get("id")
	p = b.post("/login", url.Values{"id": {id}, "pid": {pid}, "password": {password}})
	if p.Status == 200 && strings.Contains(p.Body, `name="decision"`) {
		p = b.post("/login/consent", url.Values{"id": {id}, "decision": {"allow"}})
	}
	p, _ = b.follow(p)
	return b, p
}

// TestPortal: a citizen signs in to the portal through the platform's own
// OpenID provider, reads their record, their card and account, sees who
// read their data (a commune's read by its unit, not the officer) and
// withdraws a consent; the pages ask anyone else to sign in, and the
// portal session ends with the provider's.
func TestPortal(t *testing.T) {
	for _, engine := range sqldbtest.EngineNames() {
		t.Run(engine, func(t *testing.T) { portal(t, sqldbtest.URL(t, engine)) })
	}
}

func portal(t *testing.T, dbURL string) {
	srv := startServer(t, dbURL)
	admin := login(t, srv.URL, "admin", adminPassword)
	const pid = "001090077001"
	password := citizenWithAccount(t, admin, pid, "Trần Văn Bình", "1990-07-07", "male", "0912077001")
	admin.must(201, "POST", "/api/v1/officers", map[string]any{"username": "lan", "display_name": "Cán bộ Lan", "role": "viewer",
		"password": "Pw-lan-2026!", "jurisdiction": map[string]string{"level": "commune", "code": communeA}})
	login(t, srv.URL, "lan", "Pw-lan-2026!").must(200, "GET", "/api/v1/citizens/"+pid+"?purpose="+url.QueryEscape("xác minh hồ sơ"), nil)

	// Anyone else: the landing page, and sign-in for the rest.
	anon := newConsole(t, srv.URL)
	if p := anon.get("/portal/"); p.Status != 200 || !strings.Contains(p.Body, `href="/portal/login"`) {
		t.Fatalf("the portal's landing page: %d %s", p.Status, p.text())
	}
	for _, path := range []string{"/portal/me", "/portal/access", "/portal/consents"} {
		if p := anon.get(path); p.Status != 303 || !strings.HasPrefix(p.Location, "/portal/login?next=") {
			t.Errorf("anonymous %s: %d %q", path, p.Status, p.Location)
		}
	}
	if p := anon.post("/portal/consents/dancu-portal", url.Values{}); p.Status != 401 && p.Status != 403 {
		t.Errorf("an anonymous withdrawal: %d", p.Status)
	}
	// An officer's console session opens no portal page.
	officer, _ := consoleLogin(t, srv.URL, "lan", "Pw-lan-2026!")
	if p := officer.get("/portal/me"); p.Status != 303 {
		t.Errorf("an officer's session on the portal: %d", p.Status)
	}

	b, p := portalLogin(t, srv.URL, "/portal/me", pid, password)
	if p.Status != 200 || !strings.Contains(p.Body, "Trần Văn Bình") || !strings.Contains(p.Body, pid) || !strings.Contains(p.Body, `id="account"`) {
		t.Fatalf("my data after signing in: %d %s", p.Status, p.text())
	}
	if strings.Contains(p.Body, "/console/citizens/") {
		t.Error("the portal links to the officers' console")
	}
	if b.cookie("dancu_portal") == nil || b.cookie("dancu_portal").Value == "" {
		t.Fatal("no portal cookie")
	}
	// Who read my data: the commune, not the officer; my own view as mine.
	p = b.get("/portal/access")
	if p.Status != 200 || !strings.Contains(p.Body, "Ba Đình") || strings.Contains(p.Body, "Cán bộ Lan") || strings.Contains(p.Body, ">lan<") ||
		!strings.Contains(p.Body, "xác minh hồ sơ") || !strings.Contains(p.Body, "Bạn") {
		t.Errorf("who accessed my data: %d %s", p.Status, p.text())
	}
	for _, raw := range []string{"eid_account_read", "the citizen's own record", "card_list"} {
		if strings.Contains(p.Body, raw) {
			t.Errorf("who accessed my data shows %q as the platform wrote it", raw)
		}
	}
	// A consent given to another service is listed and withdrawn with one
	// click; the portal session goes on.
	admin.must(201, "POST", "/api/v1/oidc/clients", map[string]any{"id": "dvc-app", "name": "Dịch vụ công", "type": "native",
		"redirect_uris": []string{"http://127.0.0.1:9/cb"}})
	citizenLogin(t, srv.URL, "dvc-app", pid, password)
	p = b.get("/portal/consents")
	if p.Status != 200 || !strings.Contains(p.Body, `action="/portal/consents/dvc-app"`) || !strings.Contains(p.Body, "Dịch vụ công") {
		t.Fatalf("my consents: %d %s", p.Status, p.text())
	}
	if p := b.post("/portal/consents/dvc-app", url.Values{"csrf": {"forged"}}); p.Status != 403 {
		t.Errorf("a withdrawal with a forged token: %d", p.Status)
	}
	if p := b.post("/portal/consents/dvc-app", nil); p.Status != 303 {
		t.Fatalf("withdraw: %d %s", p.Status, p.text())
	}
	if p := b.get("/portal/consents?done=withdrawn"); p.Status != 200 || !strings.Contains(p.Body, "Đã rút lại") || strings.Contains(p.Body, `action="/portal/consents/dvc-app"`) {
		t.Errorf("after withdrawing: %d %s", p.Status, p.text())
	}
	// Sign out: the portal's session and the provider's end.
	p = b.get("/portal/")
	p = b.post("/portal/logout", nil)
	if p.Status != 303 || !strings.Contains(p.Location, "/end_session") {
		t.Fatalf("sign out: %d %q", p.Status, p.Location)
	}
	b.follow(p)
	if p := b.get("/portal/me"); p.Status != 303 {
		t.Errorf("after signing out: %d", p.Status)
	}
	if p, _ := b.follow(b.get("/portal/login")); !strings.Contains(p.Body, `name="password"`) {
		t.Errorf("after signing out the provider still had a session: %s", p.text())
	}
	// My documents: a residence confirmation at once, printable with its
	// QR code's link, which the public check finds valid; another citizen
	// cannot open it.
	b, _ = portalLogin(t, srv.URL, "/portal/documents", pid, password)
	p = b.get("/portal/documents")
	if p.Status != 200 || !strings.Contains(p.Body, `action="/portal/documents/confirmation"`) {
		t.Fatalf("my documents: %d %s", p.Status, p.text())
	}
	key := regexp.MustCompile(`name="key" value="([^"]+)"`).FindStringSubmatch(p.Body)[1]
	p = b.post("/portal/documents/confirmation", url.Values{"key": {key}})
	if p.Status != 303 || !strings.HasPrefix(p.Location, "/portal/documents/") {
		t.Fatalf("ask for a confirmation: %d %s", p.Status, p.text())
	}
	doc := p.Location
	if again := b.post("/portal/documents/confirmation", url.Values{"key": {key}}); again.Location != doc {
		t.Errorf("the same form twice: %q then %q", doc, again.Location)
	}
	p = b.get(doc)
	link := regexp.MustCompile(`https?://[^"<]+/v/[a-z2-7]{20}`).FindString(p.Body)
	if p.Status != 200 || !strings.Contains(p.Body, "CT07") || !strings.Contains(p.Body, `src="data:image/png;base64,`) || link == "" {
		t.Fatalf("the confirmation page: %d, link %q, %s", p.Status, link, p.Body[strings.Index(p.Body, "paper-qr"):])
	}
	if !strings.Contains(p.Body, `href="/portal/documents"`) || strings.Contains(p.Body, "/console/dossiers/") {
		t.Error("the printed page leads back to the console, not the portal")
	}
	if v := anon.get(strings.TrimPrefix(link, srv.URL)); v.Status != 200 || !strings.Contains(v.Body, "verdict-valid") {
		t.Errorf("the QR code's link: %d %s", v.Status, v.text())
	}
	const other = "001190077002"
	otherPw := citizenWithAccount(t, admin, other, "Lý Thị Cúc", "1990-08-08", "female", "0912077002")
	ob, _ := portalLogin(t, srv.URL, "/portal/", other, otherPw)
	if p := ob.get(doc); p.Status != 403 && p.Status != 404 {
		t.Errorf("another citizen opened the confirmation: %d", p.Status)
	}

	// Security: sign out everywhere ends the portal's session and another
	// service's tokens; a lost phone locks the account at once.
	b, _ = portalLogin(t, srv.URL, "/portal/security", pid, password)
	app := citizenLogin(t, srv.URL, "dvc-app", pid, password)
	app.must(200, "GET", "/api/v1/me/consents", nil)
	if p := b.get("/portal/security"); p.Status != 200 || !strings.Contains(p.Body, "0912077001") || !strings.Contains(p.Body, `action="/portal/security/lock"`) {
		t.Fatalf("the security page: %d %s", p.Status, p.text())
	}
	if p := b.post("/portal/security/logout-everywhere", nil); p.Status != 200 {
		t.Fatalf("sign out everywhere: %d %s", p.Status, p.text())
	}
	if p := b.get("/portal/me"); p.Status != 303 {
		t.Errorf("the portal's session outlived signing out everywhere: %d", p.Status)
	}
	if r := app.do("GET", "/api/v1/me/consents", nil); r.Status != 401 {
		t.Errorf("another service's token outlived signing out everywhere: %d", r.Status)
	}
	// A page drawn before its session died still signs out of the provider.
	if p := b.post("/portal/logout", nil); p.Status != 303 || !strings.Contains(p.Location, "/end_session") {
		t.Errorf("signing out of a lapsed session: %d %q", p.Status, p.Location)
	}
	b, _ = portalLogin(t, srv.URL, "/portal/security", pid, password)
	if p := b.post("/portal/security/lock", nil); p.Status != 422 || !strings.Contains(p.Body, `href="#f-confirm"`) {
		t.Errorf("a lock not confirmed: %d %s", p.Status, p.text())
	}
	if p := b.post("/portal/security/lock", url.Values{"confirm": {"yes"}}); p.Status != 200 || !strings.Contains(p.Body, "đã bị khoá") {
		t.Fatalf("lock: %d %s", p.Status, p.text())
	}
	if p := b.get("/portal/me"); p.Status != 303 {
		t.Errorf("the portal's session outlived the lock: %d", p.Status)
	}
	var acc struct{ State string }
	admin.must(200, "GET", "/api/v1/eid/accounts/"+pid, nil).json(t, &acc)
	if acc.State != "locked" {
		t.Errorf("the account after the lock: %+v", acc)
	}
	admin.must(200, "POST", "/api/v1/eid/accounts/"+pid+"/unlock", map[string]string{"reason": "the holder came with the card"})

	// A new password: the current one asked for, every session ended, a
	// notice on the phone on file.
	b, _ = portalLogin(t, srv.URL, "/portal/security", pid, password)
	b.get("/portal/security")
	newPw := "Mk-Moi-2026!"
	if p := b.post("/portal/security/password", url.Values{"current": {"wrong-Pass-1!"}, "password": {newPw}, "password2": {newPw}}); p.Status != 422 ||
		!strings.Contains(p.Body, "không phải là mật khẩu hiện tại") {
		t.Errorf("a wrong current password: %d %s", p.Status, p.text())
	}
	if p := b.post("/portal/security/password", url.Values{"current": {password}, "password": {newPw}, "password2": {newPw + "x"}}); p.Status != 422 {
		t.Errorf("two different new passwords: %d", p.Status)
	}
	if p := b.post("/portal/security/password", url.Values{"current": {password}, "password": {"weak"}, "password2": {"weak"}}); p.Status != 422 {
		t.Errorf("a weak password: %d", p.Status)
	}
	if p := b.post("/portal/security/password", url.Values{"current": {password}, "password": {newPw}, "password2": {newPw}}); p.Status != 200 {
		t.Fatalf("change the password: %d %s", p.Status, p.text())
	}
	if p := b.get("/portal/me"); p.Status != 303 {
		t.Errorf("the session outlived the password change: %d", p.Status)
	}
	notified := false
	for deadline := time.Now().Add(20 * time.Second); !notified && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		for _, m := range messagesTo(t, srv.URL, "0912077001", 1) {
			notified = notified || strings.Contains(m.Body, "mật khẩu tài khoản định danh điện tử của bạn vừa được thay đổi")
		}
	}
	if !notified {
		t.Error("no notice of the password change reached the phone")
	}
	password = newPw
	if _, p := portalLogin(t, srv.URL, "/portal/me", pid, password); p.Status != 200 || !strings.Contains(p.Body, `id="account"`) {
		t.Errorf("signing in with the new password: %d", p.Status)
	}

	// Withdrawing the portal's own consent ends the portal's session: its
	// tokens end with it.
	b, _ = portalLogin(t, srv.URL, "/portal/consents", pid, password)
	if p := b.post("/portal/consents/dancu-portal", nil); p.Status != 303 {
		t.Fatalf("withdraw the portal's consent: %d", p.Status)
	}
	if p := b.get("/portal/me"); p.Status != 303 || !strings.HasPrefix(p.Location, "/portal/login") {
		t.Errorf("the portal's session outlived its consent: %d %q", p.Status, p.Location)
	}
}
