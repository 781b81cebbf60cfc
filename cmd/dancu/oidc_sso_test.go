package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// TestOpenIDSingleSignOn drives the provider as two independent relying
// parties would, with go-oidc: the second logs in through the first's
// session without a password; ID tokens verify (RS256 by default, ES256
// by registration) with auth_time, acr and sid; prompt=none without a
// session answers login_required; RP-initiated logout at one ends the
// session and the other receives a back-channel logout token.
func TestOpenIDSingleSignOn(t *testing.T) {
	for _, engine := range sqldbtest.EngineNames() {
		t.Run(engine, func(t *testing.T) { openIDSingleSignOn(t, sqldbtest.URL(t, engine)) })
	}
}

func openIDSingleSignOn(t *testing.T, dbURL string) {
	ctx := context.Background()
	srv := startServer(t, dbURL)
	admin := login(t, srv.URL, "admin", adminPassword)
	const pid, phone = "001090012346", "0912345679"
	password := citizenWithAccount(t, admin, pid, "Trần Văn Bình", "1990-03-04", "male", phone)

	logouts := make(chan string, 4)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		logouts <- r.PostForm.Get("logout_token")
	}))
	defer receiver.Close()
	redirect := "http://127.0.0.1:9/callback"
	type registered struct {
		Client struct{ ID string }
		Secret string
	}
	var a, b registered
	admin.must(201, "POST", "/api/v1/oidc/clients", map[string]any{"id": "rp-one", "name": "Cổng một", "type": "web",
		"redirect_uris": []string{redirect}, "scopes": []string{"profile"}, "backchannel_logout_uri": receiver.URL + "/logout"}).json(t, &a)
	admin.must(201, "POST", "/api/v1/oidc/clients", map[string]any{"id": "rp-two", "name": "Cổng hai", "type": "web",
		"redirect_uris": []string{redirect}, "post_logout_redirect_uris": []string{"http://127.0.0.1:9/bye"}, "scopes": []string{"profile"},
		"id_token_signed_response_alg": "ES256"}).json(t, &b)

	provider, err := oidc.NewProvider(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	one := oauth2.Config{ClientID: "rp-one", ClientSecret: a.Secret, Endpoint: provider.Endpoint(), RedirectURL: redirect, Scopes: []string{oidc.ScopeOpenID, "profile"}}
	two := oauth2.Config{ClientID: "rp-two", ClientSecret: b.Secret, Endpoint: provider.Endpoint(), RedirectURL: redirect, Scopes: []string{oidc.ScopeOpenID, "profile"}}
	br := newBrowser(t, redirect)

	// prompt=none before any login: login_required, back at the client.
	verifier := oauth2.GenerateVerifier()
	code, rpErr, _, _ := br.logIn(srv.URL, one.AuthCodeURL("s0", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("prompt", "none")), pid, password)
	if code != "" || rpErr != "login_required" || br.end.Query().Get("iss") != srv.URL {
		t.Fatalf("prompt=none without a session: code %q error %q (%v)", code, rpErr, br.end)
	}

	verify := func(cfg oauth2.Config, code, verifier, alg string) (*oidc.IDToken, *oauth2.Token) {
		t.Helper()
		tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("%s: exchange: %v", cfg.ClientID, err)
		}
		raw, _ := tok.Extra("id_token").(string)
		idt, err := provider.Verifier(&oidc.Config{ClientID: cfg.ClientID, SupportedSigningAlgs: []string{alg}}).Verify(ctx, raw)
		if err != nil {
			t.Fatalf("%s: the %s ID token does not verify: %v", cfg.ClientID, alg, err)
		}
		return idt, tok
	}
	start := time.Now().Truncate(time.Second)
	verifier = oauth2.GenerateVerifier()
	code, _, page, _ := br.logIn(srv.URL, one.AuthCodeURL("s1", oauth2.S256ChallengeOption(verifier)), pid, password)
	if code == "" {
		t.Fatalf("login at rp-one: %s", page)
	}
	idOne, _ := verify(one, code, verifier, "RS256")

	// rp-two: no password, only its consent.
	verifier = oauth2.GenerateVerifier()
	br.end = nil
	res, page := br.get(two.AuthCodeURL("s2", oauth2.S256ChallengeOption(verifier)))
	if br.end != nil || !strings.Contains(page, `name="decision"`) || strings.Contains(page, `name="password"`) {
		t.Fatalf("rp-two did not go straight to its consent page (%d %s): %s", res.StatusCode, res.Request.URL, page)
	}
	br.post(srv.URL+"/login/consent", url.Values{"id": {res.Request.URL.Query().Get("id")}, "decision": {"allow"}})
	if br.end == nil || br.end.Query().Get("code") == "" {
		t.Fatalf("rp-two got no code: %v", br.end)
	}
	idTwo, tokTwo := verify(two, br.end.Query().Get("code"), verifier, "ES256")
	var c1, c2 struct {
		ACR      string `json:"acr"`
		AuthTime int64  `json:"auth_time"`
		SID      string `json:"sid"`
	}
	idOne.Claims(&c1)
	idTwo.Claims(&c2)
	if c1.ACR != "urn:dancu:loa:1" || c2.ACR != c1.ACR || c1.AuthTime < start.Unix() || c2.AuthTime != c1.AuthTime || c1.SID == "" || c2.SID != c1.SID {
		t.Errorf("ID tokens of one session: %+v and %+v", c1, c2)
	}

	// RP-initiated logout at rp-two ends the session; rp-one hears of it.
	lo := newBrowser(t, "http://127.0.0.1:9/bye")
	lo.hc.Jar = br.hc.Jar
	lo.get(srv.URL + "/end_session?" + url.Values{"id_token_hint": {tokTwo.Extra("id_token").(string)},
		"post_logout_redirect_uri": {"http://127.0.0.1:9/bye"}, "state": {"bye"}}.Encode())
	if lo.end == nil || lo.end.Query().Get("state") != "bye" {
		t.Fatalf("end_session: %v", lo.end)
	}
	select {
	case lt := <-logouts:
		// The logout token verifies with the provider's keys like an ID
		// token (without nonce), for rp-one, naming the session.
		tok, err := provider.Verifier(&oidc.Config{ClientID: "rp-one", SkipExpiryCheck: true}).Verify(ctx, lt)
		if err != nil {
			t.Fatalf("logout token: %v", err)
		}
		var lc struct {
			SID    string         `json:"sid"`
			Events map[string]any `json:"events"`
		}
		tok.Claims(&lc)
		if lc.SID != c1.SID || lc.Events["http://schemas.openid.net/event/backchannel-logout"] == nil || tok.Subject != idOne.Subject {
			t.Errorf("logout token claims %+v sub %s", lc, tok.Subject)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("rp-one received no back-channel logout")
	}
	verifier = oauth2.GenerateVerifier()
	_, _, page, _ = br.logIn(srv.URL, one.AuthCodeURL("s3", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("prompt", "none")), pid, password)
	if br.end == nil || br.end.Query().Get("error") != "login_required" {
		t.Fatalf("after logout prompt=none still logs in: %v %.200s", br.end, page)
	}
}
