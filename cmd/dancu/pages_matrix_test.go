package main

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/web"
)

// pageCall is one request of the pages' matrix.
type pageCall struct {
	path    map[string]string
	query   string
	form    url.Values
	subject string // whose personal data the page shows; "" for none
}

// pageRow is what the matrix expects of one page of the route table.
type pageRow struct {
	allow   []who // everybody else is refused: sent to sign in (GET) or 401 (POST) when anonymous, else 403 or 404
	want    int   // the status of an allowed call; 0: 200 for GET, 303 for POST
	wantFor map[who]int
	// reveals: the page shows personal data of call.subject, so it leaves
	// an access record naming the officer.
	reveals bool
	// spare: the officers call it in a second session of their own (a
	// sign-out, which would end the session the other rows use).
	spare bool
	build func(w *world, a who) pageCall
}

// The people at the console: officers of the authorization world, and a
// visitor who is not signed in.
var (
	pageActors   = []who{anon, viewer, regIn, regOut, admin, subject}
	pageOfficers = []who{viewer, regIn, regOut, admin}
	pageAnyone   = []who{anon, viewer, regIn, regOut, admin, subject}
)

func pagePlain(c pageCall) func(*world, who) pageCall { return func(*world, who) pageCall { return c } }

// pageRows are the rows of the officer's daily pages; publicPageRows,
// adminPageRows and dashboardPageRows hold the rest.
func pageRows() map[string]pageRow {
	m := map[string]pageRow{}
	signedInIsSent := map[who]int{viewer: 303, regIn: 303, regOut: 303, admin: 303}
	m["GET /{$}"] = pageRow{allow: pageAnyone, build: pagePlain(pageCall{})}
	m["GET /console/login"] = pageRow{allow: pageAnyone, wantFor: signedInIsSent, build: pagePlain(pageCall{})}
	// A name of its own for each: five failures of one name from one
	// address are throttled.
	m["POST /console/login"] = pageRow{allow: pageAnyone, want: 401, build: func(w *world, a who) pageCall {
		return pageCall{form: url.Values{"username": {"nobody-" + string(a)}, "password": {"wrong"}}}
	}}
	m["POST /console/login/code"] = pageRow{allow: pageAnyone, want: 401, build: pagePlain(pageCall{form: url.Values{"code": {"123456"}}})}
	m["POST /console/language"] = pageRow{allow: pageAnyone, build: pagePlain(pageCall{form: url.Values{"lang": {"vi"}, "next": {"/console/"}}})}
	m["POST /console/logout"] = pageRow{allow: pageOfficers, spare: true, build: pagePlain(pageCall{})}
	m["POST /console/logout-everywhere"] = pageRow{allow: pageOfficers, build: pagePlain(pageCall{})}
	m["GET /console/{$}"] = pageRow{allow: pageOfficers, build: pagePlain(pageCall{})}
	m["GET /console/citizens"] = pageRow{allow: pageOfficers, reveals: true, build: func(w *world, a who) pageCall {
		return pageCall{query: "q=" + url.QueryEscape("Lê Văn Mạnh 15/01/1990"), subject: w.subjectPID}
	}}
	m["GET /console/citizens/{pid}"] = pageRow{allow: pageOfficers, reveals: true, build: func(w *world, a who) pageCall {
		return pageCall{path: pid(w.subjectPID), subject: w.subjectPID}
	}}
	// A registrar of another commune can read a record but not open its
	// change forms by URL.
	m["GET /console/citizens/{pid}/edit"] = pageRow{allow: registrars, build: func(w *world, a who) pageCall {
		return pageCall{path: pid(w.subjectPID)}
	}}
	m["GET /console/citizens/{pid}/status"] = pageRow{allow: registrars, build: func(w *world, a who) pageCall {
		return pageCall{path: pid(w.subjectPID)}
	}}
	basis := func(v url.Values) url.Values {
		v.Set("reason", "matrix")
		v.Set("legal_basis", "Luật Căn cước 2023, Điều 9")
		return v
	}
	m["POST /console/citizens/{pid}/edit"] = pageRow{allow: registrars, build: func(w *world, a who) pageCall {
		p := w.subjectPID
		if slices.Contains(registrars, a) {
			p = w.person(communeA)
		}
		return pageCall{path: pid(p), form: basis(url.Values{"version": {"1"}, "family": {"Lê"}, "middle": {"Văn"}, "given": {"Mạnh"},
			"nationality": {"VNM"}, "phone": {"0912000111"}})}
	}}
	m["POST /console/citizens/{pid}/status"] = pageRow{allow: registrars, build: func(w *world, a who) pageCall {
		p := w.subjectPID
		if slices.Contains(registrars, a) {
			p = w.person(communeA)
		}
		return pageCall{path: pid(p), form: basis(url.Values{"version": {"1"}, "to": {"missing"}, "date": {"01/11/2026"}})}
	}}
	m["GET /console/births/new"] = pageRow{allow: []who{regIn, regOut, admin}, build: pagePlain(pageCall{})}
	m["POST /console/births"] = pageRow{allow: registrars, build: func(w *world, a who) pageCall {
		w.seq++
		return pageCall{form: basis(url.Values{"key": {"matrix-" + string(a)}, "family": {"Lê"}, "middle": {"Minh"}, "given": {"Khôi"},
			"birth_date": {"01/09/2025"}, "sex": {"male"}, "registration_commune": {communeA}, "father_pid": {w.subjectPID},
			"nationality": {"VNM"}})}
	}}
	m["GET /console/dossiers"] = pageRow{allow: []who{regIn, regOut, admin}, build: pagePlain(pageCall{})}
	m["GET /console/dossiers/{id}"] = pageRow{allow: []who{regIn, admin}, reveals: true, build: func(w *world, a who) pageCall {
		return pageCall{path: id(w.dossier), subject: w.subjectPID}
	}}
	m["POST /console/dossiers/{id}"] = pageRow{allow: registrars, build: func(w *world, a who) pageCall {
		d := w.dossier
		if slices.Contains(registrars, a) {
			c, _ := w.holder()
			d = w.dossierOf(c, "submitted")
		}
		return pageCall{path: id(d), form: url.Values{"action": {"receive"}}}
	}}
	m["GET /console/dossiers/{id}/result"] = pageRow{allow: []who{regIn, admin}, reveals: true, build: func(w *world, a who) pageCall {
		return pageCall{path: id(w.result), subject: w.subjectPID}
	}}
	m["GET /console/eid"] = pageRow{allow: []who{regIn, regOut, admin}, build: pagePlain(pageCall{})}
	// The counter: any commune's officer who reviews e-ID accounts; a form
	// without the chip's file is refused at its field (the whole
	// rebinding is TestCounterRebind's).
	// Assisted mode: any officer who handles dossiers; a passcode the
	// citizen did not type is refused at its field, nothing filed.
	m["GET /console/assist"] = pageRow{allow: []who{regIn, regOut, admin}, build: pagePlain(pageCall{query: "service=residence.temporary"})}
	m["POST /console/assist"] = pageRow{allow: []who{regIn, regOut, admin}, want: 422, build: func(w *world, a who) pageCall {
		// A citizen of its own for each: wrong passcodes of one account
		// from one address are throttled after a few.
		p, _, _ := w.account()
		return pageCall{form: url.Values{"pid": {p}, "service": {"residence.confirmation"}, "passcode": {"135792"}}}
	}}
	m["GET /console/eid/rebind"] = pageRow{allow: []who{regIn, regOut, admin}, build: pagePlain(pageCall{})}
	m["POST /console/eid/rebind"] = pageRow{allow: []who{regIn, regOut, admin}, want: 422, build: func(w *world, a who) pageCall {
		return pageCall{form: url.Values{"pid": {w.subjectPID}, "phone": {"0912000777"}, "face_checked": {"yes"}}}
	}}
	m["POST /console/eid/{id}"] = pageRow{allow: registrars, build: func(w *world, a who) pageCall {
		app := w.counterApp
		if slices.Contains(registrars, a) {
			p := w.person(communeA)
			var ap struct{ ID string }
			w.c(anon).must(201, "POST", "/api/v1/eid/applications", map[string]any{"pid": p, "name": "Lê Văn Mạnh", "birth_date": "1990-01-15", "sex": "male",
				"phone": "0912000001", "email": "m@example.vn", "face": face}).json(w.t, &ap)
			app = ap.ID
		}
		return pageCall{path: id(app), form: url.Values{"action": {"approve"}}}
	}}
	m["GET /console/cards"] = pageRow{allow: []who{regIn, regOut, admin}, build: pagePlain(pageCall{query: "state=submitted"})}
	m["POST /console/cards/applications/{id}"] = pageRow{allow: registrars, build: func(w *world, a who) pageCall {
		_, app := w.cardApplication()
		return pageCall{path: id(app), form: url.Values{"action": {"approve"}}}
	}}
	m["POST /console/cards/deliveries/{id}"] = pageRow{allow: registrars, build: func(w *world, a who) pageCall {
		_, c := w.producedCard("")
		return pageCall{path: id(c)}
	}}
	m["GET /console/households/{id}/head"] = pageRow{allow: registrars, reveals: true, build: func(w *world, a who) pageCall {
		return pageCall{path: id(w.household), subject: w.subjectPID}
	}}
	m["POST /console/households/{id}/head"] = pageRow{allow: registrars, build: func(w *world, a who) pageCall {
		hh, member := w.household, w.otherPID
		if slices.Contains(registrars, a) {
			hh, member = w.twoPersonHousehold()
		}
		var cur struct{ Version int64 }
		w.c(admin).must(200, "GET", "/api/v1/households/"+hh, nil).json(w.t, &cur)
		return pageCall{path: id(hh), form: url.Values{"version": {fmt.Sprint(cur.Version)}, "new_head": {member}, "former": {"other"},
			"reason": {"matrix test"}, "legal_basis": {"Luật Cư trú 2020"}}}
	}}
	m["GET /console/cards/batches"] = pageRow{allow: []who{regIn, regOut, admin}, build: pagePlain(pageCall{})}
	return m
}

