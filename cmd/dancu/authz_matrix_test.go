package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// call is one request of the matrix: the path parameters, query and body
// an operation is called with, and what its access record must name.
type call struct {
	path    map[string]string
	query   string
	body    any
	header  []string
	token   string // a fresh party's token, instead of the actor's own
	actorID string // the actor the access log names, when token is set
	subject string // whose personal data the answer reveals; "" for none
}

// row is what the matrix expects of one operation of the route table.
type row struct {
	allow []who // everybody else is refused: 401 when anonymous, else 403 or 404
	// want is the status of an allowed call, when it is not 2xx (an
	// allowed caller with a request the operation refuses on its merits).
	want int
	// reveals: an allowed call returns personal data of call.subject, so
	// it leaves an access record naming the actor, a purpose and the subject.
	reveals bool
	// recordedBefore: the access record is written before the call, when
	// the data was prepared (a batch job's group record).
	recordedBefore bool
	// wantFor overrides want for some allowed actors.
	wantFor map[who]int
	build   func(w *world, a who) call
}

var (
	officerRoles = []who{viewer, regIn, regOut, admin}
	registrars   = []who{regIn, admin} // registrars whose jurisdiction covers the subject
	handlers     = []who{regIn, regOut, admin}
	bothCitizens = []who{subject, otherCitizen}
	ministryAll  = []who{agencyWith, agencyPurpose, agencyField}
	authed       = []who{subject, otherCitizen, viewer, regIn, regOut, admin, agencyWith, agencyPurpose, agencyField, agencyNone, bank}
)

func plain(c call) func(*world, who) call { return func(*world, who) call { return c } }

func pid(p string) map[string]string { return map[string]string{"pid": p} }
func id(p string) map[string]string  { return map[string]string{"id": p} }

var basis = map[string]any{"reason": "matrix test", "legal_basis": "Luật Căn cước 2023"}

func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// fresh gives an allowed caller its own fixture (the call changes it) and a
// refused one the shared fixture of the subject.
func fresh(allowed []who, a who) bool { return slices.Contains(allowed, a) }

