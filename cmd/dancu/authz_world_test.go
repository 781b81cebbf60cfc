package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/dancu-vn/dancu/internal/sqldb"
)

// The actors of the authorization matrix. Each is a real party of a
// running server: officers logged in with a password, citizens through the
// OpenID provider, agencies with client credentials.
type who string

const (
	anon          who = "anonymous"
	subject       who = "citizen-subject"        // the citizen the data is about
	otherCitizen  who = "citizen-other"          // another citizen
	viewer        who = "viewer"                 // a viewer of the subject's commune
	regIn         who = "registrar-in"           // a registrar whose jurisdiction (the province) covers the subject
	regOut        who = "registrar-out"          // a registrar of a commune elsewhere
	admin         who = "admin"                  // the national administrator
	agencyWith    who = "agency"                 // a ministry with every service, its purpose and fields
	agencyPurpose who = "agency-other-purpose"   // the same ministry, asking for a purpose it did not declare
	agencyField   who = "agency-other-field"     // the same ministry, asking for a field outside its mandate
	agencyNone    who = "agency-without-service" // a member agency whose only service is enrichment
	bank          who = "bank-without-consent"   // a bank with the query and events services, without the citizen's consent
)

var everyone = []who{anon, subject, otherCitizen, viewer, regIn, regOut, admin, agencyWith, agencyPurpose, agencyField, agencyNone, bank}

const (
	communeA        = "00004" // Phường Ba Đình, Hà Nội: the subject lives here
	communeT        = "00008" // Phường Ngọc Hà, Hà Nội: where dossiers of temporary residence go
	communeB        = "26740" // a commune of Hồ Chí Minh City
	ministryPurpose = "social insurance"
)

// world is a running server with its parties and the fixtures the
// operations act on.
type world struct {
	t       *testing.T
	srv     *runningServer
	db      *sqldb.DB
	clients map[who]*client
	ids     map[who]string // the actor ID the access log names
	seq     int

	subjectPID, otherPID string
	subjectPassword      string
	household            string // the subject heads it
	counterApp           string // the subject's level-2 application
	org                  string // an organisation the subject represents
	dossier              string // a dossier of the subject at communeT, submitted
	joining              string // the other citizen's dossier to join the subject's household
	result               string // a decided dossier of the subject with a result
	document             string // the result's signed document
	card                 string // the subject's produced card
	chip                 map[string]any
	job                  string // a finished verification job of the ministry naming the subject
	subscription         string // the ministry's subscription
	token                string // an API token of the viewer
}

func (w *world) c(a who) *client { return w.clients[a] }

// use makes t the test every party reports to (a subtest's, while it runs).
func (w *world) use(t *testing.T) {
	w.t = t
	for _, c := range w.clients {
		c.t = t
	}
}

// nextPID is a fresh personal ID number of a man born in 1990 in Hà Nội
// (or Hồ Chí Minh City).
func (w *world) nextPID(province string) string {
	w.seq++
	return fmt.Sprintf("%s090%06d", province, 500000+w.seq)
}

// person registers a fresh person living in commune and returns the number.
func (w *world) person(commune string) string {
	w.t.Helper()
	province := "001"
	if commune == communeB {
		province = "079"
	}
	pid := w.nextPID(province)
	w.c(admin).must(201, "POST", "/api/v1/citizens", map[string]any{"pid": pid, "name": map[string]string{"family": "Lê", "middle": "Văn", "given": "Mạnh"},
		"birth_date": "1990-01-15", "sex": "male", "permanent_residence": map[string]string{"commune": commune, "detail": "Số 1 Phố Đội Cấn"}})
	return pid
}

var face = map[string]any{"kind": "face", "format": "image/jpeg", "data": base64.StdEncoding.EncodeToString([]byte("\xff\xd8\xff\xe0 a portrait"))}

// account gives a fresh person of communeA an active level-1 e-ID account
// and returns the number, the password and the application.
func (w *world) account() (pid, password, app string) {
	w.t.Helper()
	pid = w.person(communeA)
	phone := fmt.Sprintf("09%08d", w.seq)
	anonC := w.c(anon)
	var a struct{ ID string }
	anonC.must(201, "POST", "/api/v1/eid/applications", map[string]any{"pid": pid, "name": "Lê Văn Mạnh", "birth_date": "1990-01-15", "sex": "male",
		"phone": phone, "email": "manh@example.vn", "face": face}).json(w.t, &a)
	w.c(admin).must(200, "POST", "/api/v1/eid/applications/"+a.ID+"/decision", map[string]any{"approve": true})
	anonC.must(202, "POST", "/api/v1/eid/activation/code", map[string]string{"pid": pid, "phone": phone})
	code := activationCode(w.t, w.srv.URL, phone)
	password = "Mk-" + pid[6:] + "a!"
	anonC.must(200, "POST", "/api/v1/eid/activation", map[string]string{"pid": pid, "code": code, "password": password, "passcode": "240719"})
	return pid, password, a.ID
}