// pageMatrix checks every page of the route table for every person at the
// console. It runs last in the authorization world: the officers' console
// sign-ins enrol their authenticator apps.
func pageMatrix(t *testing.T, w *world) {
	rows := pageRows()
	for _, more := range []map[string]pageRow{publicPageRows(), adminPageRows(), dashboardPageRows(), portalPageRows()} {
		for k, r := range more {
			if _, dup := rows[k]; dup {
				t.Errorf("page %s has two rows", k)
			}
			rows[k] = r
		}
	}
	pages, err := web.New(web.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	browsers := map[who]*console{anon: newConsole(t, w.srv.URL)}
	browsers[anon].get("/")
	passwords := map[who][2]string{viewer: {"viewer-a", "Pw-viewer-a-2026!"}, regIn: {"registrar-hn", "Pw-registrar-hn-2026!"},
		regOut: {"registrar-b", "Pw-registrar-b-2026!"}, admin: {"admin", adminPassword}}
	spares := map[who]*console{anon: browsers[anon]}
	for a, p := range passwords {
		var secret string
		browsers[a], secret = consoleLogin(t, w.srv.URL, p[0], p[1])
		spares[a], _ = consoleLoginWith(t, w.srv.URL, p[0], p[1], secret, time.Now().Add(30*time.Second))
	}
	// The subject signs in to the citizen portal (twice: the spare session
	// is signed out).
	browsers[subject], _ = portalLogin(t, w.srv.URL, "/portal/", w.subjectPID, w.subjectPassword)
	spares[subject], _ = portalLogin(t, w.srv.URL, "/portal/", w.subjectPID, w.subjectPassword)
	var keys []string
	seen := map[string]bool{}
	for _, p := range pages.Routes() {
		k := p.Method + " " + p.Path
		seen[k] = true
		if _, ok := rows[k]; !ok {
			t.Errorf("page %s has no row in the pages' authorization matrix", k)
			continue
		}
		keys = append(keys, k)
	}
	for _, k := range slices.Sorted(maps.Keys(rows)) {
		if !seen[k] {
			t.Errorf("the pages' matrix has a row for %s, which the route table does not have", k)
		}
	}
	// Signing out last: it ends the sessions the other rows use.
	last := func(k string) int { return strings.Count(k, "logout") + 2*strings.Count(k, "everywhere") }
	sort.SliceStable(keys, func(i, j int) bool {
		if last(keys[i]) != last(keys[j]) {
			return last(keys[i]) < last(keys[j])
		}
		return keys[i] < keys[j]
	})
	public := map[string]bool{}
	for _, p := range pages.Routes() {
		public[p.Method+" "+p.Path] = p.Public
	}
	for _, k := range keys {
		t.Run(strings.NewReplacer("/", "_", " ", "_").Replace(k), func(t *testing.T) {
			w.use(t)
			b := browsers
			if rows[k].spare {
				b = spares
			}
			checkPage(t, w, b, k, rows[k], public[k])
		})
	}
	w.use(t)
}

func checkPage(t *testing.T, w *world, browsers map[who]*console, key string, r pageRow, public bool) {
	method, path, _ := strings.Cut(key, " ")
	path = strings.TrimSuffix(path, "{$}")
	order := make([]who, 0, len(pageActors))
	for _, a := range pageActors {
		if !slices.Contains(r.allow, a) {
			order = append(order, a)
		}
	}
	order = append(order, r.allow...)
	for _, a := range order {
		c := r.build(w, a)
		p := path
		for k, v := range c.path {
			p = strings.ReplaceAll(p, "{"+k+"}", url.PathEscape(v))
		}
		if strings.Contains(p, "{") {
			t.Fatalf("%s: path parameters missing in %s", a, p)
		}
		if c.query != "" {
			p += "?" + c.query
		}
		b := browsers[a]
		b.t = t
		before := w.lastEvent()
		var res page
		portal := strings.HasPrefix(path, "/portal/")
		if method == "GET" {
			res = b.get(p)
		} else {
			// A form comes from a page of its own part: the portal's
			// forms carry the portal session's token, the console's the
			// console's.
			if portal {
				b.get("/portal/")
			} else {
				b.get("/")
			}
			form := url.Values{}
			for k, v := range c.form {
				form[k] = slices.Clone(v)
			}
			res = b.post(p, form)
		}
		allowed := slices.Contains(r.allow, a)
		want := r.want
		if wf, ok := r.wantFor[a]; ok {
			want = wf
		}
		if want == 0 {
			want = map[string]int{"GET": 200, "POST": 303}[method]
		}
		// Signed out here: anonymous; the citizen at the console; an
		// officer at the portal. Each is sent to that part's sign-in.
		signedOut := a == anon || (a == subject) != portal
		signIn := "/console/login?next="
		if portal {
			signIn = "/portal/login?next="
		}
		switch {
		case allowed && res.Status != want:
			t.Errorf("%s: %s, want %d: %s", a, statusText(res.Status), want, res.text())
		case !allowed && signedOut && method == "GET" && (res.Status != 303 || !strings.HasPrefix(res.Location, signIn)):
			t.Errorf("%s, signed out here: %s to %q, want 303 to the sign-in", a, statusText(res.Status), res.Location)
		case !allowed && signedOut && method == "POST" && res.Status != 401:
			t.Errorf("%s, signed out here: %s, want 401: %s", a, statusText(res.Status), res.text())
		case !allowed && !signedOut && res.Status != 403 && res.Status != 404:
			t.Errorf("%s: %s, want 403 or 404: %s", a, statusText(res.Status), res.text())
		}
		if allowed && !public && a == anon {
			t.Errorf("anonymous is allowed on %s, which is not a public page", key)
		}
		// html/template's mark of a value it refused to write (a URL it
		// found unsafe): the page is broken where it stands.
		if strings.Contains(res.Body, "ZgotmplZ") {
			t.Errorf("%s: the page holds a value html/template refused (ZgotmplZ)", a)
		}
		// Every answer: never sniffed, never cached, never framed, no
		// script but our own.
		if res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: %d without X-Content-Type-Options: nosniff", a, res.Status)
		}
		if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s: %d with Cache-Control %q, want no-store", a, res.Status, cc)
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("%s: %d with Content-Security-Policy %q", a, res.Status, csp)
		}
		if allowed && r.reveals && c.subject != "" && res.Status < 400 {
			if n, withPurpose := w.accessRecords(w.ids[a], c.subject, before); n == 0 || withPurpose == 0 {
				t.Errorf("%s: the page showed %s's data with %d access records (%d with a purpose)", a, c.subject, n, withPurpose)
			}
		}
	}
}
