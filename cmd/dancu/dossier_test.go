package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// citizenLogin logs a citizen in through the OpenID provider with a native
// client (PKCE) and returns an API client holding their access token.
func citizenLogin(t *testing.T, base, clientID, pid, password string) *client {
	t.Helper()
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	redirect := "http://127.0.0.1:9/cb"
	cfg := oauth2.Config{ClientID: clientID, Endpoint: provider.Endpoint(), RedirectURL: redirect, Scopes: []string{oidc.ScopeOpenID}}
	verifier := oauth2.GenerateVerifier()
	b := newBrowser(t, redirect)
	code, rpErr, page, _ := b.logIn(base, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), pid, password)
	if code == "" {
		t.Fatalf("citizen login: %s %s", rpErr, page)
	}
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, base: base, token: tok.AccessToken}
}

// TestDossierEndToEnd: a citizen submits a temporary-residence
// registration; an officer of another commune cannot decide it, the right
// one approves it; the record shows the new address, the citizen has the
// result and the notices; a residence confirmation verifies publicly,
// fails when changed, and is superseded after a move.
func TestDossierEndToEnd(t *testing.T) {
	for _, engine := range sqldbtest.EngineNames() {
		t.Run(engine, func(t *testing.T) { dossierEndToEnd(t, sqldbtest.URL(t, engine)) })
	}
}