// matrix is the expected authorization of every operation of the API, by
// operation ID. TestAuthorizationMatrix fails for an operation of the route
// table without a row, and for a row without an operation.
func matrix() map[string]row {
	m := map[string]row{}
	citizenOwn := func(prepare func(w *world, c *client) any) func(*world, who) call {
		return func(w *world, a who) call {
			if !fresh(bothCitizens, a) {
				return call{body: map[string]any{"code": "123456", "passcode": "240719"}}
			}
			c, p := w.holder()
			var body any
			if prepare != nil {
				body = prepare(w, c)
			}
			return call{token: c.token, actorID: p, body: body}
		}
	}
	// Sessions and tokens.
	m["login"] = row{allow: everyone, build: plain(call{body: map[string]string{"username": "viewer-a", "password": "Pw-viewer-a-2026!"}})}
	m["logout"] = row{allow: officerRoles, build: func(w *world, a who) call {
		if !slices.Contains(officerRoles, a) {
			return call{}
		}
		// A fresh session of the same officer, so the actor's own stays.
		name := map[who]string{viewer: "viewer-a", regIn: "registrar-hn", regOut: "registrar-b", admin: "admin"}[a]
		pw := "Pw-" + name + "-2026!"
		if a == admin {
			pw = adminPassword
		}
		return call{token: login(w.t, w.srv.URL, name, pw).token, actorID: w.ids[a]}
	}}
	m["me"] = row{allow: officerRoles, build: plain(call{})}
	m["list-tokens"] = row{allow: officerRoles, build: plain(call{})}
	m["create-token"] = row{allow: officerRoles, build: plain(call{body: map[string]any{"name": "matrix", "ttl_seconds": 600}})}
	m["revoke-token"] = row{allow: []who{viewer, admin}, build: func(w *world, a who) call {
		if a == viewer || a == admin {
			var tok struct {
				Info struct{ ID string } `json:"info"`
			}
			w.c(viewer).must(201, "POST", "/api/v1/tokens", map[string]any{"name": "to revoke", "ttl_seconds": 600}).json(w.t, &tok)
			return call{path: id(tok.Info.ID)}
		}
		return call{path: id(w.token)} // the viewer's: nobody else's to revoke
	}}
	// Officers.
	adminOnly := []who{admin}
	m["list-officers"] = row{allow: adminOnly, build: plain(call{})}
	m["create-officer"] = row{allow: adminOnly, build: func(w *world, a who) call {
		w.seq++
		return call{body: map[string]any{"username": fmt.Sprintf("new-%d", w.seq), "display_name": "Mới", "role": "viewer", "password": "Pw-new-officer-2026!",
			"jurisdiction": map[string]string{"level": "commune", "code": communeA}}}
	}}
	m["set-officer-disabled"] = row{allow: adminOnly, build: func(w *world, a who) call {
		return call{path: map[string]string{"username": "viewer-a"}, body: map[string]any{"disabled": false}}
	}}
	m["reset-officer-second-factor"] = row{allow: adminOnly, build: func(w *world, a who) call {
		if a != admin {
			return call{path: map[string]string{"username": "viewer-a"}}
		}
		w.seq++
		name := fmt.Sprintf("tf-%d", w.seq)
		w.c(admin).must(201, "POST", "/api/v1/officers", map[string]any{"username": name, "display_name": name, "role": "registrar", "password": "Pw-first-2026!",
			"jurisdiction": map[string]string{"level": "commune", "code": communeA}})
		return call{path: map[string]string{"username": name}}
	}}
	m["set-officer-password"] = row{allow: adminOnly, build: func(w *world, a who) call {
		if a != admin {
			return call{path: map[string]string{"username": "viewer-a"}, body: map[string]any{"password": "Pw-taken-over-2026!"}}
		}
		w.seq++
		name := fmt.Sprintf("pw-%d", w.seq)
		w.c(admin).must(201, "POST", "/api/v1/officers", map[string]any{"username": name, "display_name": name, "role": "viewer", "password": "Pw-first-2026!",
			"jurisdiction": map[string]string{"level": "commune", "code": communeA}})
		return call{path: map[string]string{"username": name}, body: map[string]any{"password": "Pw-second-2026!"}}
	}}
	m["update-officer"] = row{allow: adminOnly, build: func(w *world, a who) call {
		if a != admin {
			return call{path: map[string]string{"username": "viewer-a"}, body: map[string]any{"role": "admin"}}
		}
		w.seq++
		name := fmt.Sprintf("upd-%d", w.seq)
		w.c(admin).must(201, "POST", "/api/v1/officers", map[string]any{"username": name, "display_name": name, "role": "viewer", "password": "Pw-first-2026!",
			"jurisdiction": map[string]string{"level": "commune", "code": communeA}})
		return call{path: map[string]string{"username": name}, body: map[string]any{"role": "registrar"}}
	}}
	m["change-my-password"] = row{allow: officerRoles, build: func(w *world, a who) call {
		body := map[string]any{"current_password": "Pw-first-2026!", "password": "Pw-second-2026!"}
		if !slices.Contains(officerRoles, a) {
			return call{body: body}
		}
		// A fresh officer's own session: the matrix's officers keep their passwords.
		w.seq++
		name := fmt.Sprintf("own-%d", w.seq)
		var o struct{ ID string }
		w.c(admin).must(201, "POST", "/api/v1/officers", map[string]any{"username": name, "display_name": name, "role": "viewer", "password": "Pw-first-2026!",
			"jurisdiction": map[string]string{"level": "commune", "code": communeA}}).json(w.t, &o)
		return call{token: login(w.t, w.srv.URL, name, "Pw-first-2026!").token, actorID: o.ID, body: body}
	}}
	// Citizens.
	m["register-birth"] = row{allow: registrars, reveals: true, build: func(w *world, a who) call {
		w.seq++
		return call{header: []string{"Idempotency-Key", fmt.Sprintf("birth-%d", w.seq)}, body: map[string]any{
			"name": map[string]string{"family": "Lê", "middle": "Minh", "given": "Khôi"}, "birth_date": "2025-09-01", "sex": "male",
			"birth_registration_place": map[string]string{"commune": communeA}, "father": map[string]string{"pid": w.subjectPID},
			"permanent_residence": map[string]string{"commune": communeA}, "reason": "birth registration", "legal_basis": "Luật Hộ tịch 2014"},
			subject: w.subjectPID}
	}}
	m["register-citizen"] = row{allow: registrars, build: func(w *world, a who) call {
		return call{body: map[string]any{"pid": w.nextPID("001"), "name": map[string]string{"family": "Lê", "given": "Nam"}, "birth_date": "1990-01-15", "sex": "male",
			"permanent_residence": map[string]string{"commune": communeA}}}
	}}
	m["search-citizens"] = row{allow: officerRoles, reveals: true, build: func(w *world, a who) call {
		return call{query: "name=" + url.QueryEscape("Lê Văn Mạnh") + "&birth_date=1990-01-15&purpose=matrix&limit=200", subject: w.subjectPID}
	}}
	m["get-citizen"] = row{allow: officerRoles, reveals: true, build: func(w *world, a who) call {
		return call{path: pid(w.subjectPID), query: "purpose=matrix", subject: w.subjectPID}
	}}
	m["update-citizen"] = row{allow: registrars, build: func(w *world, a who) call {
		p := w.subjectPID
		if fresh(registrars, a) {
			p = w.person(communeA)
		}
		return call{path: pid(p), header: []string{"If-Match", `"1"`}, body: with(basis, "changes", map[string]any{"phone": "0912345678"})}
	}}
	m["citizen-history"] = row{allow: officerRoles, reveals: true, build: func(w *world, a who) call {
		return call{path: pid(w.subjectPID), subject: w.subjectPID}
	}}
	status := func(missingFirst bool) func(*world, who) call {
		return func(w *world, a who) call {
			p := w.subjectPID
			if fresh(registrars, a) {
				p = w.person(communeA)
				if missingFirst {
					w.c(admin).must(200, "POST", "/api/v1/citizens/"+p+"/disappearance", with(basis, "date", "2026-01-02"))
				}
			}
			return call{path: pid(p), body: with(basis, "date", "2026-01-03")}
		}
	}
	m["record-death"] = row{allow: registrars, build: status(false)}
	m["record-disappearance"] = row{allow: registrars, build: status(false)}
	m["record-found"] = row{allow: registrars, build: status(true)}
	m["move-household"] = row{allow: registrars, build: func(w *world, a who) call {
		p := w.otherPID
		if fresh(registrars, a) {
			p = w.person(communeA)
		}
		return call{path: pid(p), body: with(basis, "household_id", w.household, "relationship", "other")}
	}}
	m["change-household-head"] = row{allow: registrars, reveals: true, build: func(w *world, a who) call {
		hh, member := w.household, w.otherPID
		if fresh(registrars, a) {
			hh, member = w.twoPersonHousehold()
		}
		return call{path: id(hh), subject: member, body: with(basis, "new_head_pid", member, "former_head_relationship", "other")}
	}}
	m["get-household"] = row{allow: officerRoles, reveals: true, build: func(w *world, a who) call {
		return call{path: id(w.household), subject: w.subjectPID}
	}}
	m["decode-personal-id"] = row{allow: officerRoles, build: func(w *world, a who) call { return call{path: pid(w.subjectPID)} }}
	// Reference data.
	m["search-units"] = row{allow: everyone, build: plain(call{query: "q=" + url.QueryEscape("Ba Đình")})}
	m["get-unit"] = row{allow: everyone, build: plain(call{path: map[string]string{"scheme": "2025", "code": communeA}})}
	m["code-lists"] = row{allow: everyone, build: plain(call{})}
	// The access log.
	m["access-events"] = row{allow: adminOnly, reveals: true, build: func(w *world, a who) call {
		return call{query: "subject=" + w.subjectPID, subject: w.subjectPID}
	}}
	// A citizen's own log: reading it is not itself logged, or every look
	// would add to what is looked at.
	m["my-access-log"] = row{allow: bothCitizens, build: plain(call{})}

	// Chip ID cards.
	m["card-apply"] = row{allow: registrars, build: func(w *world, a who) call {
		p := w.subjectPID
		if fresh(registrars, a) {
			p = w.person(communeA)
		}
		return call{body: cardIntake(p)}
	}}
	m["card-decide"] = row{allow: registrars, build: func(w *world, a who) call {
		_, app := w.cardApplication()
		return call{path: id(app), body: map[string]any{"approve": true}}
	}}
	m["card-produce"] = row{allow: registrars, build: func(w *world, a who) call {
		_, app := w.approvedCardApplication()
		return call{path: id(app)}
	}}
	m["card-batch"] = row{allow: registrars, build: plain(call{body: map[string]any{"commune": communeA, "limit": 1}})}
	m["card-deliver"] = row{allow: registrars, build: func(w *world, a who) call {
		_, c := w.producedCard("")
		return call{path: id(c)}
	}}
	m["card-counts"] = row{allow: officerRoles, build: plain(call{})}
	m["card-lost"] = row{allow: registrars, build: func(w *world, a who) call {
		p := w.subjectPID
		if fresh(registrars, a) {
			p, _ = w.producedCard("")
		}
		return call{path: pid(p)}
	}}
	m["card-chip"] = row{allow: registrars, reveals: true, build: func(w *world, a who) call {
		return call{path: id(w.card), subject: w.subjectPID}
	}}
	m["card-verify"] = row{allow: authed, build: func(w *world, a who) call {
		return call{body: map[string]any{"sod": w.chip["sod"], "data_groups": w.chip["data_groups"]}}
	}}

	// Online public services.
	m["list-services"] = row{allow: everyone, build: plain(call{})}
	m["prefill"] = row{allow: bothCitizens, reveals: true, build: func(w *world, a who) call { return call{subject: w.ids[a]} }}
	m["submit-dossier"] = row{allow: bothCitizens, build: citizenOwn(func(*world, *client) any {
		return map[string]any{"service": "residence.temporary", "data": temporaryResidence}
	})}
	m["my-dossiers"] = row{allow: bothCitizens, build: plain(call{})}
	m["dossier-queue"] = row{allow: handlers, build: plain(call{})}
	// At a counter, for the subject present: a passcode the subject did not
	// type is refused at its field and nothing is filed (the whole of it
	// is TestAssistedDossier's).
	m["submit-assisted"] = row{allow: handlers, want: 422, build: func(w *world, a who) call {
		p, _, _ := w.account() // its own: wrong passcodes of one account are throttled
		return call{body: map[string]any{"pid": p, "passcode": "135792", "service": "residence.confirmation"}}
	}}
	m["dossier-stats"] = row{allow: handlers, build: plain(call{query: "month=2026-12"})}
	m["get-dossier"] = row{allow: []who{subject, regIn, admin}, reveals: true, build: func(w *world, a who) call {
		return call{path: id(w.dossier), subject: w.subjectPID}
	}}
	note := func(state string) func(*world, who) call {
		return func(w *world, a who) call {
			d := w.dossier
			if fresh(registrars, a) {
				c, _ := w.holder()
				d = w.dossierOf(c, state)
			}
			return call{path: id(d), body: map[string]any{"note": "the rental contract's second page"}}
		}
	}
	m["receive-dossier"] = row{allow: registrars, build: note("submitted")}
	m["request-info"] = row{allow: registrars, build: note("received")}
	m["supplement-dossier"] = row{allow: []who{subject}, build: func(w *world, a who) call {
		c, p := w.holder()
		d := w.dossierOf(c, "info_requested")
		if a == subject {
			return call{path: id(d), body: map[string]any{"data": temporaryResidence}, token: c.token, actorID: p}
		}
		return call{path: id(d), body: map[string]any{"data": temporaryResidence}}
	}}
	m["decide-dossier"] = row{allow: registrars, build: func(w *world, a who) call {
		d := w.dossier
		if fresh(registrars, a) {
			c, _ := w.holder()
			d = w.dossierOf(c, "received")
		}
		return call{path: id(d), body: map[string]any{"approve": true}}
	}}
	m["consent-dossier"] = row{allow: []who{subject}, build: func(w *world, a who) call {
		// Another citizen asks to join the subject's household: the
		// subject, its head, consents.
		if w.joining == "" {
			var d struct{ ID string }
			w.c(otherCitizen).must(201, "POST", "/api/v1/dossiers", map[string]any{"service": "residence.permanent", "data": map[string]any{
				"household_id": w.household, "relationship": "other", "lawful_residence": "Giấy chứng nhận quyền sử dụng đất số 12"}}).json(w.t, &d)
			w.joining = d.ID
		}
		return call{path: id(w.joining)}
	}}
	m["withdraw-dossier"] = row{allow: []who{subject}, build: func(w *world, a who) call {
		c, p := w.holder()
		d := w.dossierOf(c, "submitted")
		if a == subject {
			return call{path: id(d), body: map[string]any{"note": "no longer needed"}, token: c.token, actorID: p}
		}
		return call{path: id(d), body: map[string]any{"note": "no longer needed"}}
	}}
	m["dossier-result"] = row{allow: []who{subject, regIn, admin}, reveals: true, build: func(w *world, a who) call {
		return call{path: id(w.result), subject: w.subjectPID}
	}}
	m["verify-document"] = row{allow: everyone, build: func(w *world, a who) call { return call{body: map[string]string{"document": w.document}} }}

	// Electronic identity.
	m["eid-apply"] = row{allow: everyone, build: func(w *world, a who) call {
		p := w.person(communeA)
		return call{body: map[string]any{"pid": p, "name": "Lê Văn Mạnh", "birth_date": "1990-01-15", "sex": "male", "phone": "0912000000", "email": "m@example.vn", "face": face}}
	}}
	m["eid-apply-counter"] = row{allow: registrars, build: func(w *world, a who) call {
		p := w.otherPID
		if fresh(registrars, a) {
			p, _, _ = w.account()
		}
		fp := map[string]any{"kind": "fingerprint", "position": 2, "format": "ISO/IEC 19794-2:2005", "data": "bWludXRpYWU="}
		return call{body: map[string]any{"pid": p, "phone": "0911111111", "card_status": "valid", "biometrics": []any{face, fp}}}
	}}
	m["eid-queue"] = row{allow: handlers, build: plain(call{})}
	// At a counter, any commune's: the card in the reader is the proof. A
	// challenge nobody was given: refused at its field, nothing moved (the
	// whole rebinding is TestCounterRebind's).
	m["card-challenge"] = row{allow: handlers, want: 201, build: plain(call{})}
	m["eid-rebind"] = row{allow: handlers, want: 422, build: func(w *world, a who) call {
		return call{path: pid(w.subjectPID), body: map[string]any{"phone": "0912000777", "face_checked": true,
			"card": map[string]any{"challenge_id": "0192f3a4-5b6c-7d8e-9f01-23456789abcd", "sod": w.chip["sod"], "data_groups": w.chip["data_groups"]}}}
	}}
	m["eid-application"] = row{allow: []who{subject, regIn, admin}, reveals: true, build: func(w *world, a who) call {
		return call{path: id(w.counterApp), subject: w.subjectPID}
	}}
	m["eid-decide"] = row{allow: registrars, build: func(w *world, a who) call {
		app := w.counterApp
		if fresh(registrars, a) {
			p := w.person(communeA)
			var ap struct{ ID string }
			w.c(anon).must(201, "POST", "/api/v1/eid/applications", map[string]any{"pid": p, "name": "Lê Văn Mạnh", "birth_date": "1990-01-15", "sex": "male",
				"phone": "0912000001", "email": "m@example.vn", "face": face}).json(w.t, &ap)
			app = ap.ID
		}
		return call{path: id(app), body: map[string]any{"approve": true}}
	}}
	m["eid-activation-start"] = row{allow: everyone, build: func(w *world, a who) call {
		return call{body: map[string]string{"pid": w.nextPID("001"), "phone": "0912000002"}}
	}}
	// A wrong code: refused on its merits, alike for everybody.
	m["eid-activate"] = row{allow: everyone, want: 422, build: plain(call{body: map[string]string{"pid": "001090999999", "code": "000000", "password": "Mk-wrong-pass1!", "passcode": "240719"}})}
	holderOp := func(prepare func(w *world, c *client, p string)) func(*world, who) call {
		return func(w *world, a who) call {
			if !fresh([]who{subject, regIn, admin}, a) {
				return call{path: pid(w.subjectPID)}
			}
			c, p := w.holder()
			if prepare != nil {
				prepare(w, c, p)
			}
			if a == subject {
				return call{path: pid(p), token: c.token, actorID: p, subject: p}
			}
			return call{path: pid(p), subject: p}
		}
	}
	eidHolders := []who{subject, regIn, admin}
	m["eid-account"] = row{allow: eidHolders, reveals: true, build: func(w *world, a who) call {
		return call{path: pid(w.subjectPID), subject: w.subjectPID}
	}}
	m["eid-lock"] = row{allow: eidHolders, build: holderOp(nil)}
	// A lock ends every session, so a holder cannot unlock with a token;
	// asking about the own account, which is not locked, is a conflict.
	m["eid-unlock"] = row{allow: eidHolders, wantFor: map[who]int{subject: 409}, build: func(w *world, a who) call {
		if !fresh(registrars, a) {
			return call{path: pid(w.subjectPID)}
		}
		_, p := w.holder()
		w.c(admin).must(200, "POST", "/api/v1/eid/accounts/"+p+"/lock", map[string]any{"reason": "matrix"})
		return call{path: pid(p)}
	}}
	m["eid-logout-everywhere"] = row{allow: eidHolders, build: holderOp(nil)}
	m["outbox"] = row{allow: adminOnly, build: plain(call{query: "recipient=0912000002"})}
	m["totp-start"] = row{allow: bothCitizens, build: citizenOwn(nil)}
	m["totp-confirm"] = row{allow: bothCitizens, build: citizenOwn(func(w *world, c *client) any {
		return map[string]string{"code": totpNow(w.t, totpStart(w.t, c))}
	})}
	m["totp-disable"] = row{allow: bothCitizens, build: citizenOwn(func(w *world, c *client) any {
		c.must(204, "POST", "/api/v1/me/totp/confirm", map[string]string{"code": totpNow(w.t, totpStart(w.t, c))})
		return map[string]string{"passcode": "240719"}
	})}
	m["attach-dependant"] = row{allow: bothCitizens, build: func(w *world, a who) call {
		parent := w.subjectPID
		if a == otherCitizen {
			parent = w.otherPID
		}
		var child struct{ PID string }
		w.seq++
		w.c(admin).must(201, "POST", "/api/v1/births", map[string]any{"name": map[string]string{"family": "Lê", "given": "Bé"}, "birth_date": "2024-05-01", "sex": "male",
			"birth_registration_place": map[string]string{"commune": communeA}, "father": map[string]string{"pid": parent},
			"permanent_residence": map[string]string{"commune": communeA}, "reason": "birth registration", "legal_basis": "Luật Hộ tịch 2014"},
			"Idempotency-Key", fmt.Sprintf("child-%d", w.seq)).json(w.t, &child)
		return call{body: map[string]string{"pid": child.PID}}
	}}
	m["my-dependants"] = row{allow: bothCitizens, build: plain(call{})}
	// The other citizen's account is at level 1: refused on its merits.
	m["org-apply"] = row{allow: []who{subject}, build: func(w *world, a who) call { return call{body: w.orgForm()} }}
	m["org-get"] = row{allow: []who{subject, regIn, admin}, reveals: true, build: func(w *world, a who) call {
		return call{path: id(w.org), subject: w.subjectPID}
	}}
	m["org-decide"] = row{allow: registrars, build: func(w *world, a who) call {
		o := w.org
		if fresh(registrars, a) {
			var org struct{ ID string }
			w.c(subject).must(201, "POST", "/api/v1/me/organisations", w.orgForm()).json(w.t, &org)
			o = org.ID
		}
		return call{path: id(o), body: map[string]any{"approve": true}}
	}}
	m["passkey-options"] = row{allow: bothCitizens, build: plain(call{})}
	m["passkey-add"] = row{allow: bothCitizens, want: 422, build: plain(call{body: map[string]any{"ceremony": "none", "name": "phone", "credential": map[string]any{}}})}
	m["passkey-list"] = row{allow: bothCitizens, build: plain(call{})}
	m["passkey-remove"] = row{allow: bothCitizens, want: 404, build: plain(call{path: id("no-such-passkey")})}
	m["my-consents"] = row{allow: bothCitizens, build: plain(call{})}
	// Withdrawing the consent ends the sessions of that relying party:
	// fresh holders, so the shared citizens keep theirs.
	m["revoke-consent"] = row{allow: bothCitizens, build: func(w *world, a who) call {
		c := citizenOwn(nil)(w, a)
		c.path = map[string]string{"client": "dvc-app"}
		return c
	}}
	m["list-clients"] = row{allow: adminOnly, build: plain(call{})}
	m["create-client"] = row{allow: adminOnly, build: func(w *world, a who) call {
		w.seq++
		return call{body: map[string]any{"id": fmt.Sprintf("rp-%d", w.seq), "name": "RP", "type": "native", "redirect_uris": []string{"http://127.0.0.1/cb"}}}
	}}

	// The data-exchange hub.
	m["create-agency"] = row{allow: adminOnly, build: func(w *world, a who) call {
		w.seq++
		ag := fmt.Sprintf("ag-%d", w.seq)
		if a == admin {
			w.c(admin).must(201, "POST", "/api/v1/oidc/clients", map[string]any{"id": ag, "name": ag, "type": "service"})
		}
		return call{body: map[string]any{"id": ag, "name": "Sở", "kind": "locality", "services": []string{"verify"}, "purposes": []string{"statistics"}}}
	}}
	m["set-agency-disabled"] = row{allow: adminOnly, build: plain(call{path: map[string]string{"agency": "sxd"}, body: map[string]any{"disabled": false}})}
	m["verify"] = row{allow: []who{agencyWith, agencyField}, reveals: true, build: func(w *world, a who) call {
		purpose := ministryPurpose
		if a == agencyPurpose {
			purpose = "curiosity"
		}
		return call{body: map[string]any{"pid": w.subjectPID, "purpose": purpose, "claims": map[string]string{"name": "Lê Văn Mạnh"}}, subject: w.subjectPID}
	}}
	m["query"] = row{allow: []who{agencyWith}, reveals: true, build: func(w *world, a who) call {
		purpose, fields := ministryPurpose, []string{"name"}
		switch a {
		case agencyPurpose:
			purpose = "curiosity"
		case agencyField:
			fields = []string{"religion"}
		case bank:
			purpose = "eKYC"
		}
		return call{body: map[string]any{"pid": w.subjectPID, "purpose": purpose, "fields": fields}, subject: w.subjectPID}
	}}
	// Fresh holders: the bank must stay without the subject's consent.
	m["grant-agency-consent"] = row{allow: bothCitizens, build: citizenOwn(func(*world, *client) any {
		return map[string]any{"agency": "bank", "fields": []string{"name"}, "purpose": "eKYC", "days": 1}
	})}
	m["agency-consents"] = row{allow: bothCitizens, build: plain(call{})}
	m["revoke-agency-consent"] = row{allow: bothCitizens, build: func(w *world, a who) call {
		c := citizenOwn(func(w *world, c *client) any {
			c.must(201, "POST", "/api/v1/me/agency-consents", map[string]any{"agency": "bank", "fields": []string{"name"}, "purpose": "eKYC", "days": 1})
			return nil
		})(w, a)
		c.path, c.body = map[string]string{"agency": "bank"}, nil
		return c
	}}
	m["submit-verify-job"] = row{allow: []who{agencyWith, agencyField}, build: func(w *world, a who) call {
		purpose := ministryPurpose
		if a == agencyPurpose {
			purpose = "curiosity"
		}
		return call{query: "purpose=" + url.QueryEscape(purpose), body: fmt.Sprintf(`{"pid":%q,"claims":{"name":"Lê Văn Mạnh"}}`+"\n", w.subjectPID),
			header: []string{"Content-Type", "application/x-ndjson"}}
	}}
	m["verify-job"] = row{allow: ministryAll, build: func(w *world, a who) call { return call{path: id(w.job)} }}
	// The job's group record was written before any answer could be read.
	m["verify-job-results"] = row{allow: ministryAll, reveals: true, recordedBefore: true, build: func(w *world, a who) call { return call{path: id(w.job), subject: w.subjectPID} }}
	m["enrich"] = row{allow: append(slices.Clone(ministryAll), agencyNone), build: func(w *world, a who) call {
		return call{query: "kind=social_insurance", body: fmt.Sprintf(`{"external_id":"bhxh-1","pid":%q,"name":"Lê Văn Mạnh","birth_date":"1990-01-15","sex":"male"}`+"\n", w.subjectPID),
			header: []string{"Content-Type", "application/x-ndjson"}}
	}}
	m["disagreements"] = row{allow: adminOnly, build: plain(call{query: "kind=social_insurance"})}
	m["subscribe"] = row{allow: []who{agencyWith, agencyPurpose, agencyField, bank}, build: plain(call{body: map[string]any{"url": "https://webhook.example/dancu", "types": []string{"vn.dancu.citizen.status"}}})}
	m["dead-letters"] = row{allow: ministryAll, build: func(w *world, a who) call { return call{path: id(w.subscription)} }}
	m["replay"] = row{allow: ministryAll, build: func(w *world, a who) call {
		return call{path: id(w.subscription), body: map[string]any{"from": "00000000-0000-0000-0000-000000000000"}}
	}}
	return m
}

