package sso

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/registry"
)

const testPassword = "Hoa-sen-2026"

var citizenSeq atomic.Int64

// newCitizen registers a person and gives them an active e-ID account of
// the level with testPassword, through the real e-ID path.
func newCitizen(t *testing.T, s *Service, level eid.Level) string {
	t.Helper()
	n := citizenSeq.Add(1)
	prefix, err := personalid.Prefix("001", personalid.Male, 1990)
	if err != nil {
		t.Fatal(err)
	}
	pid, phone := fmt.Sprintf("%s%06d", prefix, n), fmt.Sprintf("09%08d", n)
	rec := registry.LegacyRecord{PID: pid, Details: registry.Details{Name: registry.Name{Family: "Nguyễn", Middle: "Văn", Given: "An"},
		BirthDate: "1990-05-17", Sex: personalid.Male, PermanentResidence: &registry.Address{Commune: "00004", Detail: "số 12 ngõ 5"}}}
	if _, err := s.registry.RegisterExisting(admin, rec); err != nil {
		t.Fatal(err)
	}
	face := eid.Biometric{Kind: "face", Format: "image/jpeg", Data: []byte("portrait of " + pid)}
	var app eid.Application
	if level == eid.Level1 {
		app, err = s.eid.ApplySelf(context.Background(), eid.SelfApplication{PID: pid, Name: "Nguyễn Văn An", BirthDate: "1990-05-17", Sex: "male",
			Phone: phone, Email: "an@example.vn", Face: face})
	} else {
		app, err = s.eid.ApplyAtCounter(admin, eid.CounterApplication{PID: pid, Phone: phone, CardStatus: eid.CardValid,
			Biometrics: []eid.Biometric{face, {Kind: "fingerprint", Position: 2, Format: "ISO/IEC 19794-2:2005", Data: []byte("thumb")}}})
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.eid.Decide(admin, app.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.eid.StartActivation(context.Background(), pid, phone); err != nil {
		t.Fatal(err)
	}
	// The code as the citizen's phone gets it: through the message gateway.
	gw := &handset{to: phone}
	if _, err := s.eid.DeliverMessages(context.Background(), gw, 100); err != nil {
		t.Fatal(err)
	}
	code := regexp.MustCompile(`code is (\d{6})`).FindStringSubmatch(gw.last)
	if code == nil {
		t.Fatalf("no code in %q", gw.last)
	}
	if _, err := s.eid.Activate(context.Background(), eid.Activation{PID: pid, Code: code[1], Password: testPassword, Passcode: "246813"}); err != nil {
		t.Fatal(err)
	}
	return pid
}

// handset is a message gateway that keeps the last message to one number.
type handset struct{ to, last string }

func (p *handset) Deliver(_ context.Context, _ string, m eid.Message) error {
	if m.Recipient == p.to {
		p.last = m.Body
	}
	return nil
}

const testRedirect = "http://127.0.0.1:9/cb"

// webClient registers a confidential web client for testRedirect and
// returns its secret.
func webClient(t *testing.T, s *Service, in NewClient) string {
	t.Helper()
	in.Type = "web"
	if in.Name == "" {
		in.Name = in.ID
	}
	if in.RedirectURIs == nil {
		in.RedirectURIs = []string{testRedirect}
	}
	_, secret, err := s.CreateClient(admin, in)
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// agent is a browser with cookies that stops at the relying party.
type agent struct {
	t    *testing.T
	base string
	hc   *http.Client
	end  *url.URL // where the provider sent it back to the relying party
}

func newAgent(t *testing.T, base string) *agent {
	jar, _ := cookiejar.New(nil)
	a := &agent{t: t, base: base}
	a.hc = &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), testRedirect) {
			a.end = req.URL
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return a
}

type page struct {
	status int
	url    *url.URL
	body   string
}

func (a *agent) do(method, u string, form url.Values) page {
	a.t.Helper()
	var res *http.Response
	var err error
	if method == "GET" {
		res, err = a.hc.Get(u)
	} else {
		res, err = a.hc.PostForm(u, form)
	}
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return page{status: res.StatusCode, url: res.Request.URL, body: string(b)}
}

// authorize starts a code flow for the client with extra parameters and
// returns the page it stops at (the login form, consent, or the relying
// party: then a.end is set).
func (a *agent) authorize(clientID string, params url.Values) page {
	a.t.Helper()
	a.end = nil
	q := url.Values{"client_id": {clientID}, "redirect_uri": {testRedirect}, "response_type": {"code"}, "scope": {"openid"},
		"state": {"st-" + clientID}, "code_challenge": {pkceChallenge}, "code_challenge_method": {"S256"}}
	for k, v := range params {
		q[k] = v
	}
	return a.do("GET", a.base+"/authorize?"+q.Encode(), nil)
}

const pkceVerifier = "a-verifier-of-at-least-forty-three-characters-0123456789"

var pkceChallenge = func() string {
	h := sha256.Sum256([]byte(pkceVerifier))
	return base64.RawURLEncoding.EncodeToString(h[:])
}()

func (p page) isLogin() bool { return strings.Contains(p.body, `name="password"`) }

// login posts the password on a login page, and allows on the consent page
// if one follows.
func (a *agent) login(p page, pid string) page {
	a.t.Helper()
	if !p.isLogin() {
		a.t.Fatalf("not a login page (%d %s): %.300s", p.status, p.url, p.body)
	}
	id := p.url.Query().Get("id")
	p = a.do("POST", a.base+LoginPath, url.Values{"id": {id}, "pid": {pid}, "password": {testPassword}, "lang": {"en"}})
	if a.end == nil && strings.Contains(p.body, `name="decision"`) {
		p = a.do("POST", a.base+LoginPath+"/consent", url.Values{"id": {id}, "decision": {"allow"}})
	}
	return p
}

// consent allows on a consent page; any other page is returned as it is.
func (a *agent) consent(p page) page {
	a.t.Helper()
	if a.end == nil && strings.Contains(p.body, `name="decision"`) {
		return a.do("POST", a.base+LoginPath+"/consent", url.Values{"id": {p.url.Query().Get("id")}, "decision": {"allow"}})
	}
	return p
}

// code is the code the relying party received, or fails.
func (a *agent) code() string {
	a.t.Helper()
	if a.end == nil || a.end.Query().Get("code") == "" {
		a.t.Fatalf("the relying party got no code: %v", a.end)
	}
	return a.end.Query().Get("code")
}

type tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	Error        string `json:"error"`
}

// exchange redeems a code with the client's secret.
func exchange(t *testing.T, base, clientID, secret, code string) (tokens, *http.Response) {
	t.Helper()
	return postToken(t, base, clientID, secret, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {testRedirect}, "code_verifier": {pkceVerifier}})
}

func postToken(t *testing.T, base, clientID, secret string, form url.Values) (tokens, *http.Response) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if clientID != "" {
		req.SetBasicAuth(clientID, secret)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tok tokens
	json.NewDecoder(res.Body).Decode(&tok)
	return tok, res
}

// claims reads a JWT's payload without verifying it.
func claims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	return m
}
