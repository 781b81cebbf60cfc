package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
	"github.com/dancu-vn/dancu/internal/vnname"
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
		"claims": map[string]string{"name": "Lê Thị Hồng"}}), 403, "")
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
	// A batch: a match, a mismatch and a malformed number, in input order.
	admin.must(201, "POST", "/api/v1/citizens", map[string]any{"pid": "079190012347", "name": map[string]string{"family": "Lê", "middle": "Thị", "given": "Hồng"},
		"birth_date": "1990-02-03", "sex": "female", "permanent_residence": map[string]string{"commune": "26740"}})
	batch := `{"pid":"079190012347","claims":{"name":"Lê Thị Hồng","birth_date":"1990-02-03"}}
{"pid":"079190012347","claims":{"sex":"male"}}
{"pid":"07919","claims":{"sex":"female"}}
`
	do := func(c *client, path, body string) response {
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-ndjson")
		req.Header.Set("Authorization", "Bearer "+c.token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return response{Status: res.StatusCode, Header: res.Header, Body: b}
	}
	expectProblem(t, do(telco, "/api/v1/verify-jobs?purpose=SIM+owner+check", "{not json}\n"), 422, "body")
	expectProblem(t, do(telco, "/api/v1/verify-jobs?purpose=gossip", batch), 403, "")
	r := do(telco, "/api/v1/verify-jobs?purpose=SIM+owner+check", batch)
	var job struct {
		ID, State   string
		Total, Done int
	}
	if r.Status != 202 {
		t.Fatalf("submit batch: %d %s", r.Status, r.Body)
	}
	r.json(t, &job)
	for i := 0; i < 100 && job.State == "running"; i++ {
		time.Sleep(20 * time.Millisecond)
		telco.must(200, "GET", "/api/v1/verify-jobs/"+job.ID, nil).json(t, &job)
	}
	if job.State != "done" || job.Done != 3 {
		t.Fatalf("job %+v", job)
	}
	expectProblem(t, slow.do("GET", "/api/v1/verify-jobs/"+job.ID, nil), 404, "")
	lines := strings.Split(strings.TrimSpace(string(telco.must(200, "GET", "/api/v1/verify-jobs/"+job.ID+"/results", nil).Body)), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], `"match":true`) || !strings.Contains(lines[1], `"match":false`) || !strings.Contains(lines[2], `"error":"pid:`) {
		t.Errorf("batch results %q", lines)
	}
	// Every verification is in the access log, as the agency's: the batch
	// as one group record naming the person once, though the file checked
	// them twice.
	var evs []struct {
		Action, Purpose, Detail string
		Kind                    string `json:"actor_kind"`
	}
	count := func(pid string) (n, batches int) {
		admin.must(200, "GET", "/api/v1/access-events?subject="+pid, nil).json(t, &evs)
		for _, e := range evs {
			if e.Action == "verify" && e.Kind == "agency" && e.Purpose == "SIM owner check" {
				n++
				if strings.Contains(e.Detail, "batch verification job ") {
					batches++
				}
			}
		}
		return n, batches
	}
	if n, b := count("079190012345"); n != 6 || b != 0 {
		t.Errorf("079190012345: %d verification records (%d of a batch), want 6 single: %+v", n, b, evs)
	}
	if n, b := count("079190012347"); n != 1 || b != 1 {
		t.Errorf("079190012347: %d verification records (%d of a batch), want the batch's: %+v", n, b, evs)
	}
	// Repeated mismatches of one number are throttled in a batch as well:
	// with the one above, four more answers, then "throttled".
	var guesses strings.Builder
	for y := 1980; y < 1987; y++ {
		fmt.Fprintf(&guesses, `{"pid":"079190012347","claims":{"birth_date":"%d-02-03"}}`+"\n", y)
	}
	r = do(telco, "/api/v1/verify-jobs?purpose=SIM+owner+check", guesses.String())
	r.json(t, &job)
	for i := 0; i < 100 && job.State == "running"; i++ {
		time.Sleep(20 * time.Millisecond)
		telco.must(200, "GET", "/api/v1/verify-jobs/"+job.ID, nil).json(t, &job)
	}
	results := string(telco.must(200, "GET", "/api/v1/verify-jobs/"+job.ID+"/results", nil).Body)
	if answered, throttled := strings.Count(results, `"match":false,"fields"`), strings.Count(results, `"error":"throttled`); answered != 4 || throttled != 3 {
		t.Errorf("guessing in a batch: %d answered, %d throttled:\n%s", answered, throttled, results)
	}
}

// TestExchangeMatrix: agencies × services × fields; every access outside a
// mandate, a purpose or a consent is 403 problem+json, every allowed one is
// in the access log.
func TestExchangeMatrix(t *testing.T) {
	for _, engine := range sqldbtest.EngineNames() {
		t.Run(engine, func(t *testing.T) { exchangeMatrix(t, sqldbtest.URL(t, engine)) })
	}
}

