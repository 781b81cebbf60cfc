package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/descope/virtualwebauthn"
	"github.com/pquerna/otp/totp"
	"golang.org/x/oauth2"

	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// citizenWithAccount registers a person from existing data and takes them
// through the level-1 e-ID path: online application, approval, activation
// with the code the message gateway received. It returns the password.
func citizenWithAccount(t *testing.T, admin *client, pid, name, birth, sex, phone string) string {
	t.Helper()
	parts := strings.Fields(name)
	admin.must(201, "POST", "/api/v1/citizens", map[string]any{"pid": pid,
		"name":       map[string]string{"family": parts[0], "middle": strings.Join(parts[1:len(parts)-1], " "), "given": parts[len(parts)-1]},
		"birth_date": birth, "sex": sex, "permanent_residence": map[string]string{"commune": "00004", "detail": "Phố Phan Đình Phùng 12"}})
	anon := &client{t: t, base: admin.base}
	face := map[string]any{"kind": "face", "format": "image/jpeg", "data": base64.StdEncoding.EncodeToString([]byte("\xff\xd8\xff\xe0 a portrait"))}
	apply := map[string]any{"pid": pid, "name": strings.ToUpper(name), "birth_date": birth, "sex": sex, "phone": phone, "email": "dan@example.vn", "face": face}
	// A mismatch is refused without saying which detail differs, and stores nothing.
	wrong := map[string]any{}
	for k, v := range apply {
		wrong[k] = v
	}
	wrong["birth_date"] = "1990-01-01"
	if r := anon.do("POST", "/api/v1/eid/applications", wrong); r.Status != 422 || strings.Contains(string(r.Body), "birth_date") {
		t.Fatalf("mismatching application = %d %s; want 422 without naming the field", r.Status, r.Body)
	}
	var app struct {
		ID, State string
		DueAt     string `json:"due_at"`
	}
	anon.must(201, "POST", "/api/v1/eid/applications", apply, "Idempotency-Key", "apply-"+pid).json(t, &app)
	var again struct{ ID string }
	anon.must(201, "POST", "/api/v1/eid/applications", apply, "Idempotency-Key", "apply-"+pid).json(t, &again)
	if app.State != "submitted" || again.ID != app.ID {
		t.Fatalf("application %+v, retry gave %s", app, again.ID)
	}
	admin.must(200, "POST", "/api/v1/eid/applications/"+app.ID+"/decision", map[string]any{"approve": true})
	anon.must(202, "POST", "/api/v1/eid/activation/code", map[string]string{"pid": pid, "phone": phone})
	code := activationCode(t, admin.base, phone)
	password := "Mk-" + pid[6:] + "a!"
	anon.must(200, "POST", "/api/v1/eid/activation", map[string]string{"pid": pid, "code": code, "password": password, "passcode": "240719"})
	return password
}

// browser is a user agent with cookies that stops at the relying party's
// redirect URI.
type browser struct {
	t   *testing.T
	hc  *http.Client
	rp  string
	end *url.URL
}

func newBrowser(t *testing.T, redirect string) *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, rp: redirect}
	b.hc = &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), redirect) {
			b.end = req.URL
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return b
}