// holder is a fresh citizen with an account, logged in.
func (w *world) holder() (*client, string) {
	w.t.Helper()
	pid, password, _ := w.account()
	return citizenLogin(w.t, w.srv.URL, "dvc-app", pid, password), pid
}

// level2 raises pid's account to level 2 at the counter.
func (w *world) level2(pid string) string {
	w.t.Helper()
	fp := map[string]any{"kind": "fingerprint", "position": 2, "format": "ISO/IEC 19794-2:2005", "data": base64.StdEncoding.EncodeToString([]byte("minutiae"))}
	var app struct{ ID string }
	w.c(admin).must(201, "POST", "/api/v1/eid/counter-applications", map[string]any{"pid": pid, "phone": "0911111111", "card_status": "valid",
		"biometrics": []any{face, fp}}).json(w.t, &app)
	return app.ID
}

// twoPersonHousehold is a new household of Ba Đình headed by a fresh
// person, with a second fresh person as its only other member.
func (w *world) twoPersonHousehold() (household, member string) {
	w.t.Helper()
	head, member := w.person(communeA), w.person(communeA)
	var rec struct {
		Household struct {
			ID string `json:"household_id"`
		} `json:"household"`
	}
	w.c(admin).must(200, "POST", "/api/v1/citizens/"+head+"/household", map[string]any{
		"new_household_address": map[string]string{"commune": communeA, "detail": "Số 3 Phố Đội Cấn"}, "reason": "separate household", "legal_basis": "Luật Cư trú 2020"}).json(w.t, &rec)
	w.c(admin).must(200, "POST", "/api/v1/citizens/"+member+"/household", map[string]any{
		"household_id": rec.Household.ID, "relationship": "child", "reason": "joins", "legal_basis": "Luật Cư trú 2020"})
	return rec.Household.ID, member
}

var cardIntake = func(pid string) map[string]any {
	return map[string]any{"pid": pid, "kind": "first", "photo": base64.StdEncoding.EncodeToString(portrait(2000)),
		"fingerprints": []map[string]string{
			{"finger": "right_index", "template": base64.StdEncoding.EncodeToString([]byte("FMR\x00 right"))},
			{"finger": "left_index", "template": base64.StdEncoding.EncodeToString([]byte("FMR\x00 left"))}}}
}

// cardApplication is a submitted card application of a fresh person.
func (w *world) cardApplication() (pid, app string) {
	w.t.Helper()
	pid = w.person(communeA)
	var a struct{ ID string }
	w.c(admin).must(201, "POST", "/api/v1/cards/applications", cardIntake(pid)).json(w.t, &a)
	return pid, a.ID
}

func (w *world) approvedCardApplication() (pid, app string) {
	pid, app = w.cardApplication()
	w.c(admin).must(200, "POST", "/api/v1/cards/applications/"+app+"/decision", map[string]any{"approve": true})
	return pid, app
}

// producedCard is the active card of a fresh person (or of pid).
func (w *world) producedCard(pid string) (string, string) {
	w.t.Helper()
	var app struct{ ID string }
	if pid == "" {
		pid, app.ID = w.approvedCardApplication()
	} else {
		w.c(admin).must(201, "POST", "/api/v1/cards/applications", cardIntake(pid)).json(w.t, &app)
		w.c(admin).must(200, "POST", "/api/v1/cards/applications/"+app.ID+"/decision", map[string]any{"approve": true})
	}
	var c struct{ ID string }
	w.c(admin).must(201, "POST", "/api/v1/cards/applications/"+app.ID+"/produce", nil).json(w.t, &c)
	return pid, c.ID
}

var temporaryResidence = map[string]any{"address": map[string]string{"commune": communeT, "detail": "số 45 Phố Đội Cấn"}, "until": "2027-06-30",
	"lawful_residence": "Hợp đồng thuê nhà số 7/2026"}

// dossierOf submits a temporary-residence dossier as citizen c, and moves
// it on to state: submitted, received or info_requested.
func (w *world) dossierOf(c *client, state string) string {
	w.t.Helper()
	var d struct{ ID string }
	c.must(201, "POST", "/api/v1/dossiers", map[string]any{"service": "residence.temporary", "data": temporaryResidence}).json(w.t, &d)
	switch state {
	case "received":
		w.c(admin).must(200, "POST", "/api/v1/dossiers/"+d.ID+"/receive", map[string]any{})
	case "info_requested":
		w.c(admin).must(200, "POST", "/api/v1/dossiers/"+d.ID+"/receive", map[string]any{})
		w.c(admin).must(200, "POST", "/api/v1/dossiers/"+d.ID+"/request-info", map[string]any{"note": "the rental contract's second page"})
	}
	return d.ID
}