func exchangeMatrix(t *testing.T, dbURL string) {
	srv := startServer(t, dbURL)
	admin := login(t, srv.URL, "admin", adminPassword)
	admin.must(201, "POST", "/api/v1/oidc/clients", map[string]any{"id": "dvc-app", "name": "Dịch vụ công", "type": "native",
		"redirect_uris": []string{"http://127.0.0.1/cb"}})
	const pid = "001090077777"
	password := citizenWithAccount(t, admin, pid, "Phạm Văn Tâm", "1990-04-05", "male", "0977777777")
	me := citizenLogin(t, srv.URL, "dvc-app", pid, password)

	type agency struct {
		id, kind, purpose string
		services, fields  []string
		consent           bool
		c                 *client
	}
	agencies := []*agency{
		{id: "bhxh", kind: "ministry", purpose: "social insurance", services: []string{"verify", "query"}, fields: []string{"name", "birth_date", "permanent_residence"}},
		{id: "bank", kind: "bank", purpose: "eKYC", services: []string{"query"}, fields: []string{"name", "birth_date", "phone"}, consent: true},
		{id: "telco", kind: "telecom", purpose: "SIM owner check", services: []string{"verify"}},
	}
	for _, a := range agencies {
		var c struct{ Secret string }
		admin.must(201, "POST", "/api/v1/oidc/clients", map[string]any{"id": a.id, "name": a.id, "type": "service"}).json(t, &c)
		admin.must(201, "POST", "/api/v1/agencies", map[string]any{"id": a.id, "name": a.id, "kind": a.kind, "services": a.services,
			"fields": a.fields, "purposes": []string{a.purpose}, "rate_per_second": 1000})
		a.c = agencyToken(t, srv.URL, a.id, c.Secret)
	}
	contains := func(list []string, s string) bool {
		for _, v := range list {
			if v == s {
				return true
			}
		}
		return false
	}
	allowed := 0
	run := func(phase string, consented []string) {
		for _, a := range agencies {
			for _, service := range []string{"verify", "query"} {
				for _, field := range []string{"name", "phone", "permanent_residence", "religion"} {
					for _, purpose := range []string{a.purpose, "curiosity"} {
						var r response
						if service == "verify" {
							r = a.c.do("POST", "/api/v1/verify", map[string]any{"pid": pid, "purpose": purpose, "claims": map[string]string{"name": "Phạm Văn Tâm"}})
						} else {
							r = a.c.do("POST", "/api/v1/query", map[string]any{"pid": pid, "purpose": purpose, "fields": []string{field}})
						}
						ok := contains(a.services, service) && purpose == a.purpose
						if service == "query" {
							ok = ok && contains(a.fields, field) && (!a.consent || contains(consented, field))
						}
						name := phase + " " + a.id + " " + service + " " + field + " for " + purpose
						switch {
						case ok && r.Status != 200:
							t.Errorf("%s: %d, want 200: %s", name, r.Status, r.Body)
						case ok:
							allowed++
						case r.Status != 403 || r.Header.Get("Content-Type") != "application/problem+json":
							t.Errorf("%s: %d %s, want 403 problem+json", name, r.Status, r.Header.Get("Content-Type"))
						}
					}
				}
			}
		}
	}
	run("no consent", nil)
	// The citizen allows the bank to read name and phone for eKYC.
	expectProblem(t, me.do("POST", "/api/v1/me/agency-consents", map[string]any{"agency": "bank", "fields": []string{"religion"}, "purpose": "eKYC", "days": 30}), 422, "body.fields[0]")
	me.must(201, "POST", "/api/v1/me/agency-consents", map[string]any{"agency": "bank", "fields": []string{"name", "phone"}, "purpose": "eKYC", "days": 30})
	run("with consent", []string{"name", "phone"})
	var got struct {
		Fields map[string]any
	}
	bank := agencies[1].c
	bank.must(200, "POST", "/api/v1/query", map[string]any{"pid": pid, "purpose": "eKYC", "fields": []string{"name", "phone"}}).json(t, &got)
	allowed++
	// The record holds a name and no phone: only what is there comes back.
	if len(got.Fields) != 1 || got.Fields["name"] == nil {
		t.Errorf("the bank read %v", got.Fields)
	}
	me.must(204, "DELETE", "/api/v1/me/agency-consents/bank", nil)
	run("consent withdrawn", nil)

	var evs []struct {
		Action string
		Kind   string `json:"actor_kind"`
	}
	admin.must(200, "GET", "/api/v1/access-events?subject="+pid+"&limit=500", nil).json(t, &evs)
	n := 0
	for _, e := range evs {
		if e.Kind == "agency" && (e.Action == "verify" || e.Action == "query") {
			n++
		}
	}
	if n != allowed || allowed == 0 {
		t.Errorf("%d agency accesses in the log, %d allowed calls", n, allowed)
	}
}

