package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// agencyToken gets a client-credentials access token.
func agencyToken(t *testing.T, base, id, secret string) *client {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/oauth/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}, "scope": {"openid"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(res.Body).Decode(&tok)
	if tok.AccessToken == "" {
		t.Fatalf("no token for %s: %d", id, res.StatusCode)
	}
	return &client{t: t, base: base, token: tok.AccessToken}
}

func TestVerifyEndToEnd(t *testing.T) {
	for _, engine := range sqldbtest.EngineNames() {
		t.Run(engine, func(t *testing.T) { verifyEndToEnd(t, sqldbtest.URL(t, engine)) })
	}
}

func verifyEndToEnd(t *testing.T, dbURL string) {
	srv := startServer(t, dbURL)
	admin := login(t, srv.URL, "admin", adminPassword)
	newClient := func(id string) string {
		var c struct{ Secret string }
		admin.must(201, "POST", "/api/v1/oidc/clients", map[string]any{"id": id, "name": id, "type": "service"}).json(t, &c)
		return c.Secret
	}
	telcoSecret, slowSecret, strangerSecret := newClient("viettel"), newClient("slowbank"), newClient("stranger")
	admin.must(201, "POST", "/api/v1/agencies", map[string]any{"id": "viettel", "name": "Viettel", "kind": "telecom",
		"services": []string{"verify"}, "purposes": []string{"SIM owner check"}, "rate_per_second": 1000})
	admin.must(201, "POST", "/api/v1/agencies", map[string]any{"id": "slowbank", "name": "Slow Bank", "kind": "bank",
		"services": []string{"verify"}, "purposes": []string{"eKYC"}, "rate_per_second": 2})
	expectProblem(t, admin.do("POST", "/api/v1/agencies", map[string]any{"id": "nobody", "name": "X", "kind": "bank",
		"services": []string{"verify"}, "purposes": []string{"x"}}), 422, "body.id")
	expectProblem(t, admin.do("POST", "/api/v1/agencies", map[string]any{"id": "stranger", "name": "X", "kind": "spy",
		"services": []string{"everything"}, "purposes": []string{}}), 422, "body.kind")
	admin.must(201, "POST", "/api/v1/citizens", map[string]any{"pid": "079190012345", "name": map[string]string{"family": "Lê", "middle": "Thị", "given": "Hồng"},
		"birth_date": "1990-02-03", "sex": "female", "phone": "0912345678", "permanent_residence": map[string]string{"commune": "26740"}})

	telco := agencyToken(t, srv.URL, "viettel", telcoSecret)
	var ans struct {
		Txn       string
		Fields    map[string]string
		Decision  string
		Signature string
	}
	telco.must(200, "POST", "/api/v1/verify", map[string]any{"pid": "079190012345", "purpose": "SIM owner check",
		"claims": map[string]string{"name": "LE THI HONG", "birth_date": "1990-02-03", "phone": "+84912345678"}}).json(t, &ans)
	if ans.Decision != "match" || ans.Fields["name"] != "normalized" || ans.Fields["birth_date"] != "exact" || ans.Fields["phone"] != "exact" || ans.Txn == "" {
		t.Fatalf("answer %+v", ans)
	}
	// The signature verifies with the published keys and covers the answer.
	var keys jose.JSONWebKeySet
	(&client{t: t, base: srv.URL}).must(200, "GET", "/.well-known/dancu-document-keys", nil).json(t, &keys)
	obj, err := jose.ParseSigned(ans.Signature, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	k := keys.Key(obj.Signatures[0].Header.KeyID)
	if len(k) != 1 {
		t.Fatalf("the signing key %s is not published", obj.Signatures[0].Header.KeyID)
	}
	payload, err := obj.Verify(k[0].Key)
	if err != nil {
		t.Fatalf("signature: %v", err)
	}
	var signed struct{ Txn, Decision string }
	json.Unmarshal(payload, &signed)
	if signed.Txn != ans.Txn || signed.Decision != "match" || strings.Contains(string(payload), "Hồng") || strings.Contains(string(payload), "079190012345") {
		t.Errorf("signed payload %s", payload)
	}
	// The purpose must be declared; the answer never carries personal data.
	expectProblem(t, telco.do("POST", "/api/v1/verify", map[string]any{"pid": "079190012345", "purpose": "marketing",
		"claims": map[string]string{"name": "Lê Thị Hồng"}}), 422, "body.purpose")
	// Who is not a member, or not an agency, cannot verify.
	stranger := agencyToken(t, srv.URL, "stranger", strangerSecret)
	expectProblem(t, stranger.do("POST", "/api/v1/verify", map[string]any{"pid": "079190012345", "purpose": "x", "claims": map[string]string{"sex": "female"}}), 401, "")
	expectProblem(t, admin.do("POST", "/api/v1/verify", map[string]any{"pid": "079190012345", "purpose": "x", "claims": map[string]string{"sex": "female"}}), 403, "")
	// Mismatches against one number are throttled (and an unknown number
	// answers like a mismatch).
	var miss struct{ Decision string }
	telco.must(200, "POST", "/api/v1/verify", map[string]any{"pid": "079190099999", "purpose": "SIM owner check",
		"claims": map[string]string{"name": "Lê Thị Hồng"}}).json(t, &miss)
	if miss.Decision != "no_match" {
		t.Errorf("unknown number: %+v", miss)
	}
	for i := 0; i < 5; i++ {
		telco.must(200, "POST", "/api/v1/verify", map[string]any{"pid": "079190012345", "purpose": "SIM owner check",
			"claims": map[string]string{"birth_date": "1991-01-01"}})
	}
	expectProblem(t, telco.do("POST", "/api/v1/verify", map[string]any{"pid": "079190012345", "purpose": "SIM owner check",
		"claims": map[string]string{"birth_date": "1990-02-03"}}), 429, "")
	// A quota of 2 per second.
	slow := agencyToken(t, srv.URL, "slowbank", slowSecret)
	codes := []int{}
	for i := 0; i < 4; i++ {
		codes = append(codes, slow.do("POST", "/api/v1/verify", map[string]any{"pid": "079190012346", "purpose": "eKYC",
			"claims": map[string]string{"sex": "female"}}).Status)
	}
	if codes[0] != 200 || codes[3] != 429 {
		t.Errorf("quota: %v", codes)
	}
	// Every verification is in the access log, as the agency's.
	var evs []struct {
		Action, Purpose string
		Kind            string `json:"actor_kind"`
	}
	admin.must(200, "GET", "/api/v1/access-events?subject=079190012345", nil).json(t, &evs)
	n := 0
	for _, e := range evs {
		if e.Action == "verify" && e.Kind == "agency" && e.Purpose == "SIM owner check" {
			n++
		}
	}
	if n != 6 {
		t.Errorf("%d verification records, want 6: %+v", n, evs)
	}
}