// TestAuthorizationMatrix calls every operation of the route table as every
// kind of actor and compares the answer with the matrix: an allowed call
// succeeds, a refused one is 401 (anonymous) or 403/404 and changes
// nothing; an allowed call that reveals personal data leaves an access
// record naming the actor, a purpose and the subject. The operations are
// taken from the server's own OpenAPI document, which huma builds from the
// route table: an operation added without a row fails here.
func TestAuthorizationMatrix(t *testing.T) {
	for _, engine := range sqldbtest.EngineNames() {
		t.Run(engine, func(t *testing.T) { authorizationMatrix(t, sqldbtest.URL(t, engine)) })
	}
}

// publicReference are the operations whose answers caches may keep: public
// reference data, the same for everybody. Every other answer of the API is
// no-store.
var publicReference = map[string]bool{"search-units": true, "get-unit": true, "code-lists": true}

type operation struct{ id, method, path string }

func operations(t *testing.T, base string) []operation {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
		} `json:"paths"`
	}
	(&client{t: t, base: base}).must(200, "GET", "/api/v1/openapi.json", nil).json(t, &doc)
	var ops []operation
	for p, methods := range doc.Paths {
		for method, o := range methods {
			ops = append(ops, operation{o.OperationID, strings.ToUpper(method), p})
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].id < ops[j].id })
	return ops
}