func dossierEndToEnd(t *testing.T, dbURL string) {
	srv := startServer(t, dbURL, "--webhook-allow-hosts", "127.0.0.1")
	admin := login(t, srv.URL, "admin", adminPassword)
	for _, o := range []map[string]any{
		{"username": "lan", "display_name": "Nguyễn Thị Lan", "role": "registrar", "password": "Lan-pass-2026!",
			"jurisdiction": map[string]string{"level": "commune", "code": "00004"}},
		{"username": "hong", "display_name": "Võ Thị Hồng", "role": "registrar", "password": "Hong-pass-2026!",
			"jurisdiction": map[string]string{"level": "commune", "code": "26740"}},
	} {
		admin.must(201, "POST", "/api/v1/officers", o)
	}
	lan, hong := login(t, srv.URL, "lan", "Lan-pass-2026!"), login(t, srv.URL, "hong", "Hong-pass-2026!")
	// A ministry subscribes to residence changes by webhook.
	var hookMu sync.Mutex
	var hooked []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct{ Type, Subject string }
		json.NewDecoder(r.Body).Decode(&ev)
		hookMu.Lock()
		hooked = append(hooked, ev.Type+" "+ev.Subject)
		hookMu.Unlock()
	}))
	defer hook.Close()
	var mps struct{ Secret string }
	admin.must(201, "POST", "/api/v1/oidc/clients", map[string]any{"id": "bocongan", "name": "Bộ Công an", "type": "service"}).json(t, &mps)
	admin.must(201, "POST", "/api/v1/agencies", map[string]any{"id": "bocongan", "name": "Bộ Công an", "kind": "ministry",
		"services": []string{"events"}, "purposes": []string{"residence statistics"}})
	agencyToken(t, srv.URL, "bocongan", mps.Secret).must(201, "POST", "/api/v1/subscriptions", map[string]any{"url": hook.URL, "types": []string{"vn.dancu.residence.changed"}})
	admin.must(201, "POST", "/api/v1/oidc/clients", map[string]any{"id": "dvc-app", "name": "Dịch vụ công", "type": "native",
		"redirect_uris": []string{"http://127.0.0.1/cb"}})
	const pid = "001090054321"
	password := citizenWithAccount(t, admin, pid, "Trần Văn Bình", "1990-08-09", "male", "0987654321")
	me := citizenLogin(t, srv.URL, "dvc-app", pid, password)

	var services []struct {
		Code       string
		Executable bool
	}
	(&client{t: t, base: srv.URL}).must(200, "GET", "/api/v1/services", nil).json(t, &services)
	if len(services) < 25 {
		t.Fatalf("catalog of %d services", len(services))
	}
	var prefill map[string]any
	me.must(200, "GET", "/api/v1/me/prefill", nil).json(t, &prefill)
	if prefill["name"] != "Trần Văn Bình" || prefill["pid"] != pid {
		t.Errorf("prefill %v", prefill)
	}

	// Bad input: the field and the reason, nothing written.
	good := map[string]any{"address": map[string]string{"commune": "26740", "detail": "số 45 Lê Lợi"}, "until": "2027-06-30",
		"lawful_residence": "Hợp đồng thuê nhà số 7/2026"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for kk, vv := range good {
			m[kk] = vv
		}
		m[k] = v
		return m
	}
	for _, tc := range []struct {
		name, service string
		data          any
		location      string
	}{
		{"unknown service", "residence.mars", good, "body.service"},
		{"missing address", "residence.temporary", map[string]any{"until": "2027-06-30", "lawful_residence": "x"}, "body.data.address"},
		{"address outside the unit codes", "residence.temporary", with("address", map[string]string{"commune": "99999", "detail": "x"}), "body.data.address.commune"},
		{"period over 2 years", "residence.temporary", with("until", "2030-01-01"), "body.data.until"},
	} {
		expectProblem(t, me.do("POST", "/api/v1/dossiers", map[string]any{"service": tc.service, "data": tc.data}), 422, tc.location)
	}
	var mine []struct{ ID string }
	me.must(200, "GET", "/api/v1/me/dossiers", nil).json(t, &mine)
	if len(mine) != 0 {
		t.Fatalf("refused submissions stored %d dossiers", len(mine))
	}

	// Submit; a duplicate submission (same key) is the same dossier.
	var d struct {
		ID, Code, State, Commune, Result string
		Steps                            []struct{ State string }
	}
	me.must(201, "POST", "/api/v1/dossiers", map[string]any{"service": "residence.temporary", "data": good}, "Idempotency-Key", "tt-1").json(t, &d)
	var dup struct{ ID string }
	me.must(201, "POST", "/api/v1/dossiers", map[string]any{"service": "residence.temporary", "data": good}, "Idempotency-Key", "tt-1").json(t, &dup)
	if d.State != "submitted" || d.Commune != "26740" || dup.ID != d.ID {
		t.Fatalf("submitted %+v, duplicate %s", d, dup.ID)
	}
	// Undecided, it has no result: an error, not an empty answer.
	if r := me.do("GET", "/api/v1/dossiers/"+d.ID+"/result", nil); r.Status != 409 || !strings.Contains(string(r.Body), "submitted") {
		t.Errorf("the result of an undecided dossier: %d %s", r.Status, r.Body)
	}
	// A second submission while the first is open is a duplicate.
	expectProblem(t, me.do("POST", "/api/v1/dossiers", map[string]any{"service": "residence.temporary", "data": good}), 422, "body.service")
	// The officer of the citizen's own commune is not the competent one.
	expectProblem(t, lan.do("POST", "/api/v1/dossiers/"+d.ID+"/receive", nil), 403, "")
	var queue []struct{ ID string }
	hong.must(200, "GET", "/api/v1/dossiers", nil).json(t, &queue)
	if len(queue) != 1 || queue[0].ID != d.ID {
		t.Fatalf("Sài Gòn queue %+v", queue)
	}
	hong.must(200, "POST", "/api/v1/dossiers/"+d.ID+"/receive", map[string]string{"note": "hồ sơ đầy đủ"})
	expectProblem(t, lan.do("POST", "/api/v1/dossiers/"+d.ID+"/decision", map[string]any{"approve": true}), 403, "")
	hong.must(200, "POST", "/api/v1/dossiers/"+d.ID+"/decision", map[string]any{"approve": true}).json(t, &d)
	if d.State != "returned" {
		t.Fatalf("after approval %+v", d)
	}
	// The record shows the new address; the revision cites the dossier.
	var rec struct {
		TemporaryResidence      struct{ Commune string } `json:"temporary_residence"`
		TemporaryResidenceUntil string                   `json:"temporary_residence_until"`
	}
	hong.must(200, "GET", "/api/v1/citizens/"+pid, nil).json(t, &rec)
	if rec.TemporaryResidence.Commune != "26740" || rec.TemporaryResidenceUntil != "2027-06-30" {
		t.Errorf("record after approval %+v", rec)
	}
	var history []struct {
		Action     string
		ActorName  string `json:"actor_name"`
		DossierRef string `json:"dossier_ref"`
	}
	admin.must(200, "GET", "/api/v1/citizens/"+pid+"/history", nil).json(t, &history)
	found := false
	for _, r := range history {
		found = found || (r.Action == "register_temporary_residence" && r.DossierRef == d.Code && r.ActorName == "hong")
	}
	if !found {
		t.Errorf("no revision by hong citing %s: %+v", d.Code, history)
	}
	// The citizen sees who accessed the record: the unit, never the officer.
	var accessLog []struct{ Who, Kind, Action, Purpose string }
	me.must(200, "GET", "/api/v1/me/access-log", nil).json(t, &accessLog)
	sawUnit := false
	for _, a := range accessLog {
		sawUnit = sawUnit || (a.Kind == "officer" && a.Who == "Công an Phường Sài Gòn" && a.Action == "read")
		if strings.Contains(a.Who, "hong") {
			t.Errorf("the access log names the officer: %+v", a)
		}
	}
	if !sawUnit {
		t.Errorf("who accessed my data: %+v", accessLog)
	}
	// The subscribed ministry is told, by signed webhook.
	deadline := time.Now().Add(15 * time.Second)
	for {
		hookMu.Lock()
		got := strings.Join(hooked, ";")
		hookMu.Unlock()
		if strings.Contains(got, "vn.dancu.residence.changed "+pid) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no residence-change event delivered: %q", got)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The citizen has the result and the notices.
	var result struct{ Text string }
	me.must(200, "GET", "/api/v1/dossiers/"+d.ID+"/result", nil).json(t, &result)
	if !strings.Contains(result.Text, "Temporary residence registered") {
		t.Errorf("result %+v", result)
	}
	notices := messagesTo(t, srv.URL, pid, 4)
	if len(notices) < 4 || !strings.Contains(notices[0].Body, d.Code) {
		t.Errorf("notices %+v", notices)
	}
	// Administrators follow the deliveries, but read no text outside --demo.
	var entries []struct {
		Body, State string
	}
	admin.must(200, "GET", "/api/v1/outbox?recipient="+pid, nil).json(t, &entries)
	if len(entries) < 4 || entries[0].State != "sent" || entries[0].Body != "" {
		t.Errorf("outbox entries %+v", entries)
	}
	// Another citizen's view: not found.
	expectProblem(t, (&client{t: t, base: srv.URL, token: "nope.nope.nope"}).do("GET", "/api/v1/dossiers/"+d.ID, nil), 401, "")

	// A residence confirmation, verified by anyone.
	var conf struct{ ID, State string }
	me.must(201, "POST", "/api/v1/dossiers", map[string]any{"service": "residence.confirmation"}).json(t, &conf)
	var doc struct {
		JWS   string `json:"jws"`
		QRPNG string `json:"qr_png"`
	}
	me.must(200, "GET", "/api/v1/dossiers/"+conf.ID+"/result", nil).json(t, &doc)
	if conf.State != "returned" || strings.Count(doc.JWS, ".") != 2 || doc.QRPNG == "" {
		t.Fatalf("confirmation %+v %+v", conf, doc)
	}
	anon := &client{t: t, base: srv.URL}
	var v struct {
		Valid  bool
		Status string
	}
	anon.must(200, "POST", "/api/v1/documents/verify", map[string]string{"document": doc.JWS}).json(t, &v)
	if !v.Valid || v.Status != "valid" {
		t.Fatalf("verify %+v", v)
	}
	tampered := []byte(doc.JWS)
	tampered[len(tampered)/2] ^= 1
	anon.must(200, "POST", "/api/v1/documents/verify", map[string]string{"document": string(tampered)}).json(t, &v)
	if v.Valid || v.Status != "invalid" {
		t.Errorf("tampered document %+v", v)
	}
	var keys struct{ Keys []map[string]any }
	anon.must(200, "GET", "/.well-known/dancu-document-keys", nil).json(t, &keys)
	if len(keys.Keys) != 1 || keys.Keys[0]["d"] != nil {
		t.Errorf("document keys %+v", keys)
	}
	// The citizen deregisters the temporary residence: superseded.
	var dereg struct{ ID string }
	me.must(201, "POST", "/api/v1/dossiers", map[string]any{"service": "residence.temporary.deregistration", "data": map[string]string{"case": "f"}}).json(t, &dereg)
	hong.must(200, "POST", "/api/v1/dossiers/"+dereg.ID+"/receive", nil)
	hong.must(200, "POST", "/api/v1/dossiers/"+dereg.ID+"/decision", map[string]any{"approve": true})
	anon.must(200, "POST", "/api/v1/documents/verify", map[string]string{"document": doc.JWS}).json(t, &v)
	if v.Valid || v.Status != "superseded" {
		t.Errorf("after the move %+v", v)
	}
}
