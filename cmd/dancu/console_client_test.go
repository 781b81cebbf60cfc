package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// console is a person at the console: cookies kept, redirects not followed
// (the test looks at each answer), and the CSRF token of the last page.
type console struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

type page struct {
	Status   int
	Header   http.Header
	Body     string
	Location string
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func newConsole(t *testing.T, base string) *console {
	jar, _ := cookiejar.New(nil)
	return &console{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (b *console) send(req *http.Request) page {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	p := page{Status: res.StatusCode, Header: res.Header, Body: string(body), Location: res.Header.Get("Location")}
	if m := csrfField.FindStringSubmatch(p.Body); m != nil {
		b.csrf = m[1]
	}
	return p
}

func (b *console) get(path string) page {
	b.t.Helper()
	req, err := http.NewRequest("GET", b.base+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.send(req)
}

// post sends a form with the CSRF token of the last page (unless the form
// has its own), as the browser would.
func (b *console) post(path string, form url.Values, header ...string) page {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", b.csrf)
	}
	req, err := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.send(req)
}

func (b *console) cookie(name string) *http.Cookie {
	u, _ := url.Parse(b.base)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

var totpSecret = regexp.MustCompile(`<code class="secret">([A-Z2-7]+)</code>`)

// consoleLogin signs an officer in to the console: the password, then for
// the roles that need one, the enrolment of an authenticator app with a
// code. It returns the browser and the app's key ("" when none).
func consoleLogin(t *testing.T, base, username, password string) (*console, string) {
	t.Helper()
	return consoleLoginWith(t, base, username, password, "", time.Now())
}

// consoleLoginWith signs in an officer whose authenticator app has the key
// secret ("": enrol one), with the code of the time at: a second session
// in the same 30 seconds takes the next step's code, as a person who waits
// for the next code would.
func consoleLoginWith(t *testing.T, base, username, password, secret string, at time.Time) (*console, string) {
	t.Helper()
	b := newConsole(t, base)
	b.get("/console/login")
	p := b.post("/console/login", url.Values{"username": {username}, "password": {password}, "next": {"/console/"}})
	if p.Status == http.StatusSeeOther {
		b.get("/console/") // the forms of the session carry its token
		return b, ""
	}
	form := url.Values{"next": {"/console/"}}
	if secret == "" {
		m := totpSecret.FindStringSubmatch(p.Body)
		if p.Status != http.StatusOK || m == nil {
			t.Fatalf("console sign-in of %s: %d, no enrolment: %s", username, p.Status, p.text())
		}
		secret = m[1]
		form.Set("enrol", "1")
	}
	code, err := totp.GenerateCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	form.Set("code", code)
	p = b.post("/console/login/code", form)
	if p.Status != http.StatusSeeOther || p.Location != "/console/" {
		t.Fatalf("console code of %s: %d %s: %s", username, p.Status, p.Location, p.text())
	}
	b.get("/console/")
	return b, secret
}

var tags = regexp.MustCompile(`(?s)<[^>]*>|\s+`)

// text is what a page says in its main part, for test messages.
func (p page) text() string {
	body := p.Body
	if i := strings.Index(body, "<main"); i >= 0 {
		body = body[i:]
	}
	if i := strings.Index(body, "</main>"); i >= 0 {
		body = body[:i]
	}
	s := strings.TrimSpace(tags.ReplaceAllString(body, " "))
	if len(s) > 400 {
		s = s[:400]
	}
	return s
}
