package main

import (
	"github.com/dancu-vn/dancu/internal/dossier"
	"net/url"
	"strings"
	"testing"

	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// TestVerifyPage: the QR code of a residence confirmation holds a short
// link whose page says valid and what the document states; once the
// person's residence changes it says superseded; a random code and a
// tampered document get the one same answer, which tells nothing.
func TestVerifyPage(t *testing.T) {
	for _, engine := range sqldbtest.EngineNames() {
		t.Run(engine, func(t *testing.T) { verifyPage(t, sqldbtest.URL(t, engine)) })
	}
}

func verifyPage(t *testing.T, dbURL string) {
	w := newWorld(t, dbURL)
	var doc struct {
		JWS      string `json:"jws"`
		ShortURL string `json:"short_url"`
		QRPNG    string `json:"qr_png"`
	}
	w.c(subject).must(200, "GET", "/api/v1/dossiers/"+w.result+"/result", nil).json(t, &doc)
	u, err := url.Parse(doc.ShortURL)
	if err != nil || !strings.HasPrefix(u.Path, "/v/") || len(u.Path) != len("/v/")+20 || doc.QRPNG == "" {
		t.Fatalf("short link %q", doc.ShortURL)
	}
	again := struct {
		ShortURL string `json:"short_url"`
	}{}
	w.c(subject).must(200, "GET", "/api/v1/dossiers/"+w.result+"/result", nil).json(t, &again)
	if again.ShortURL != doc.ShortURL {
		t.Errorf("the link changed: %q then %q", doc.ShortURL, again.ShortURL)
	}
	phone := newConsole(t, w.srv.URL)
	p := phone.get(u.Path)
	if p.Status != 200 || !strings.Contains(p.Body, "verdict-valid") || !strings.Contains(p.Body, w.subjectPID) {
		t.Fatalf("the link's page: %d %s", p.Status, p.text())
	}
	// The same answer for a code nobody issued and for a forged document.
	invalid := func(what string, p page) string {
		t.Helper()
		if p.Status != 200 || !strings.Contains(p.Body, "verdict-invalid") || strings.Contains(p.Body, w.subjectPID) {
			t.Errorf("%s: %d %s", what, p.Status, p.text())
		}
		i := strings.Index(p.Body, `<div class="verdict`)
		j := strings.Index(p.Body, `<p><a href="/verify">`)
		if i < 0 || j < i {
			return p.Body
		}
		return p.Body[i:j]
	}
	unknown := invalid("an unknown code", phone.get("/v/aaaaaaaaaaaaaaaaaaaa"))
	phone.get("/verify")
	parts := strings.Split(doc.JWS, ".")
	forged := invalid("a tampered document", phone.post("/verify", url.Values{"document": {parts[0] + "." + parts[1] + "x." + parts[2]}}))
	short := invalid("a short code", phone.get("/v/abc"))
	if unknown != forged || unknown != short {
		t.Errorf("the answers differ:\n%s\n%s\n%s", unknown, forged, short)
	}
	if p := phone.post("/verify", url.Values{"document": {doc.ShortURL}}); !strings.Contains(p.Body, "verdict-valid") {
		t.Errorf("a pasted link: %s", p.text())
	}
	// The subject moves to another household: the residence it states is
	// no longer the registry's.
	w.c(admin).must(200, "POST", "/api/v1/citizens/"+w.subjectPID+"/household", map[string]any{
		"new_household_address": map[string]string{"commune": communeA, "detail": "Số 99 Phố Kim Mã"}, "reason": "moved", "legal_basis": "Luật Cư trú 2020"})
	if p := phone.get(u.Path); !strings.Contains(p.Body, "verdict-superseded") {
		t.Errorf("after the move: %s", p.text())
	}
	// Typed guesses from one address are refused after dossier.CheckRule
	// failures, on the page and in the API, with when to try again; a link
	// opened (an image tag elsewhere could open them) counts nothing.
	for i := 0; i < dossier.CheckRule.Free+3; i++ {
		phone.get("/v/" + strings.Repeat("d", 19) + string(rune('a'+i%26)))
	}
	phone.get("/verify")
	for i := 0; i < dossier.CheckRule.Free-1; i++ { // the tampered document above was one
		if p := phone.post("/verify", url.Values{"document": {strings.Repeat("b", 19) + string(rune('a'+i%26))}}); p.Status != 200 {
			t.Fatalf("typed guess %d after links opened: %d (the links counted)", i, p.Status)
		}
	}
	if p := phone.post("/verify", url.Values{"document": {strings.Repeat("c", 20)}}); p.Status != 429 || p.Header.Get("Retry-After") == "" || !strings.Contains(p.text(), "thử lại sau") {
		t.Errorf("a guess past the rule: %d %q %s", p.Status, p.Header.Get("Retry-After"), p.text())
	}
	if p := phone.get(u.Path); p.Status != 200 || !strings.Contains(p.Body, "verdict-") {
		t.Errorf("a link opened from the refused address: %d", p.Status)
	}
	var refused problem
	w.c(anon).do("POST", "/api/v1/documents/verify", map[string]string{"document": doc.JWS}).json(t, &refused)
	if refused.Status != 429 {
		t.Errorf("the API check from the refused address: %+v", refused)
	}
	if p := phone.get("/catalog"); p.Status != 200 || strings.Count(p.Body, `<tr><th scope="row">`) < 25 {
		t.Errorf("the catalog: %d", p.Status)
	}
}