// TestEnrichmentEndToEnd: a generated sector file with known linkage and
// planted disagreements gives the expected report.
func TestEnrichmentEndToEnd(t *testing.T) {
	for _, engine := range sqldbtest.EngineNames() {
		t.Run(engine, func(t *testing.T) { enrichmentEndToEnd(t, sqldbtest.URL(t, engine)) })
	}
}

func enrichmentEndToEnd(t *testing.T, dbURL string) {
	people := filepath.Join(t.TempDir(), "people.jsonl")
	if _, _, err := runCLI(t, nil, "generate", "--count", "400", "--seed", "9", "--out", people); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCLI(t, nil, "import", people, "--db", dbURL, "--quiet", "--rejects", filepath.Join(t.TempDir(), "r.jsonl")); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(people)
	type person struct {
		PID       string `json:"pid"`
		BirthDate string `json:"birth_date"`
		Sex       string `json:"sex"`
		Name      struct{ Family, Middle, Given string }
	}
	var all []person
	keys := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var p person
		json.Unmarshal([]byte(l), &p)
		all = append(all, p)
	}
	full := func(p person) string {
		return strings.Join(strings.Fields(p.Name.Family+" "+p.Name.Middle+" "+p.Name.Given), " ")
	}
	for _, p := range all {
		keys[vnname.Fold(full(p))+"|"+p.BirthDate]++
	}
	// 150 by number (10 with a wrong date of birth), 40 by name and date
	// (people unique by both), 10 nobody.
	var file strings.Builder
	line := func(v any) { b, _ := json.Marshal(v); file.Write(b); file.WriteByte('\n') }
	byPID, byDemo := 0, 0
	for i, p := range all {
		switch {
		case byPID < 150:
			dob := p.BirthDate
			if byPID < 10 {
				dob = "1900-01-01"
			}
			line(map[string]any{"external_id": fmt.Sprintf("BH%06d", i), "pid": p.PID, "name": full(p), "birth_date": dob, "dated": "2026-10-01",
				"data": map[string]any{"insured_since": "2015-01-01"}})
			byPID++
		case byDemo < 40 && keys[vnname.Fold(full(p))+"|"+p.BirthDate] == 1:
			line(map[string]any{"external_id": fmt.Sprintf("BH%06d", i), "name": strings.ToUpper(vnname.Fold(full(p))), "birth_date": p.BirthDate, "sex": p.Sex})
			byDemo++
		}
	}
	for i := 0; i < 10; i++ {
		line(map[string]any{"external_id": fmt.Sprintf("XX%03d", i), "name": "Zzz Không Có", "birth_date": "1955-05-05"})
	}
	srv := startServer(t, dbURL)
	admin := login(t, srv.URL, "admin", adminPassword)
	var c struct{ Secret string }
	admin.must(201, "POST", "/api/v1/oidc/clients", map[string]any{"id": "bhxh", "name": "BHXH", "type": "service"}).json(t, &c)
	admin.must(201, "POST", "/api/v1/agencies", map[string]any{"id": "bhxh", "name": "Bảo hiểm xã hội", "kind": "ministry",
		"services": []string{"enrich"}, "purposes": []string{"data quality"}})
	bhxh := agencyToken(t, srv.URL, "bhxh", c.Secret)
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/enrichment?kind=social_insurance", strings.NewReader(file.String()))
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Authorization", "Bearer "+bhxh.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Records       int
		ByPID         int            `json:"linked_by_pid"`
		ByDemographic int            `json:"linked_by_demographics"`
		Unmatched     int            `json:"unmatched"`
		MatchRate     float64        `json:"match_rate"`
		Disagreements map[string]int `json:"disagreements"`
	}
	json.NewDecoder(res.Body).Decode(&rep)
	res.Body.Close()
	if res.StatusCode != 200 || rep.Records != 200 || rep.ByPID != 150 || rep.ByDemographic != 40 || rep.Unmatched != 10 ||
		rep.MatchRate != 0.95 || rep.Disagreements["birth_date"] != 10 || len(rep.Disagreements) != 1 {
		t.Fatalf("report %d %+v", res.StatusCode, rep)
	}
	var dis []struct {
		PID    string
		Fields []string
	}
	admin.must(200, "GET", "/api/v1/data-quality/disagreements", nil).json(t, &dis)
	if len(dis) != 10 || dis[0].Fields[0] != "birth_date" {
		t.Errorf("disagreements %+v", dis)
	}
}
