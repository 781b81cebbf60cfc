package main

import (
	"encoding/hex"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/dancu-vn/dancu/internal/card"
	"github.com/dancu-vn/dancu/internal/card/chiptest"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// TestCounterRebind: a citizen who lost the phone and has no recovery
// code is moved to a new phone at the counter of another commune. The
// chip must sign a challenge the platform gave that officer minutes
// before: a clone's answer, a challenge used twice, another officer's
// challenge and someone else's card are refused, and nothing moves. Once
// the face is confirmed it moves: every session and factor of the old
// phone ends, the old phone and the new one are told, the account waits
// for activation with a code sent to the new phone, and the citizen's log
// shows the counter's act.
func TestCounterRebind(t *testing.T) {
	for _, engine := range sqldbtest.EngineNames() {
		t.Run(engine, func(t *testing.T) { counterRebind(t, sqldbtest.URL(t, engine)) })
	}
}

var (
	challengeIDRe  = regexp.MustCompile(`name="challenge_id" value="([0-9a-f-]{36})"`)
	challengeHexRe = regexp.MustCompile(`<code id="challenge">([0-9a-f]{16})</code>`)
)

func counterRebind(t *testing.T, dbURL string) {
	if _, _, err := runCLI(t, map[string]string{"DANCU_DATA_KEY": testDataKey}, "pki", "init", "--db", dbURL); err != nil {
		t.Fatalf("pki init: %v", err)
	}
	srv := startServer(t, dbURL)
	admin := login(t, srv.URL, "admin", adminPassword)
	const pid, oldPhone, newPhone = "001090079001", "0912079001", "0987079001"
	password := citizenWithAccount(t, admin, pid, "Phạm Văn Đức", "1990-09-09", "male", oldPhone)
	produce := func(pid string) (*chiptest.Chip, map[string]any) {
		var app struct{ ID string }
		admin.must(201, "POST", "/api/v1/cards/applications", cardIntake(pid)).json(t, &app)
		admin.must(200, "POST", "/api/v1/cards/applications/"+app.ID+"/decision", map[string]any{"approve": true})
		var c struct {
			ID              string
			Personalisation *card.Personalisation
		}
		admin.must(201, "POST", "/api/v1/cards/applications/"+app.ID+"/produce", nil).json(t, &c)
		var read map[string]any
		admin.must(200, "GET", "/api/v1/cards/"+c.ID+"/chip", nil).json(t, &read)
		return chiptest.New(*c.Personalisation), read
	}
	chip, read := produce(pid)
	const otherPID = "001090079002"
	admin.must(201, "POST", "/api/v1/citizens", map[string]any{"pid": otherPID, "name": map[string]string{"family": "Võ", "given": "Nam"},
		"birth_date": "1990-10-10", "sex": "male", "permanent_residence": map[string]string{"commune": communeA}})
	otherChip, otherRead := produce(otherPID)
	clone, err := chiptest.Clone(chip)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []struct{ user, code string }{{"tam", communeB}, {"hung", communeB}} {
		admin.must(201, "POST", "/api/v1/officers", map[string]any{"username": o.user, "display_name": "Cán bộ " + o.user, "role": "registrar",
			"password": "Pw-" + o.user + "-2026!", "jurisdiction": map[string]string{"level": "commune", "code": o.code}})
	}
	tam := login(t, srv.URL, "tam", "Pw-tam-2026!")
	hung := login(t, srv.URL, "hung", "Pw-hung-2026!")
	citizen, _ := portalLogin(t, srv.URL, "/portal/me", pid, password)

	type challenge struct {
		ID        string
		Challenge []byte
	}
	newChallenge := func(c *client) challenge {
		var ch challenge
		c.must(201, "POST", "/api/v1/cards/challenges", nil).json(t, &ch)
		return ch
	}
	sign := func(ch *chiptest.Chip, challenge []byte) []byte {
		sig, err := ch.InternalAuthenticate(challenge)
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
	body := func(id string, read map[string]any, sig []byte) map[string]any {
		return map[string]any{"phone": newPhone, "face_checked": true,
			"card": map[string]any{"challenge_id": id, "sod": read["sod"], "data_groups": read["data_groups"], "active_authentication_signature": sig}}
	}
	refused := func(name string, c *client, b map[string]any, want string) {
		t.Helper()
		r := c.do("POST", "/api/v1/eid/accounts/"+pid+"/rebind", b)
		if r.Status != 422 || !strings.Contains(string(r.Body), want) {
			t.Errorf("%s: %d %s, want 422 naming %s", name, r.Status, r.Body, want)
		}
	}
	ch := newChallenge(tam)
	refused("a clone", tam, body(ch.ID, read, sign(clone, ch.Challenge)), "aa_signature")
	refused("the challenge again", tam, body(ch.ID, read, sign(chip, ch.Challenge)), "used already")
	old := ch
	ch = newChallenge(tam)
	refused("an answer to an older challenge", tam, body(ch.ID, read, sign(chip, old.Challenge)), "aa_signature")
	ch = newChallenge(tam)
	refused("another officer's challenge", hung, body(ch.ID, read, sign(chip, ch.Challenge)), "not a challenge given to you")
	ch = newChallenge(tam)
	refused("someone else's card", tam, body(ch.ID, otherRead, sign(otherChip, ch.Challenge)), "not this person's card")
	ch = newChallenge(tam)
	noFace := body(ch.ID, read, sign(chip, ch.Challenge))
	noFace["face_checked"] = false
	refused("the face not compared", tam, noFace, "face_checked")
	if p := citizen.get("/portal/me"); p.Status != 200 {
		t.Fatalf("a refused rebinding ended the citizen's session: %d", p.Status)
	}
	// An account the police locked is moved only by the person's commune.
	admin.must(200, "POST", "/api/v1/eid/accounts/"+pid+"/lock", map[string]any{"reason": "suspected fraud"})
	ch = newChallenge(tam)
	if r := tam.do("POST", "/api/v1/eid/accounts/"+pid+"/rebind", body(ch.ID, read, sign(chip, ch.Challenge))); r.Status != 403 {
		t.Errorf("another commune moved an account the police locked: %d %s", r.Status, r.Body)
	}
	admin.must(200, "POST", "/api/v1/eid/accounts/"+pid+"/unlock", map[string]any{"reason": "cleared"})
	citizen, _ = portalLogin(t, srv.URL, "/portal/me", pid, password)

	// At the console of another commune, with the reader's file.
	con, _ := consoleLogin(t, srv.URL, "tam", "Pw-tam-2026!")
	p := con.get("/console/eid/rebind?pid=" + pid)
	idm, hexm := challengeIDRe.FindStringSubmatch(p.Body), challengeHexRe.FindStringSubmatch(p.Body)
	if p.Status != 200 || idm == nil || hexm == nil {
		t.Fatalf("the counter page: %d %s", p.Status, p.text())
	}
	raw, _ := hex.DecodeString(hexm[1])
	file, _ := json.Marshal(map[string]any{"sod": read["sod"], "data_groups": read["data_groups"], "active_authentication_signature": sign(chip, raw)})
	form := url.Values{"challenge_id": {idm[1]}, "pid": {pid}, "phone": {newPhone}, "face_checked": {"yes"}}
	p = con.postMultipart("/console/eid/rebind", form, "chip", "chip.json", file)
	if p.Status != 200 || !strings.Contains(p.Body, newPhone) {
		t.Fatalf("the rebinding: %d %s", p.Status, p.text())
	}
	if p := citizen.get("/portal/me"); p.Status != 303 {
		t.Errorf("the session of the old phone still opens pages: %d", p.Status)
	}
	var acc struct{ State, Phone string }
	admin.must(200, "GET", "/api/v1/eid/accounts/"+pid, nil).json(t, &acc)
	if acc.State != "approved" || acc.Phone != newPhone {
		t.Errorf("the account after rebinding: %+v", acc)
	}
	// The old phone had the approval and the activation code before.
	for to, n := range map[string]int{oldPhone: 3, newPhone: 1} {
		if ms := messagesTo(t, srv.URL, to, n); len(ms) < n || !strings.Contains(ms[0].Body, "•••••••001") {
			t.Errorf("no notice of the move to %s: %+v", to, ms)
		}
	}
	// The citizen activates again from the new phone.
	act := newConsole(t, srv.URL)
	act.get("/portal/activate")
	act.post("/portal/activate/code", url.Values{"pid": {pid}, "contact": {newPhone}})
	code := activationCode(t, srv.URL, newPhone)
	const newPassword = "Duc-Moi-2027!"
	p = act.post("/portal/activate", url.Values{"pid": {pid}, "contact": {newPhone}, "code": {code}, "password": {newPassword},
		"password2": {newPassword}, "passcode": {"240719"}})
	if p.Status != 200 || len(recoveryCodeRe.FindAllString(p.Body, -1)) != 10 {
		t.Fatalf("activation after the move: %d %s", p.Status, p.text())
	}
	_, me := portalLogin(t, srv.URL, "/portal/access", pid, newPassword)
	if me.Status != 200 || !strings.Contains(me.Body, "Chuyển tài khoản sang số điện thoại mới tại Công an cấp xã") {
		t.Fatalf("the citizen's log after the move: %d %s", me.Status, me.text())
	}
	if _, p := portalLogin(t, srv.URL, "/portal/me", pid, password); strings.Contains(p.Body, "portal.nav.me") || p.Status == 200 && strings.Contains(p.Body, `href="/portal/me"`) && !strings.Contains(p.Body, `name="password"`) {
		t.Errorf("the old password still signs in: %d", p.Status)
	}
}
