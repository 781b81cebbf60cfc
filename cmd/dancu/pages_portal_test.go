package main

import (
	"fmt"
	"net/url"
)

// portalPageRows are the rows of the pages' matrix for the citizen portal
// (internal/web/portal*.go): its pages are the signed-in citizen's own,
// and none takes another person's number.
func portalPageRows() map[string]pageRow {
	mine := []who{subject}
	return map[string]pageRow{
		"GET /portal/{$}":       {allow: pageAnyone, build: pagePlain(pageCall{})},
		"GET /portal/login":     {allow: pageAnyone, want: 302, build: pagePlain(pageCall{query: "next=/portal/me"})},
		"GET /portal/callback":  {allow: pageAnyone, want: 400, build: pagePlain(pageCall{query: "code=guessed&state=guessed"})},
		"POST /portal/language": {allow: pageAnyone, build: pagePlain(pageCall{form: url.Values{"lang": {"vi"}, "next": {"/portal/"}}})},
		"POST /portal/logout":   {allow: pageAnyone, spare: true, build: pagePlain(pageCall{})},
		// Getting an account: nobody is signed in, and nothing tells whether
		// a person or an account exists.
		"GET /portal/apply": {allow: pageAnyone, build: pagePlain(pageCall{})},
		// A form without a portrait or details: refused at its fields,
		// nothing stored.
		"POST /portal/apply":         {allow: pageAnyone, want: 422, build: pagePlain(pageCall{form: url.Values{"pid": {"001085012345"}}})},
		"GET /portal/apply/follow":   {allow: pageAnyone, want: 422, build: pagePlain(pageCall{query: "id=not-a-number"})},
		"GET /portal/apply/{id}":     {allow: pageAnyone, want: 404, build: pagePlain(pageCall{path: map[string]string{"id": "0192f3a4-5b6c-7d8e-9f01-23456789abcd"}})},
		"GET /portal/activate":       {allow: pageAnyone, build: pagePlain(pageCall{})},
		"POST /portal/activate/code": {allow: pageAnyone, want: 200, build: pagePlain(pageCall{form: url.Values{"pid": {"001090999001"}, "contact": {"0912000001"}}})},
		"POST /portal/activate": {allow: pageAnyone, want: 422, build: pagePlain(pageCall{form: url.Values{"pid": {"001090999001"}, "code": {"123456"},
			"password": {"Mk-Khac-2026!"}, "password2": {"Mk-Khac-2026!"}, "passcode": {"246813"}}})},
		"GET /portal/recover": {allow: pageAnyone, build: pagePlain(pageCall{})},
		// A number of its own for each caller: the tries of one number from
		// one address are throttled after a few.
		"POST /portal/recover": {allow: pageAnyone, want: 401, build: func(w *world, a who) pageCall {
			w.seq++
			return pageCall{form: url.Values{"pid": {fmt.Sprintf("001090%06d", 990000+w.seq)}, "code": {"ZZZZZ-ZZZZZ"},
				"passcode": {"246813"}, "password": {"Mk-Khac-2026!"}, "password2": {"Mk-Khac-2026!"}}}
		}},
		// A passkey: the options for the browser; an answer to no ceremony
		// refused (the whole of it is citizen.mjs's, in Chromium).
		"POST /portal/security/passkeys/options": {allow: mine, want: 200, build: pagePlain(pageCall{})},
		"POST /portal/security/passkeys":         {allow: mine, want: 422, build: pagePlain(pageCall{form: url.Values{"ceremony": {"none"}, "credential": {"{}"}}})},
		// The authenticator app: a setup begun (nothing on until a code
		// confirms it), a wrong code and a wrong passcode refused at their
		// fields.
		"POST /portal/security/totp":         {allow: mine, want: 200, build: pagePlain(pageCall{})},
		"POST /portal/security/totp/confirm": {allow: mine, want: 422, build: pagePlain(pageCall{form: url.Values{"code": {"000000"}}})},
		"POST /portal/security/totp/off":     {allow: mine, want: 422, build: pagePlain(pageCall{form: url.Values{"passcode": {"135792"}}})},
		// A wrong passcode: refused at its field, the codes kept.
		"POST /portal/security/recovery-codes": {allow: mine, want: 422, build: pagePlain(pageCall{form: url.Values{"passcode": {"135792"}}})},
		"GET /portal/me": {allow: mine, reveals: true, build: func(w *world, a who) pageCall {
			return pageCall{subject: w.subjectPID}
		}},
		// Procedures: the catalog is anyone's; a form shows what the
		// registry holds of the subject.
		"GET /portal/services": {allow: pageAnyone, build: pagePlain(pageCall{})},
		"GET /portal/services/{code}": {allow: mine, reveals: true, build: func(w *world, a who) pageCall {
			return pageCall{path: map[string]string{"code": "residence.temporary"}, subject: w.subjectPID}
		}},
		// An empty form: refused at its fields, nothing filed.
		"POST /portal/services/{code}": {allow: mine, want: 422, build: pagePlain(pageCall{path: map[string]string{"code": "residence.temporary"}})},
		"GET /portal/dossiers":         {allow: mine, build: pagePlain(pageCall{})},
		"GET /portal/dossiers/{id}": {allow: mine, reveals: true, build: func(w *world, a who) pageCall {
			return pageCall{path: map[string]string{"id": w.dossier}, subject: w.subjectPID}
		}},
		// Nobody asked the subject for more: completing is refused.
		"POST /portal/dossiers/{id}/supplement": {allow: mine, want: 409, build: func(w *world, a who) pageCall {
			return pageCall{path: map[string]string{"id": w.dossier}, form: url.Values{"until": {"2027-01-01"}}}
		}},
		// Not confirmed: the page again, nothing withdrawn.
		"POST /portal/dossiers/{id}/withdraw": {allow: mine, want: 422, build: func(w *world, a who) pageCall {
			return pageCall{path: map[string]string{"id": w.dossier}}
		}},
		"GET /portal/notifications": {allow: mine, build: pagePlain(pageCall{})},
		// Dependants: the subject's own record lists them; another
		// person's number is refused or not found.
		"GET /portal/dependants": {allow: mine, reveals: true, build: func(w *world, a who) pageCall {
			return pageCall{subject: w.subjectPID}
		}},
		"POST /portal/dependants":      {allow: mine, want: 422, build: func(w *world, a who) pageCall { return pageCall{form: url.Values{"pid": {w.otherPID}}} }},
		"GET /portal/dependants/{pid}": {allow: mine, want: 404, build: func(w *world, a who) pageCall { return pageCall{path: map[string]string{"pid": w.otherPID}} }},
		"GET /portal/access":           {allow: mine, build: pagePlain(pageCall{})},
		// No such entry of the subject's log: not found (the proofs are
		// TestPortalProof's).
		"GET /portal/access/{id}/proof": {allow: mine, want: 404, build: pagePlain(pageCall{path: map[string]string{"id": "0192f3a4-5b6c-7d8e-9f01-23456789abcd"}})},
		"GET /portal/consents":          {allow: mine, build: pagePlain(pageCall{})},
		// No consent to this agency: nothing to withdraw.
		"POST /portal/agency-consents/{agency}": {allow: mine, want: 404, build: pagePlain(pageCall{path: map[string]string{"agency": "no-such-agency"}})},
		// The citizen withdraws a consent given for this row to a client of
		// its own: the world's clients keep theirs.
		"POST /portal/consents/{client}": {allow: mine, build: func(w *world, a who) pageCall {
			client := "dvc-app"
			if a == subject {
				w.seq++
				client = fmt.Sprintf("page-rp-%d", w.seq)
				w.c(admin).must(201, "POST", "/api/v1/oidc/clients", map[string]any{"id": client, "name": client, "type": "native",
					"redirect_uris": []string{"http://127.0.0.1:9/cb"}})
				citizenLogin(w.t, w.srv.URL, client, w.subjectPID, w.subjectPassword)
			}
			return pageCall{path: map[string]string{"client": client}}
		}},
		"GET /portal/documents": {allow: mine, build: pagePlain(pageCall{})},
		"POST /portal/documents/confirmation": {allow: mine, build: func(w *world, a who) pageCall {
			w.seq++
			return pageCall{form: url.Values{"key": {fmt.Sprintf("page-%d", w.seq)}}}
		}},
		// The subject's own result; another person's dossier is not found.
		"GET /portal/documents/{id}": {allow: mine, reveals: true, build: func(w *world, a who) pageCall {
			return pageCall{path: map[string]string{"id": w.result}, subject: w.subjectPID}
		}},
		// A wrong current password: refused at its field, nothing changed.
		"POST /portal/security/password": {allow: mine, want: 422, build: pagePlain(pageCall{form: url.Values{"current": {"not-it-2026!A"},
			"password": {"Mk-Khac-2026!"}, "password2": {"Mk-Khac-2026!"}}})},
		"GET /portal/security":                {allow: mine, build: pagePlain(pageCall{})},
		"POST /portal/security/passkeys/{id}": {allow: mine, want: 404, build: pagePlain(pageCall{path: map[string]string{"id": "no-such-passkey"}})},
		// Runs last with the other sign-outs: it ends the subject's sessions.
		"POST /portal/security/logout-everywhere": {allow: mine, want: 200, build: pagePlain(pageCall{})},
		// Unconfirmed: the form again; a confirmed lock is TestPortal's.
		"POST /portal/security/lock": {allow: mine, want: 422, build: pagePlain(pageCall{})},
	}
}
