package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"io"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// demoPortal is a tiny relying party inside the demo server: it shows a
// public-service portal's side of single sign-on (code flow with PKCE,
// then userinfo), for the demo clients. It is mounted only with --demo.
type demoPortal struct{ base string }

var demoPortalPage = template.Must(template.New("portal").Parse(`<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Cổng dịch vụ công (demo)</title>
<style>body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1d2330}
a.button{display:inline-block;margin:.4rem .4rem .4rem 0;padding:.6rem 1rem;background:#b3261e;color:#fff;border-radius:6px;text-decoration:none}
a.alt{background:#38598b}pre{background:#f4f5f7;padding:1rem;border-radius:6px;overflow:auto}.error{color:#8a1c12}</style></head>
<body><h1>Cổng dịch vụ công (demo) — a relying party</h1>
<p>This page plays a public-service portal that logs citizens in with their e-ID through the dancu OpenID provider
(authorization code with PKCE). Demo accounts are printed when <code>dancu serve --demo</code> starts.</p>
<p><a class="button" href="/demo/portal/start?client=demo-portal">Đăng nhập bằng định danh điện tử (level 1 or 2)</a>
<a class="button alt" href="/demo/portal/start?client=demo-bank">Bank: needs level 2</a></p>
{{if .Error}}<p class="error">The provider answered: {{.Error}}</p>{{end}}
{{if .Userinfo}}<h2>Userinfo (what the citizen agreed to share)</h2><pre id="userinfo">{{.Userinfo}}</pre>
<h2>ID token claims</h2><pre id="idtoken">{{.IDToken}}</pre>
<h2>Passkey</h2>
<p>Add a passkey for this account, then log in again with it alone (the citizen's access token calls
<code>/api/v1/me/passkeys</code>; the browser's authenticator makes the key).</p>
<p><a class="button alt" href="#" id="add-passkey" data-token="{{.AccessToken}}">Add a passkey</a> <span id="passkey-status"></span></p>
<script>
(function () {
  const b = document.getElementById('add-passkey'), out = document.getElementById('passkey-status');
  const dec = s => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(s.length / 4) * 4, '=')), c => c.charCodeAt(0));
  const enc = buf => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  b.addEventListener('click', async ev => {
    ev.preventDefault();
    try {
      const auth = {'Authorization': 'Bearer ' + b.dataset.token};
      const r = await fetch('/api/v1/me/passkeys/options', {method: 'POST', headers: auth});
      const {options, ceremony} = await r.json();
      const pk = options.publicKey;
      pk.challenge = dec(pk.challenge);
      pk.user.id = dec(pk.user.id);
      (pk.excludeCredentials || []).forEach(c => c.id = dec(c.id));
      const cred = await navigator.credentials.create({publicKey: pk});
      const credential = {id: cred.id, rawId: enc(cred.rawId), type: cred.type, response: {
        clientDataJSON: enc(cred.response.clientDataJSON), attestationObject: enc(cred.response.attestationObject)}};
      const f = await fetch('/api/v1/me/passkeys', {method: 'POST', headers: {...auth, 'Content-Type': 'application/json'},
        body: JSON.stringify({ceremony, name: 'this browser', credential})});
      out.textContent = f.ok ? 'passkey added' : 'refused: ' + await f.text();
    } catch (e) { out.textContent = String(e); }
  });
})();
</script>{{end}}
</body></html>`))

func (p demoPortal) config(r *http.Request, client string) oauth2.Config {
	base := p.base
	scopes := []string{"openid", "profile", "pid", "phone", "address"}
	if client == "demo-bank" {
		scopes = []string{"openid", "profile", "pid"}
	}
	return oauth2.Config{ClientID: client, RedirectURL: base + "/demo/portal/callback", Scopes: scopes,
		Endpoint: oauth2.Endpoint{AuthURL: base + "/authorize", TokenURL: base + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams}}
}

func (p demoPortal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	switch r.URL.Path {
	case "/demo/portal":
		demoPortalPage.Execute(w, nil)
	case "/demo/portal/start":
		client := r.URL.Query().Get("client")
		if client != "demo-portal" && client != "demo-bank" {
			http.Error(w, "unknown demo client", http.StatusBadRequest)
			return
		}
		state, verifier := oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
		http.SetCookie(w, &http.Cookie{Name: "demo_rp", Value: state + "." + verifier + "." + client, Path: "/demo/portal", HttpOnly: true,
			SameSite: http.SameSiteLaxMode, MaxAge: 900})
		cfg := p.config(r, client)
		opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("ui_locales", "vi")}
		switch prompt := r.URL.Query().Get("prompt"); prompt {
		case "login", "none", "consent":
			opts = append(opts, oauth2.SetAuthURLParam("prompt", prompt)) // e.g. log in again despite the single sign-on session
		}
		http.Redirect(w, r, cfg.AuthCodeURL(state, opts...), http.StatusFound)
	case "/demo/portal/callback":
		var d struct{ Error, Userinfo, IDToken, AccessToken string }
		c, err := r.Cookie("demo_rp")
		parts := []string{}
		if err == nil {
			parts = strings.Split(c.Value, ".")
		}
		switch {
		case r.URL.Query().Get("error") != "":
			d.Error = r.URL.Query().Get("error") + ": " + r.URL.Query().Get("error_description")
		case len(parts) != 3 || r.URL.Query().Get("state") != parts[0]:
			d.Error = "the state does not match this browser's login"
		default:
			d.Userinfo, d.IDToken, d.AccessToken, err = p.finish(r, parts[2], parts[1])
			if err != nil {
				d.Error = err.Error()
			}
		}
		demoPortalPage.Execute(w, d)
	default:
		http.NotFound(w, r)
	}
}

// finish redeems the code and reads userinfo.
func (p demoPortal) finish(r *http.Request, client, verifier string) (string, string, string, error) {
	cfg := p.config(r, client)
	hc := &http.Client{Timeout: 10 * time.Second}
	ctx := contextWithClient(r, hc)
	tok, err := cfg.Exchange(ctx, r.URL.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		return "", "", "", err
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", p.base+"/userinfo", nil)
	tok.SetAuthHeader(req)
	res, err := hc.Do(req)
	if err != nil {
		return "", "", "", err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	idToken := ""
	if raw, ok := tok.Extra("id_token").(string); ok {
		if seg := strings.Split(raw, "."); len(seg) == 3 {
			if b, err := base64.RawURLEncoding.DecodeString(seg[1]); err == nil {
				idToken = indent(b)
			}
		}
	}
	return indent(body), idToken, tok.AccessToken, nil
}

func indent(b []byte) string {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return string(b)
	}
	out, _ := json.MarshalIndent(v, "", "  ")
	return string(out)
}

func contextWithClient(r *http.Request, hc *http.Client) context.Context {
	return context.WithValue(r.Context(), oauth2.HTTPClient, hc)
}
