package main

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

var clientSecretField = regexp.MustCompile(`id="secret" type="text" readonly value="([^"]+)"`)

// TestAdminPages: the administrator signs in to the console with an
// authenticator app, creates a registrar of a commune (a weak password is
// named at its field), sees its jurisdiction by name, resets its second
// factor after a confirmation (its sessions end, its next sign-in enrols
// again), registers a service client whose secret is shown once, and
// registers it as a member agency; the registrar is refused every admin
// page.
func TestAdminPages(t *testing.T) {
	for _, engine := range sqldbtest.EngineNames() {
		t.Run(engine, func(t *testing.T) {
			db := sqldbtest.URL(t, engine)
			if _, _, err := runCLI(t, map[string]string{"DANCU_DATA_KEY": testDataKey}, "pki", "init", "--db", db); err != nil {
				t.Fatal(err)
			}
			srv := startServer(t, db)
			adm, _ := consoleLogin(t, srv.URL, "admin", adminPassword)

			p := adm.get("/console/")
			if !strings.Contains(p.Body, `href="/console/admin"`) {
				t.Fatalf("the admin's home page has no administration card: %s", p.text())
			}
			// An officer of a commune.
			form := url.Values{"username": {"xa-badinh"}, "display_name": {"Cán bộ Ba Đình"}, "role": {"registrar"},
				"level": {"commune"}, "code": {"00004"}, "password": {"short"}}
			p = adm.post("/console/admin/officers", form)
			if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `id="e-password"`) {
				t.Fatalf("a weak password: %d, want 422 naming the field: %s", p.Status, p.text())
			}
			if strings.Contains(p.Body, `value="short"`) {
				t.Fatal("the refused password is written back into the page")
			}
			form.Set("password", "Pw-Ba-Dinh-2026!")
			form.Set("code", "99999")
			if p = adm.post("/console/admin/officers", form); p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `id="e-code"`) {
				t.Fatalf("an unknown commune: %d, want 422 at the unit code: %s", p.Status, p.text())
			}
			form.Set("code", "00004")
			if p = adm.post("/console/admin/officers", form); p.Status != http.StatusSeeOther {
				t.Fatalf("create an officer: %d: %s", p.Status, p.text())
			}
			p = adm.get(p.Location)
			row := tableRow(p.Body, "xa-badinh")
			if !strings.Contains(row, "Ba Đình") || strings.Contains(row, ">00004<") {
				t.Fatalf("the jurisdiction is not shown by its unit name: %s", row)
			}

			// The registrar: refused every admin page.
			reg, _ := consoleLogin(t, srv.URL, "xa-badinh", "Pw-Ba-Dinh-2026!")
			for _, path := range []string{"/console/admin", "/console/admin/officers", "/console/admin/clients", "/console/admin/agencies",
				"/console/admin/subscriptions", "/console/admin/pki", "/console/admin/audit", "/console/admin/officers/admin/second-factor"} {
				if p := reg.get(path); p.Status != http.StatusForbidden {
					t.Errorf("registrar GET %s = %d, want 403", path, p.Status)
				}
			}
			if p := reg.post("/console/admin/officers", url.Values{"username": {"evil"}, "role": {"admin"}, "level": {"national"}, "password": {"Pw-Evil-Admin-2026!"}}); p.Status != http.StatusForbidden {
				t.Errorf("registrar creates an officer: %d, want 403", p.Status)
			}
			if strings.Contains(reg.get("/console/").Body, `href="/console/admin"`) {
				t.Error("the registrar's home page shows the administration card")
			}
			p = adm.get("/console/admin/officers")
			if row := tableRow(p.Body, "xa-badinh"); !strings.Contains(row, "Có") {
				t.Fatalf("the registrar's second factor is not shown as enrolled: %s", row)
			}

			// Reset of the second factor: a confirmation first.
			p = adm.get("/console/admin/officers/xa-badinh/second-factor")
			if p.Status != http.StatusOK || !strings.Contains(p.Body, `name="confirm" value="yes"`) {
				t.Fatalf("confirmation page: %d: %s", p.Status, p.text())
			}
			if p = adm.post("/console/admin/officers/xa-badinh/second-factor", url.Values{}); p.Status != http.StatusSeeOther || !strings.HasSuffix(p.Location, "/second-factor") {
				t.Fatalf("a reset without the confirmation: %d %s, want back to the confirmation", p.Status, p.Location)
			}
			if reg.get("/console/").Status != http.StatusOK {
				t.Fatal("an unconfirmed reset ended the registrar's session")
			}
			if p = adm.post("/console/admin/officers/xa-badinh/second-factor", url.Values{"confirm": {"yes"}}); p.Status != http.StatusSeeOther {
				t.Fatalf("reset: %d: %s", p.Status, p.text())
			}
			if p = reg.get("/console/"); p.Status != http.StatusSeeOther || !strings.Contains(p.Location, "/console/login") {
				t.Fatalf("after the reset the registrar's session still opens the console: %d %s", p.Status, p.Location)
			}
			reg, regKey := consoleLogin(t, srv.URL, "xa-badinh", "Pw-Ba-Dinh-2026!") // fails unless it enrols again

			// The officer's page: a new name keeps the officer's session, a
			// new role ends it; the reason of a refusal is in Vietnamese.
			base := "/console/admin/officers/xa-badinh"
			if p := adm.get(base); p.Status != http.StatusOK || !strings.Contains(p.Body, `name="role"`) || !strings.Contains(p.Body, base+"/password") {
				t.Fatalf("the officer's page: %d %s", p.Status, p.text())
			}
			edit := url.Values{"display_name": {""}, "role": {"registrar"}, "level": {"commune"}, "code": {"00004"}}
			if p := adm.post(base, edit); p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "phải dài từ 1 đến 200 byte") {
				t.Errorf("an empty name: %d %s", p.Status, p.text())
			}
			edit.Set("display_name", "Trung úy Lan, Công an phường Ba Đình")
			if p := adm.post(base, edit); p.Status != http.StatusSeeOther {
				t.Fatalf("a new name: %d %s", p.Status, p.text())
			}
			if p := reg.get("/console/"); p.Status != http.StatusOK {
				t.Errorf("a new name ended the officer's session: %d", p.Status)
			}
			edit.Set("role", "viewer")
			if p := adm.post(base, edit); p.Status != http.StatusSeeOther {
				t.Fatalf("a new role: %d %s", p.Status, p.text())
			}
			if p := reg.get("/console/"); p.Status != http.StatusSeeOther {
				t.Errorf("a new role left the officer's session open: %d", p.Status)
			}
			if p := adm.get("/console/admin/officers"); !strings.Contains(tableRow(p.Body, "xa-badinh"), "Trung úy Lan") {
				t.Errorf("the list does not show the new name")
			}
			// A new password: typed twice, by the policy, then it signs in
			// (the second factor stays).
			if p := adm.post(base+"/password", url.Values{"password": {"Pw-New-Lan-2026!"}, "password2": {"Pw-New-Lan-2026?"}}); p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `id="e-password2"`) {
				t.Errorf("two different passwords: %d", p.Status)
			}
			if p := adm.post(base+"/password", url.Values{"password": {"weak"}, "password2": {"weak"}}); p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "phải dài từ 8 đến 64 ký tự") {
				t.Errorf("a weak password: %d %s", p.Status, p.text())
			}
			if p := adm.post(base+"/password", url.Values{"password": {"Pw-New-Lan-2026!"}, "password2": {"Pw-New-Lan-2026!"}}); p.Status != http.StatusSeeOther {
				t.Fatalf("a new password: %d %s", p.Status, p.text())
			}
			consoleLoginWith(t, srv.URL, "xa-badinh", "Pw-New-Lan-2026!", regKey, time.Now().Add(30*time.Second))
			// The administrator's own page changes the name only.
			if p := adm.get("/console/admin/officers/admin"); p.Status != http.StatusOK || strings.Contains(p.Body, `name="role"`) || strings.Contains(p.Body, "/password") {
				t.Errorf("the administrator's own page offers their powers or password: %s", p.text())
			}
			if p := adm.post("/console/admin/officers/admin/password", url.Values{"password": {"Pw-Own-Admin-2026!"}, "password2": {"Pw-Own-Admin-2026!"}}); p.Status != http.StatusForbidden {
				t.Errorf("the administrator reset their own password: %d", p.Status)
			}

			// A service client: the secret once.
			p = adm.post("/console/admin/clients", url.Values{"id": {"so-yte"}, "name": {"Sở Y tế"}, "type": {"service"}})
			m := clientSecretField.FindStringSubmatch(p.Body)
			if p.Status != http.StatusCreated || m == nil {
				t.Fatalf("register a client: %d, no secret: %s", p.Status, p.text())
			}
			if p.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("the secret's page may be cached: %q", p.Header.Get("Cache-Control"))
			}
			if strings.Contains(adm.get("/console/admin/clients").Body, m[1]) {
				t.Fatal("the client secret is shown again")
			}
			if p = adm.post("/console/admin/clients", url.Values{"id": {"so-yte"}, "name": {"Sở Y tế"}, "type": {"service"}}); p.Status != http.StatusUnprocessableEntity ||
				!strings.Contains(p.Body, `id="e-id"`) {
				t.Fatalf("a taken client ID: %d, want 422 at the field: %s", p.Status, p.text())
			}

			// The agency on it.
			ag := url.Values{"id": {"so-yte"}, "name": {"Sở Y tế Hà Nội"}, "kind": {"hospital"}, "services": {"query"}, "fields": {"name", "birth_date"},
				"purposes": {"Khám chữa bệnh\nBảo hiểm y tế"}, "rate_per_second": {"abc"}}
			if p = adm.post("/console/admin/agencies", ag); p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `id="e-rate_per_second"`) {
				t.Fatalf("a quota that is no number: %d, want 422 at the field: %s", p.Status, p.text())
			}
			ag.Set("rate_per_second", "50")
			ag["fields"] = []string{"name", "no_such_field"}
			if p = adm.post("/console/admin/agencies", ag); p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `id="e-fields"`) {
				t.Fatalf("an unknown field: %d, want 422 at the fields: %s", p.Status, p.text())
			}
			ag["fields"] = []string{"name", "birth_date"}
			if p = adm.post("/console/admin/agencies", ag); p.Status != http.StatusSeeOther {
				t.Fatalf("register an agency: %d: %s", p.Status, p.text())
			}
			p = adm.get(p.Location)
			row = tableRow(p.Body, "so-yte")
			for _, want := range []string{"Sở Y tế Hà Nội", "query", "50/s", "Bảo hiểm y tế"} {
				if !strings.Contains(row, want) {
					t.Errorf("the agency's row lacks %q: %s", want, row)
				}
			}
			if !strings.Contains(p.Body, `class="banner success"`) {
				t.Error("no success banner after registering the agency")
			}

			// The status pages.
			if p = adm.get("/console/admin/pki"); p.Status != http.StatusOK || !strings.Contains(p.Body, "CSCA") {
				t.Errorf("PKI page: %d: %s", p.Status, p.text())
			}
			if p = adm.post("/console/admin/audit/verify", nil); p.Status != http.StatusOK || !strings.Contains(p.Body, `class="banner success"`) {
				t.Errorf("audit verification: %d: %s", p.Status, p.text())
			}
		})
	}
}

// tableRow is the <tr> of a page holding s ("" when none).
func tableRow(body, s string) string {
	for _, tr := range strings.Split(body, "<tr>") {
		if strings.Contains(tr, ">"+s+"<") {
			end := strings.Index(tr, "</tr>")
			if end < 0 {
				end = len(tr)
			}
			return tr[:end]
		}
	}
	return ""
}