func authorizationMatrix(t *testing.T, dbURL string) {
	w := newWorld(t, dbURL)
	rows := matrix()
	ops := operations(t, w.srv.URL)
	if len(ops) < 90 {
		t.Fatalf("only %d operations in the OpenAPI document", len(ops))
	}
	seen := map[string]bool{}
	for _, o := range ops {
		seen[o.id] = true
		r, ok := rows[o.id]
		if !ok {
			t.Errorf("operation %s (%s %s) has no row in the authorization matrix", o.id, o.method, o.path)
			continue
		}
		t.Run(o.id, func(t *testing.T) { w.use(t); checkRow(w, o, r) })
	}
	w.use(t)
	for id := range rows {
		if !seen[id] {
			t.Errorf("the matrix has a row for %s, which the route table does not have", id)
		}
	}
	t.Run("pages", func(t *testing.T) { w.use(t); pageMatrix(t, w) })
	w.use(t)
}

func checkRow(w *world, o operation, r row) {
	t := w.t
	// The refused first: they must change nothing the allowed then need.
	order := make([]who, 0, len(everyone))
	for _, a := range everyone {
		if !slices.Contains(r.allow, a) {
			order = append(order, a)
		}
	}
	order = append(order, r.allow...)
	for _, a := range order {
		c := r.build(w, a)
		path := o.path
		for k, v := range c.path {
			path = strings.ReplaceAll(path, "{"+k+"}", url.PathEscape(v))
		}
		if strings.Contains(path, "{") {
			t.Fatalf("%s: path parameters missing in %s", a, path)
		}
		if c.query != "" {
			path += "?" + c.query
		}
		cl := *w.c(a)
		cl.t = t
		actorID := w.ids[a]
		if c.token != "" {
			cl.token, actorID = c.token, c.actorID
			if actorID == "" {
				actorID = w.ids[a]
			}
		}
		before := w.lastEvent()
		var res response
		if s, ok := c.body.(string); ok {
			res = cl.do(o.method, path, s, c.header...)
		} else {
			res = cl.do(o.method, path, c.body, c.header...)
		}
		allowed := slices.Contains(r.allow, a)
		want := r.want
		if wf, ok := r.wantFor[a]; ok {
			want = wf
		}
		switch {
		case allowed && want != 0 && res.Status != want:
			t.Errorf("%s: %s, want %d: %.300s", a, statusText(res.Status), want, res.Body)
		case allowed && want == 0 && (res.Status < 200 || res.Status > 299):
			t.Errorf("%s: %s, want success: %.300s", a, statusText(res.Status), res.Body)
		case !allowed && a == anon && res.Status != 401:
			t.Errorf("anonymous: %s, want 401: %.300s", statusText(res.Status), res.Body)
		case !allowed && a != anon && res.Status != 403 && res.Status != 404:
			t.Errorf("%s: %s, want 403 or 404: %.300s", a, statusText(res.Status), res.Body)
		}
		// Headers of every answer, allowed or refused: never sniffed,
		// never stored by a cache but public reference data.
		if res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: %d without X-Content-Type-Options: nosniff", a, res.Status)
		}
		if cc := res.Header.Get("Cache-Control"); publicReference[o.id] && res.Status == 200 {
			if !strings.HasPrefix(cc, "public") {
				t.Errorf("%s: public reference data with Cache-Control %q", a, cc)
			}
		} else if cc != "no-store" {
			t.Errorf("%s: %d with Cache-Control %q, want no-store", a, res.Status, cc)
		}
		if res.Status >= 400 && res.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d is %q, not problem+json", a, res.Status, res.Header.Get("Content-Type"))
		}
		if !allowed && res.Status >= 400 && res.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: refusal is %q, not problem+json", a, res.Header.Get("Content-Type"))
		}
		if !allowed && res.Status == 401 && res.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", a)
		}
		if !allowed && res.Status >= 400 {
			if n, _ := w.accessRecords(actorID, w.subjectPID, before); n > 0 && res.Status == 403 && a == regOut {
				// A refused change may record the attempt; it must not
				// record a read.
				var reads int
				w.db.QueryRow(`SELECT COUNT(*) FROM access_event WHERE id > $1 AND actor_id = $2 AND action LIKE 'read%'`, before, actorID).Scan(&reads)
				if reads > 0 {
					t.Errorf("%s: a refused call recorded a read", a)
				}
			}
		}
		if allowed && r.reveals && res.Status < 300 {
			since := before
			if r.recordedBefore {
				since = ""
			}
			n, withPurpose := w.accessRecords(actorID, c.subject, since)
			if n == 0 {
				t.Errorf("%s: the answer revealed %s's data without an access record naming %s", a, c.subject, actorID)
			} else if withPurpose == 0 {
				t.Errorf("%s: the access record of %s names no purpose", a, c.subject)
			}
		}
	}
	_ = json.Marshal
}