func (b *browser) get(u string) (*http.Response, string) {
	b.t.Helper()
	res, err := b.hc.Get(u)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

func (b *browser) post(u string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	res, err := b.hc.PostForm(u, form)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

// logIn runs the browser part of the code flow: the authorization URL, the
// login page, the consent page if shown. It returns the code (or the
// error the relying party received) and the last page.
func (b *browser) logIn(base, authURL, pid, password string) (code, rpError, page string, status int) {
	b.t.Helper()
	b.end = nil
	res, page := b.get(authURL)
	if b.end != nil {
		return b.end.Query().Get("code"), b.end.Query().Get("error"), page, res.StatusCode
	}
	if res.StatusCode != 200 || !strings.Contains(res.Request.URL.Path, "/login") {
		return "", "", page, res.StatusCode
	}
	id := res.Request.URL.Query().Get("id")
	res, page = b.post(base+"/login", url.Values{"id": {id}, "pid": {pid}, "password": {password}, "lang": {"en"}})
	if b.end == nil && res.StatusCode == 200 && strings.Contains(page, `name="decision"`) {
		res, page = b.post(base+"/login/consent", url.Values{"id": {id}, "decision": {"allow"}})
	}
	if b.end != nil {
		return b.end.Query().Get("code"), b.end.Query().Get("error"), page, res.StatusCode
	}
	return "", "", page, res.StatusCode
}

func TestOpenIDEndToEnd(t *testing.T) {
	for _, engine := range sqldbtest.EngineNames() {
		t.Run(engine, func(t *testing.T) { openIDEndToEnd(t, sqldbtest.URL(t, engine)) })
	}
}

func openIDEndToEnd(t *testing.T, dbURL string) {
	ctx := context.Background()
	srv := startServer(t, dbURL)
	admin := login(t, srv.URL, "admin", adminPassword)
	const pid, phone = "001090012345", "0912345678"
	password := citizenWithAccount(t, admin, pid, "Nguyễn Văn An", "1990-03-04", "male", phone)

	// Two relying parties: a portal (level 1) and one that needs level 2.
	redirect := "http://127.0.0.1:9/callback"
	var portal, strict struct {
		Client struct{ ID string }
		Secret string
	}
	admin.must(201, "POST", "/api/v1/oidc/clients", map[string]any{"id": "portal", "name": "Cổng dịch vụ công", "type": "web",
		"redirect_uris": []string{redirect}, "post_logout_redirect_uris": []string{"http://127.0.0.1:9/bye"},
		"scopes": []string{"profile", "pid", "phone", "offline_access"}}).json(t, &portal)
	admin.must(201, "POST", "/api/v1/oidc/clients", map[string]any{"id": "bank", "name": "Ngân hàng", "type": "web", "min_level": 2,
		"redirect_uris": []string{redirect}, "scopes": []string{"profile"}}).json(t, &strict)
	expectProblem(t, admin.do("POST", "/api/v1/oidc/clients", map[string]any{"id": "x", "name": "", "type": "web"}), 422, "body.id")

	provider, err := oidc.NewProvider(ctx, srv.URL)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	cfg := oauth2.Config{ClientID: "portal", ClientSecret: portal.Secret, Endpoint: provider.Endpoint(), RedirectURL: redirect,
		Scopes: []string{oidc.ScopeOpenID, "profile", "pid", "phone", oidc.ScopeOfflineAccess}}
	verifier := oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier), oidc.Nonce("nonce-1"))
	b := newBrowser(t, redirect)
	code, rpErr, page, status := b.logIn(srv.URL, authURL, pid, password)
	if code == "" {
		t.Fatalf("no code (error %q, status %d): %s", rpErr, status, page)
	}
	if got := b.end.Query().Get("state"); got != "state-1" {
		t.Errorf("state %q", got)
	}
	// A wrong PKCE verifier fails; the right one works once.
	if _, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
		t.Fatal("exchange with a wrong PKCE verifier succeeded")
	}
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if _, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier)); err == nil {
		t.Fatal("a used code was accepted again")
	}
	// The second redemption revoked what the first one issued (RFC 6749
	// §4.1.2): someone else has the code.
	if _, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Fatal("the access token of a code redeemed twice still works")
	}
	if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
		t.Fatal("the refresh token of a code redeemed twice still works")
	}
	// The browser's single sign-on session logs in again without a password.
	verifier = oauth2.GenerateVerifier()
	code, _, page, _ = b.logIn(srv.URL, cfg.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier), oidc.Nonce("nonce-1")), pid, "not needed")
	if code == "" {
		t.Fatalf("no code from the single sign-on session: %s", page)
	}
	if tok, err = cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier)); err != nil {
		t.Fatalf("exchange: %v", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: "portal"}).Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	var claims struct {
		Nonce string `json:"nonce"`
		ACR   string `json:"acr"`
	}
	idt.Claims(&claims)
	if claims.Nonce != "nonce-1" || claims.ACR != "urn:dancu:loa:1" || idt.Subject == "" || idt.Subject == pid {
		t.Errorf("ID token: sub %q, claims %+v", idt.Subject, claims)
	}
	info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	var profile map[string]any
	info.Claims(&profile)
	if profile["name"] != "Nguyễn Văn An" || profile["pid"] != pid || profile["birthdate"] != "1990-03-04" || profile["phone_number"] != phone || info.Subject != idt.Subject {
		t.Errorf("userinfo: %v", profile)
	}
	// The citizen's API takes the access token: consents are listed.
	me := &client{t: t, base: srv.URL, token: tok.AccessToken}
	var consents []struct {
		ClientID string `json:"client_id"`
		Scopes   []string
	}
	me.must(200, "GET", "/api/v1/me/consents", nil).json(t, &consents)
	if len(consents) != 1 || consents[0].ClientID != "portal" {
		t.Errorf("consents: %+v", consents)
	}

	// Refresh rotates; the old refresh token used again revokes the family.
	refreshed, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if refreshed.RefreshToken == "" || refreshed.RefreshToken == tok.RefreshToken || refreshed.AccessToken == tok.AccessToken {
		t.Fatalf("refresh did not rotate: %+v", refreshed)
	}
	if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
		t.Fatal("a used refresh token was accepted")
	}
	if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshed.RefreshToken}).Token(); err == nil {
		t.Fatal("after reuse, the family's newest refresh token still works")
	}

	// A second login remembers the consent: no consent page, straight back.
	verifier = oauth2.GenerateVerifier()
	code, _, page, _ = b.logIn(srv.URL, cfg.AuthCodeURL("state-2", oauth2.S256ChallengeOption(verifier)), pid, password)
	if code == "" {
		t.Fatalf("second login: %s", page)
	}
	tok2, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	// Log out everywhere ends that login's tokens.
	me.token = tok2.AccessToken
	me.must(204, "POST", "/api/v1/eid/accounts/"+pid+"/logout-everywhere", nil)
	if _, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok2)); err == nil {
		t.Error("userinfo works after log out everywhere")
	}
	if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok2.RefreshToken}).Token(); err == nil {
		t.Error("refresh works after log out everywhere")
	}

	// A redirect URI that is not registered: the provider does not redirect.
	bad := cfg
	bad.RedirectURL = "http://127.0.0.1:9/evil"
	res, _ := newBrowser(t, "http://127.0.0.1:9/").get(bad.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
	if res.StatusCode == http.StatusFound || res.Request.URL.Path == "/evil" {
		t.Errorf("unregistered redirect URI: status %d at %s", res.StatusCode, res.Request.URL)
	}

	// A level-1 login to a client that needs level 2: a clear refusal, and
	// the relying party gets access_denied, never a code.
	bank := oauth2.Config{ClientID: "bank", ClientSecret: strict.Secret, Endpoint: provider.Endpoint(), RedirectURL: redirect, Scopes: []string{oidc.ScopeOpenID}}
	code, _, page, status = b.logIn(srv.URL, bank.AuthCodeURL("s3", oauth2.S256ChallengeOption(verifier)), pid, password)
	if code != "" || status != http.StatusForbidden || !strings.Contains(page, "level-2") {
		t.Fatalf("level-1 login to a level-2 client: code %q, status %d: %s", code, status, page)
	}
	id := regexp.MustCompile(`name="id" value="([^"]+)"`).FindStringSubmatch(page)
	if id == nil {
		t.Fatalf("no way back to the client on the refusal page: %s", page)
	}
	b.end = nil
	b.post(srv.URL+"/login/cancel", url.Values{"id": {id[1]}})
	if b.end == nil || b.end.Query().Get("error") != "access_denied" || b.end.Query().Get("code") != "" {
		t.Errorf("after the refusal the client got %v", b.end)
	}

	// Wrong passwords: after five, tries from this address wait a while,
	// even with the right password (the throttle's rules: internal/access).
	for i := 0; i < 5; i++ {
		_, _, _, status = b.logIn(srv.URL, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), pid, "Wrong-pass1!")
		if status != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: status %d", i, status)
		}
	}
	_, _, page, status = b.logIn(srv.URL, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), pid, password)
	if status != http.StatusTooManyRequests {
		t.Fatalf("right password after 5 failures: status %d: %s", status, page)
	}
	// An officer's lock and unlock clears the wait; a locked account cannot log in.
	admin.must(200, "POST", "/api/v1/eid/accounts/"+pid+"/lock", map[string]string{"reason": "reported stolen phone"})
	admin.must(200, "POST", "/api/v1/eid/accounts/"+pid+"/unlock", nil)
	admin.must(200, "POST", "/api/v1/eid/accounts/"+pid+"/lock", map[string]string{"reason": "reported stolen phone"})
	_, _, page, status = b.logIn(srv.URL, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), pid, password)
	if status != http.StatusForbidden || !strings.Contains(page, "locked") {
		t.Fatalf("locked account: status %d: %s", status, page)
	}
	admin.must(200, "POST", "/api/v1/eid/accounts/"+pid+"/unlock", nil)
	if code, _, page, _ = b.logIn(srv.URL, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), pid, password); code == "" {
		t.Fatalf("login after unlock: %s", page)
	}

	// An authenticator app as second factor: set up with the citizen's
	// token, then every login asks for a code after the password; a wrong
	// or replayed code is refused.
	tok3, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	me.token = tok3.AccessToken
	var enrol struct{ Secret, URL string }
	me.must(200, "POST", "/api/v1/me/totp", nil).json(t, &enrol)
	if !strings.HasPrefix(enrol.URL, "otpauth://totp/") {
		t.Fatalf("enrolment %+v", enrol)
	}
	expectProblem(t, me.do("POST", "/api/v1/me/totp/confirm", map[string]string{"code": "000000"}), 422, "body.code")
	now := time.Now()
	first, _ := totp.GenerateCode(enrol.Secret, now)
	me.must(204, "POST", "/api/v1/me/totp/confirm", map[string]string{"code": first})
	verifier = oauth2.GenerateVerifier()
	b.end = nil
	// prompt=login: the browser's session would otherwise log in without a password.
	res, _ = b.get(cfg.AuthCodeURL("s4", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("prompt", "login")))
	id4 := res.Request.URL.Query().Get("id")
	_, page = b.post(srv.URL+"/login", url.Values{"id": {id4}, "pid": {pid}, "password": {password}, "lang": {"en"}})
	if !strings.Contains(page, "Two-step verification") || b.end != nil {
		t.Fatalf("no second-factor page after the password: %s", page)
	}
	if res, _ := b.post(srv.URL+"/login/consent", url.Values{"id": {id4}, "decision": {"allow"}}); res.StatusCode != 403 || b.end != nil {
		t.Fatalf("consent before the second factor: %d", res.StatusCode)
	}
	if res, _ := b.post(srv.URL+"/login/otp", url.Values{"id": {id4}, "code": {first}}); res.StatusCode != 401 || b.end != nil {
		t.Fatalf("a replayed code: %d", res.StatusCode)
	}
	next, _ := totp.GenerateCode(enrol.Secret, now.Add(30*time.Second))
	b.post(srv.URL+"/login/otp", url.Values{"id": {id4}, "code": {next}})
	if b.end == nil || b.end.Query().Get("code") == "" {
		t.Fatalf("no code after the second factor")
	}
	tok4, err := cfg.Exchange(ctx, b.end.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	idt4, err := provider.Verifier(&oidc.Config{ClientID: "portal"}).Verify(ctx, tok4.Extra("id_token").(string))
	if err != nil {
		t.Fatal(err)
	}
	var amr struct{ AMR []string }
	idt4.Claims(&amr)
	if strings.Join(amr.AMR, " ") != "pwd otp" {
		t.Errorf("amr after two factors: %v", amr.AMR)
	}

	// A child under 14 is attached to the parent's account; a stranger is not.
	me.token = tok4.AccessToken
	var child struct{ PID string }
	admin.must(201, "POST", "/api/v1/births", map[string]any{"name": map[string]string{"family": "Nguyễn", "middle": "Minh", "given": "Khang"},
		"birth_date": "2020-05-06", "sex": "male", "birth_registration_place": map[string]string{"commune": "00004"},
		"father": map[string]string{"pid": pid}, "permanent_residence": map[string]string{"commune": "00004"},
		"reason": "birth registration", "legal_basis": "Luật Hộ tịch 2014"}).json(t, &child)
	me.must(201, "POST", "/api/v1/me/dependants", map[string]string{"pid": child.PID})
	var deps []string
	me.must(200, "GET", "/api/v1/me/dependants", nil).json(t, &deps)
	if len(deps) != 1 || deps[0] != child.PID {
		t.Errorf("dependants %v", deps)
	}
	expectProblem(t, me.do("POST", "/api/v1/me/dependants", map[string]string{"pid": "079080111222"}), 422, "body.pid")

	// An organisation needs a level-2 representative: after an in-person
	// level-2 application the citizen registers one, confirmed by passcode.
	org := map[string]string{"name": "Công ty TNHH Bình An", "registration_number": "0101234567", "founded": "2015-03-01",
		"commune": "00004", "address": "Phố Phan Đình Phùng 12", "passcode": "240719"}
	if r := me.do("POST", "/api/v1/me/organisations", org); r.Status != 403 {
		t.Fatalf("organisation by a level-1 account: %d %s", r.Status, r.Body)
	}
	fp := map[string]any{"kind": "fingerprint", "position": 2, "format": "ISO/IEC 19794-2:2005", "data": base64.StdEncoding.EncodeToString([]byte("minutiae"))}
	face := map[string]any{"kind": "face", "format": "image/jpeg", "data": base64.StdEncoding.EncodeToString([]byte("portrait"))}
	var l2 struct{ ID string }
	admin.must(201, "POST", "/api/v1/eid/counter-applications", map[string]any{"pid": pid, "phone": phone, "card_status": "valid",
		"biometrics": []any{face, fp}}).json(t, &l2)
	admin.must(200, "POST", "/api/v1/eid/applications/"+l2.ID+"/decision", map[string]any{"approve": true})
	wrongPasscode := map[string]string{}
	for k, v := range org {
		wrongPasscode[k] = v
	}
	wrongPasscode["passcode"] = "999999"
	expectProblem(t, me.do("POST", "/api/v1/me/organisations", wrongPasscode), 422, "body.passcode")
	var o struct{ ID, State string }
	me.must(201, "POST", "/api/v1/me/organisations", org).json(t, &o)
	expectProblem(t, me.do("POST", "/api/v1/me/organisations", org), 422, "body.registration_number")
	admin.must(200, "POST", "/api/v1/eid/organisations/"+o.ID+"/decision", map[string]any{"approve": true})
	me.must(200, "GET", "/api/v1/eid/organisations/"+o.ID, nil).json(t, &o)
	if o.State != "approved" {
		t.Errorf("organisation %+v", o)
	}

	// A passkey: added through the API on the provider's origin (WebAuthn
	// needs a host name, so "localhost"), then a login with it alone.
	local := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	pk := &client{t: t, base: local, token: tok4.AccessToken}
	var begin struct {
		Options  map[string]any
		Ceremony string
	}
	pk.must(200, "POST", "/api/v1/me/passkeys/options", nil).json(t, &begin)
	optsJSON, _ := json.Marshal(begin.Options)
	attOpts, err := virtualwebauthn.ParseAttestationOptions(string(optsJSON))
	if err != nil {
		t.Fatalf("registration options %s: %v", optsJSON, err)
	}
	rp := virtualwebauthn.RelyingParty{ID: "localhost", Name: "dancu e-ID", Origin: local}
	authn := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserHandle: []byte(attOpts.UserID)})
	cred := passkeyCredential(t)
	var att map[string]any
	json.Unmarshal([]byte(virtualwebauthn.CreateAttestationResponse(rp, authn, cred, *attOpts)), &att)
	// A replayed ceremony, or an answer for another origin, is refused.
	wrongRP := virtualwebauthn.RelyingParty{ID: "localhost", Name: "x", Origin: "http://localhost:1"}
	var wrongAtt map[string]any
	json.Unmarshal([]byte(virtualwebauthn.CreateAttestationResponse(wrongRP, authn, cred, *attOpts)), &wrongAtt)
	expectProblem(t, pk.do("POST", "/api/v1/me/passkeys", map[string]any{"ceremony": begin.Ceremony, "name": "phone", "credential": wrongAtt}), 422, "body.credential")
	pk.must(200, "POST", "/api/v1/me/passkeys/options", nil).json(t, &begin)
	attOpts, _ = virtualwebauthn.ParseAttestationOptions(string(must(json.Marshal(begin.Options))))
	json.Unmarshal([]byte(virtualwebauthn.CreateAttestationResponse(rp, authn, cred, *attOpts)), &att)
	pk.must(201, "POST", "/api/v1/me/passkeys", map[string]any{"ceremony": begin.Ceremony, "name": "điện thoại", "credential": att})
	expectProblem(t, pk.do("POST", "/api/v1/me/passkeys", map[string]any{"ceremony": begin.Ceremony, "name": "again", "credential": att}), 422, "body.ceremony")
	authn.AddCredential(cred)

	lb := newBrowser(t, redirect)
	verifier = oauth2.GenerateVerifier()
	res, _ = lb.get(cfg.AuthCodeURL("s5", oauth2.S256ChallengeOption(verifier)))
	id5 := res.Request.URL.Query().Get("id")
	passkeyLogin := func(a virtualwebauthn.Authenticator) (int, map[string]string) {
		ores, err := lb.hc.Post(local+"/login/passkey/options?id="+url.QueryEscape(id5), "", nil)
		if err != nil {
			t.Fatal(err)
		}
		var o struct {
			Options  map[string]any
			Ceremony string
		}
		json.NewDecoder(ores.Body).Decode(&o)
		ores.Body.Close()
		asOpts, err := virtualwebauthn.ParseAssertionOptions(string(must(json.Marshal(o.Options))))
		if err != nil {
			t.Fatal(err)
		}
		var assertion map[string]any
		json.Unmarshal([]byte(virtualwebauthn.CreateAssertionResponse(rp, a, cred, *asOpts)), &assertion)
		body, _ := json.Marshal(map[string]any{"id": id5, "ceremony": o.Ceremony, "credential": assertion})
		fres, err := lb.hc.Post(local+"/login/passkey", "application/json", strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		defer fres.Body.Close()
		var out map[string]string
		json.NewDecoder(fres.Body).Decode(&out)
		return fres.StatusCode, out
	}
	// An authenticator that does not verify the user is refused.
	noUV := authn
	noUV.Options.UserNotVerified = true
	if status, out := passkeyLogin(noUV); status != 401 || out["next"] != "" {
		t.Fatalf("passkey without user verification: %d %v", status, out)
	}
	status, out := passkeyLogin(authn)
	if status != 200 || out["next"] == "" {
		t.Fatalf("passkey login: %d %v", status, out)
	}
	lb.end = nil
	lb.get(local + out["next"])
	if lb.end == nil || lb.end.Query().Get("code") == "" {
		t.Fatal("no code after the passkey login")
	}
	tok5, err := cfg.Exchange(ctx, lb.end.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	idt5, err := provider.Verifier(&oidc.Config{ClientID: "portal", SkipIssuerCheck: true}).Verify(ctx, tok5.Extra("id_token").(string))
	if err != nil {
		t.Fatal(err)
	}
	idt5.Claims(&amr)
	if strings.Join(amr.AMR, " ") != "hwk user" || idt5.Subject != idt.Subject {
		t.Errorf("passkey login: amr %v, sub %s", amr.AMR, idt5.Subject)
	}

	// Withdrawing the consent ends the client's tokens, and the next login
	// asks again.
	me.token = tok5.AccessToken
	expectProblem(t, me.do("POST", "/api/v1/me/totp/disable", map[string]string{"passcode": "111111"}), 422, "body.passcode")
	me.must(204, "POST", "/api/v1/me/totp/disable", map[string]string{"passcode": "240719"})
	me.must(204, "DELETE", "/api/v1/me/consents/portal", nil)
	if _, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok5)); err == nil {
		t.Error("userinfo works after the consent was withdrawn")
	}
	verifier = oauth2.GenerateVerifier()
	b.end = nil
	res, _ = b.get(cfg.AuthCodeURL("s6", oauth2.S256ChallengeOption(verifier)))
	id6 := res.Request.URL.Query().Get("id")
	_, page = b.post(srv.URL+"/login", url.Values{"id": {id6}, "pid": {pid}, "password": {password}})
	if !strings.Contains(page, `name="decision"`) || b.end != nil {
		t.Fatalf("no consent page after the consent was withdrawn: %s", page)
	}
	b.post(srv.URL+"/login/consent", url.Values{"id": {id6}, "decision": {"allow"}})
	tok6, err := cfg.Exchange(ctx, b.end.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	// RP-initiated logout: back to the registered address, tokens ended.
	b.end = nil
	lo := newBrowser(t, "http://127.0.0.1:9/bye")
	lo.get(srv.URL + "/end_session?" + url.Values{"id_token_hint": {tok6.Extra("id_token").(string)}, "client_id": {"portal"},
		"post_logout_redirect_uri": {"http://127.0.0.1:9/bye"}, "state": {"bye-1"}}.Encode())
	if lo.end == nil || lo.end.Query().Get("state") != "bye-1" {
		t.Fatalf("end_session did not return to the client: %v", lo.end)
	}
	if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok6.RefreshToken}).Token(); err == nil {
		t.Error("refresh works after logout")
	}

	// Client credentials for an agency service.
	var svc struct {
		Client struct{ ID string }
		Secret string
	}
	admin.must(201, "POST", "/api/v1/oidc/clients", map[string]any{"id": "bhxh", "name": "Bảo hiểm xã hội", "type": "service"}).json(t, &svc)
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"openid"}}
	req, _ := http.NewRequest("POST", provider.Endpoint().TokenURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("bhxh", svc.Secret)
	cres, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var cc struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	json.NewDecoder(cres.Body).Decode(&cc)
	cres.Body.Close()
	if cres.StatusCode != 200 || strings.Count(cc.AccessToken, ".") != 2 {
		t.Fatalf("client credentials: %d %+v", cres.StatusCode, cc)
	}
	req, _ = http.NewRequest("POST", provider.Endpoint().TokenURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("bhxh", "wrong")
	if cres, err = http.DefaultClient.Do(req); err != nil || cres.StatusCode < 400 {
		t.Fatalf("client credentials with a wrong secret: %v %v", cres.StatusCode, err)
	}
	cres.Body.Close()
	_ = errors.New
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// passkeyCredential makes a virtual authenticator's EC2 credential whose
// coordinates are full 32-byte values: the library encodes them without
// leading zeros, which a verifier rightly refuses about one time in 64.
func passkeyCredential(t *testing.T) virtualwebauthn.Credential {
	for {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if len(k.X.Bytes()) != 32 || len(k.Y.Bytes()) != 32 {
			continue
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return virtualwebauthn.NewCredentialWithImportedKey(virtualwebauthn.KeyTypeEC2, der)
	}
}