// officer creates an officer and returns a logged-in client and its ID.
func (w *world) officer(username, role, level, code string) (*client, string) {
	w.t.Helper()
	j := map[string]string{"level": level}
	if code != "" {
		j["code"] = code
	}
	pw := "Pw-" + username + "-2026!"
	w.c(admin).must(201, "POST", "/api/v1/officers", map[string]any{"username": username, "display_name": username, "role": role, "password": pw, "jurisdiction": j})
	c := login(w.t, w.srv.URL, username, pw)
	var me struct{ ID string }
	c.must(200, "GET", "/api/v1/me", nil).json(w.t, &me)
	return c, me.ID
}

// agency registers a member agency on a service client and returns a
// client holding its token.
func (w *world) agency(id, kind string, services, fields, purposes []string) *client {
	w.t.Helper()
	var c struct{ Secret string }
	w.c(admin).must(201, "POST", "/api/v1/oidc/clients", map[string]any{"id": id, "name": id, "type": "service"}).json(w.t, &c)
	w.c(admin).must(201, "POST", "/api/v1/agencies", map[string]any{"id": id, "name": id, "kind": kind, "services": services,
		"fields": fields, "purposes": purposes, "rate_per_second": 1000})
	return agencyToken(w.t, w.srv.URL, id, c.Secret)
}

// newWorld starts a server on dbURL and sets up every party and fixture.
func newWorld(t *testing.T, dbURL string) *world {
	t.Helper()
	env := map[string]string{"DANCU_DATA_KEY": testDataKey}
	if _, _, err := runCLI(t, env, "pki", "init", "--db", dbURL); err != nil {
		t.Fatalf("pki init: %v", err)
	}
	w := &world{t: t, srv: startServer(t, dbURL), clients: map[who]*client{}, ids: map[who]string{}}
	db, err := sqldb.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w.db = db
	w.clients[anon] = &client{t: t, base: w.srv.URL}
	w.clients[admin] = login(t, w.srv.URL, "admin", adminPassword)
	var me struct{ ID string }
	w.c(admin).must(200, "GET", "/api/v1/me", nil).json(t, &me)
	w.ids[admin] = me.ID
	w.clients[viewer], w.ids[viewer] = w.officer("viewer-a", "viewer", "commune", communeA)
	w.clients[regIn], w.ids[regIn] = w.officer("registrar-hn", "registrar", "province", "01")
	w.clients[regOut], w.ids[regOut] = w.officer("registrar-b", "registrar", "commune", communeB)
	w.c(admin).must(201, "POST", "/api/v1/oidc/clients", map[string]any{"id": "dvc-app", "name": "Dịch vụ công", "type": "native",
		"redirect_uris": []string{"http://127.0.0.1/cb"}})

	// The subject: an account at level 2, heading a household, with a
	// card, a dossier, a result and an organisation.
	var app string
	w.subjectPID, w.subjectPassword, app = w.account()
	_ = app
	w.clients[subject] = citizenLogin(t, w.srv.URL, "dvc-app", w.subjectPID, w.subjectPassword)
	w.ids[subject] = w.subjectPID
	w.counterApp = w.level2(w.subjectPID)
	w.c(admin).must(200, "POST", "/api/v1/eid/applications/"+w.counterApp+"/decision", map[string]any{"approve": true})
	var rec struct {
		Household struct {
			ID string `json:"household_id"`
		} `json:"household"`
	}
	w.c(admin).must(200, "POST", "/api/v1/citizens/"+w.subjectPID+"/household", map[string]any{
		"new_household_address": map[string]string{"commune": communeA, "detail": "Số 1 Phố Đội Cấn"}, "reason": "separate household", "legal_basis": "Luật Cư trú 2020"}).json(t, &rec)
	w.household = rec.Household.ID
	if w.household == "" {
		t.Fatal("the subject heads no household")
	}
	var o struct{ ID string }
	w.c(subject).must(201, "POST", "/api/v1/me/organisations", w.orgForm()).json(t, &o)
	w.org = o.ID
	w.dossier = w.dossierOf(w.c(subject), "submitted")
	var conf struct{ ID string }
	w.c(subject).must(201, "POST", "/api/v1/dossiers", map[string]any{"service": "residence.confirmation"}).json(t, &conf)
	w.result = conf.ID
	var doc struct {
		JWS string `json:"jws"`
	}
	w.c(subject).must(200, "GET", "/api/v1/dossiers/"+w.result+"/result", nil).json(t, &doc)
	w.document = doc.JWS
	_, w.card = w.producedCard(w.subjectPID)
	w.c(admin).must(200, "GET", "/api/v1/cards/"+w.card+"/chip", nil).json(t, &w.chip)

	var otherPassword string
	w.otherPID, otherPassword, _ = w.account()
	w.clients[otherCitizen] = citizenLogin(t, w.srv.URL, "dvc-app", w.otherPID, otherPassword)
	w.ids[otherCitizen] = w.otherPID

	// The agencies.
	ministry := w.agency("bhxh", "ministry", []string{"verify", "query", "events", "enrich"}, []string{"name", "birth_date", "permanent_residence"}, []string{ministryPurpose})
	w.clients[agencyWith], w.clients[agencyPurpose], w.clients[agencyField] = ministry, ministry, ministry
	w.ids[agencyWith], w.ids[agencyPurpose], w.ids[agencyField] = "bhxh", "bhxh", "bhxh"
	w.clients[agencyNone] = w.agency("sxd", "locality", []string{"enrich"}, nil, []string{"housing statistics"})
	w.ids[agencyNone] = "sxd"
	w.clients[bank] = w.agency("bank", "bank", []string{"query", "events"}, []string{"name", "phone"}, []string{"eKYC"})
	w.ids[bank] = "bank"
	w.job = w.verifyJob()
	var sub struct {
		Subscription struct{ ID string } `json:"subscription"`
	}
	ministry.must(201, "POST", "/api/v1/subscriptions", map[string]any{"url": "https://webhook.example/dancu", "types": []string{"vn.dancu.citizen.status"}}).json(t, &sub)
	w.subscription = sub.Subscription.ID
	var tok struct {
		Info struct{ ID string } `json:"info"`
	}
	w.c(viewer).must(201, "POST", "/api/v1/tokens", map[string]any{"name": "matrix", "ttl_seconds": 3600}).json(t, &tok)
	w.token = tok.Info.ID
	return w
}

func (w *world) orgForm() map[string]string {
	w.seq++
	return map[string]string{"name": "Công ty TNHH Bình An", "registration_number": fmt.Sprintf("01%08d", w.seq), "founded": "2015-03-01",
		"commune": communeA, "address": "Phố Phan Đình Phùng 12", "passcode": "240719"}
}

// verifyJob runs a verification job of the ministry naming the subject to
// its end.
func (w *world) verifyJob() string {
	w.t.Helper()
	line := fmt.Sprintf(`{"pid":%q,"claims":{"name":"Lê Văn Mạnh"}}`+"\n", w.subjectPID)
	var j struct{ ID, State string }
	w.c(agencyWith).must(202, "POST", "/api/v1/verify-jobs?purpose="+url.QueryEscape(ministryPurpose), line, "Content-Type", "application/x-ndjson").json(w.t, &j)
	for i := 0; i < 200; i++ {
		w.c(agencyWith).must(200, "GET", "/api/v1/verify-jobs/"+j.ID, nil).json(w.t, &j)
		if j.State == "done" {
			return j.ID
		}
		time.Sleep(25 * time.Millisecond)
	}
	w.t.Fatalf("job %s is %s", j.ID, j.State)
	return ""
}

// totpCode is the current code of an authenticator app set up for c.
func totpStart(t *testing.T, c *client) string {
	t.Helper()
	var e struct {
		Secret string `json:"secret"`
	}
	c.must(200, "POST", "/api/v1/me/totp", nil).json(t, &e)
	if e.Secret == "" {
		t.Fatal("no TOTP secret")
	}
	return e.Secret
}

func totpNow(t *testing.T, secret string) string {
	t.Helper()
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// accessRecords counts the access records naming actor and subject made
// since the event ID after (UUIDv7 IDs sort by time), directly or as one of
// a group record's subjects, with a purpose.
func (w *world) accessRecords(actorID, subjectPID, after string) (n int, withPurpose int) {
	w.t.Helper()
	q := `SELECT COUNT(*), COUNT(CASE WHEN e.purpose <> '' THEN 1 END) FROM access_event e
		WHERE e.actor_id = $1 AND e.id > $3 AND (e.subject_pid = $2 OR EXISTS (SELECT 1 FROM access_subject s WHERE s.event_id = e.id AND s.subject_pid = $2))`
	if err := w.db.QueryRow(q, actorID, subjectPID, after).Scan(&n, &withPurpose); err != nil {
		w.t.Fatal(err)
	}
	return n, withPurpose
}

// lastEvent is the newest access record's ID.
func (w *world) lastEvent() string {
	var id string
	w.db.QueryRow(`SELECT COALESCE(MAX(id), '') FROM access_event`).Scan(&id)
	return id
}

// statusText names a status for messages.
func statusText(s int) string { return fmt.Sprintf("%d %s", s, http.StatusText(s)) }

var _ = strings.Contains
