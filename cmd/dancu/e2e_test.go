package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

const adminPassword = "Admin-Test-2026!"

// runningServer is the real program started by run, as `dancu serve`.
type runningServer struct {
	URL  string // the public URL
	Addr string // where it listens
	// MetricsAddr is where /metrics is served, with --metrics-addr.
	MetricsAddr string
	DB          string
	done        chan error
	stop        context.CancelFunc
	// Stderr is what the server logs.
	Stderr *lockedBuffer

	once sync.Once
	err  error
}

// shutdown stops the server as SIGTERM would and returns how it ended.
func (s *runningServer) shutdown() error {
	s.once.Do(func() {
		s.stop()
		select {
		case s.err = <-s.done:
		case <-time.After(20 * time.Second):
			s.err = errors.New("server did not shut down within 20 s")
		}
	})
	return s.err
}

// startServer runs `dancu serve` on 127.0.0.1:0 against dbURL and waits for
// it to print where it listens. It is stopped, and must stop cleanly, when
// the test ends.
// testDataKey is the data key of the test servers.
const testDataKey = "3q2+7wABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhs="

func startServer(t *testing.T, dbURL string, extra ...string) *runningServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	env := map[string]string{"DANCU_ADMIN_PASSWORD": adminPassword, "DANCU_DATA_KEY": testDataKey}
	s := &runningServer{DB: dbURL, done: make(chan error, 1), stop: cancel}
	gw := newGateway(t)
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--db", dbURL, "--log-level", "warn", "--message-gateway", gw.srv.URL}, extra...)
	stderr := &lockedBuffer{}
	s.Stderr = stderr
	go func() {
		err := run(ctx, args, func(k string) string { return env[k] }, pw, stderr)
		pw.CloseWithError(fmt.Errorf("server exited: %v", err))
		s.done <- err
	}()
	// The public URL (localhost) is what clients use: the OpenID issuer
	// and the passkey relying party are named by it.
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if _, after, ok := strings.Cut(sc.Text(), "listening on "); ok {
			s.Addr = strings.Fields(after)[0]
		}
		if after, ok := strings.CutPrefix(sc.Text(), "metrics on http://"); ok {
			s.MetricsAddr, _, _ = strings.Cut(after, "/")
		}
		if after, ok := strings.CutPrefix(sc.Text(), "public URL "); ok {
			s.URL = strings.Fields(after)[0]
			break
		}
	}
	if s.URL == "" {
		cancel()
		t.Fatalf("server did not start: %v\n%s", sc.Err(), stderr.String())
	}
	go io.Copy(io.Discard, pr)
	gateways.Store(s.URL, gw)
	t.Cleanup(func() {
		gateways.Delete(s.URL)
		if err := s.shutdown(); err != nil {
			t.Errorf("server stopped with %v", err)
		}
	})
	return s
}

// lockedBuffer is a buffer the server's logger and the test may share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// client is an API client holding a bearer token.
type client struct {
	t     *testing.T
	base  string
	token string
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

func (c *client) do(method, path string, body any, headers ...string) response {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		js, _ := json.Marshal(b)
		rd = bytes.NewReader(js)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{Status: res.StatusCode, Header: res.Header, Body: b}
}

func (c *client) must(want int, method, path string, body any, headers ...string) response {
	c.t.Helper()
	r := c.do(method, path, body, headers...)
	if r.Status != want {
		c.t.Fatalf("%s %s = %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	return r
}

func login(t *testing.T, base, user, pw string) *client {
	t.Helper()
	c := &client{t: t, base: base}
	var s struct{ Token string }
	c.must(200, "POST", "/api/v1/auth/login", map[string]string{"username": user, "password": pw}).json(t, &s)
	c.token = s.Token
	return c
}

// problem is an RFC 9457 body with huma's field details.
type problem struct {
	Status int
	Detail string
	Errors []struct{ Message, Location string }
}

func expectProblem(t *testing.T, r response, status int, location string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json", ct)
	}
	var p problem
	r.json(t, &p)
	if p.Status != status {
		t.Fatalf("problem status %d, want %d", p.Status, status)
	}
	if location == "" {
		return
	}
	for _, e := range p.Errors {
		if e.Location == location && e.Message != "" {
			return
		}
	}
	t.Fatalf("no error at %s in %s", location, r.Body)
}

// counts returns the number of rows of the tables a write would touch.
func counts(t *testing.T, dbURL string) string {
	t.Helper()
	db, err := sqldb.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var out []string
	for _, table := range []string{"citizen", "citizen_revision", "pid_issued", "citizen_link", "household", "idempotency_key"} {
		var n int
		if err := db.QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s=%d", table, n))
	}
	return strings.Join(out, " ")
}

func TestEndToEnd(t *testing.T) {
	for _, engine := range sqldbtest.EngineNames() {
		t.Run(engine, func(t *testing.T) { endToEnd(t, sqldbtest.URL(t, engine)) })
	}
}

func endToEnd(t *testing.T, dbURL string) {
	srv := startServer(t, dbURL, "--metrics-addr", "127.0.0.1:0")
	anon := &client{t: t, base: srv.URL}
	anon.must(200, "GET", "/healthz", nil)
	anon.must(200, "GET", "/readyz", nil)
	// Metrics are served apart from the public listener.
	expectProblem(t, anon.do("GET", "/metrics", nil), 404, "")
	metrics := &client{t: t, base: "http://" + srv.MetricsAddr}
	if m := metrics.must(200, "GET", "/metrics", nil); !bytes.Contains(m.Body, []byte("go_goroutines")) {
		t.Fatal("metrics lack the Go collector")
	}
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	anon.must(200, "GET", "/api/v1/openapi.json", nil).json(t, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.1") || doc.Paths["/api/v1/births"] == nil || doc.Paths["/api/v1/citizens/{pid}"] == nil {
		t.Fatalf("OpenAPI document: version %q, %d paths", doc.OpenAPI, len(doc.Paths))
	}
	expectProblem(t, anon.do("GET", "/api/v1/citizens/001085012345", nil), 401, "")
	expectProblem(t, anon.do("POST", "/api/v1/auth/login", map[string]string{"username": "admin", "password": "wrong-Pass1!"}), 401, "")

	// The administrator creates two commune registrars.
	admin := login(t, srv.URL, "admin", adminPassword)
	for _, o := range []map[string]any{
		{"username": "lan", "display_name": "Nguyễn Thị Lan", "role": "registrar", "password": "Lan-pass-2026!",
			"jurisdiction": map[string]string{"level": "commune", "code": "00004"}},
		{"username": "hong", "display_name": "Võ Thị Hồng", "role": "registrar", "password": "Hong-pass-2026!",
			"jurisdiction": map[string]string{"level": "commune", "code": "26740"}},
	} {
		admin.must(201, "POST", "/api/v1/officers", o)
	}
	lan := login(t, srv.URL, "lan", "Lan-pass-2026!")
	hong := login(t, srv.URL, "hong", "Hong-pass-2026!")

	// Parents from existing data, in Lan's commune.
	lan.must(201, "POST", "/api/v1/citizens", map[string]any{"pid": "001188054321", "name": map[string]string{"family": "Trần", "middle": "Thị", "given": "Bình"},
		"birth_date": "1988-07-04", "sex": "female", "permanent_residence": map[string]string{"commune": "00004", "detail": "Phố Phan Đình Phùng 12"}})
	// A record in Hồng's commune in Hồ Chí Minh City.
	hong.must(201, "POST", "/api/v1/citizens", map[string]any{"pid": "079080111222", "name": map[string]string{"family": "Võ", "middle": "Văn", "given": "Hùng"},
		"birth_date": "1980-01-20", "sex": "male", "permanent_residence": map[string]string{"commune": "26740"}})

	// Register a birth; a retry with the same Idempotency-Key does not register twice.
	birth := map[string]any{"name": map[string]string{"family": "Nguyễn", "middle": "Minh", "given": "Khôi"}, "birth_date": "2025-09-01", "sex": "male",
		"birth_registration_place": map[string]string{"commune": "00004"}, "mother": map[string]string{"pid": "001188054321"},
		"permanent_residence": map[string]string{"commune": "00004", "detail": "Phố Phan Đình Phùng 12"}, "ethnicity": map[string]string{"code": "01"},
		"reason": "birth registration", "legal_basis": "Luật Hộ tịch 2014"}
	var child struct {
		PID     string `json:"pid"`
		Version int64  `json:"version"`
		Phone   string `json:"phone"`
		Mother  struct{ Name string }
	}
	r := lan.must(201, "POST", "/api/v1/births", birth, "Idempotency-Key", "birth-khoi-1")
	r.json(t, &child)
	if !strings.HasPrefix(child.PID, "001225") || child.Mother.Name != "Trần Thị Bình" {
		t.Fatalf("birth: pid %s (want prefix 001225: Hà Nội, male, 2025), mother %q", child.PID, child.Mother.Name)
	}
	if loc := r.Header.Get("Location"); loc != "/api/v1/citizens/"+child.PID {
		t.Fatalf("Location %q", loc)
	}
	before := counts(t, dbURL)
	var again struct{ PID string }
	lan.must(201, "POST", "/api/v1/births", birth, "Idempotency-Key", "birth-khoi-1").json(t, &again)
	if again.PID != child.PID || counts(t, dbURL) != before {
		t.Fatalf("retry registered again: %s vs %s; %s vs %s", again.PID, child.PID, counts(t, dbURL), before)
	}

	// Read it, update it with If-Match, and lose a race with a stale version.
	path := "/api/v1/citizens/" + child.PID
	r = lan.must(200, "GET", path+"?purpose=test", nil)
	if et := r.Header.Get("ETag"); et != `"1"` {
		t.Fatalf("ETag %q, want \"1\"", et)
	}
	change := map[string]any{"changes": map[string]any{"phone": "0912 345 678"}, "reason": "parent's request", "legal_basis": "Luật Căn cước 2023 Điều 9"}
	r = lan.must(200, "PATCH", path, change, "If-Match", `"1"`)
	if et := r.Header.Get("ETag"); et != `"2"` {
		t.Fatalf("ETag after update %q, want \"2\"", et)
	}
	stale := map[string]any{"changes": map[string]any{"phone": "0987654321"}, "reason": "stale"}
	expectProblem(t, lan.do("PATCH", path, stale, "If-Match", `"1"`), 412, "")
	expectProblem(t, lan.do("PATCH", path, stale), 428, "")
	lan.must(200, "GET", path, nil).json(t, &child)
	if child.Phone != "0912345678" || child.Version != 2 {
		t.Fatalf("after the stale update: phone %q version %d", child.Phone, child.Version)
	}

	// The history shows both revisions, who made them and why.
	var hist []struct {
		Version   int64
		Action    string
		ActorName string `json:"actor_name"`
		Reason    string
		Changes   []struct{ Field string }
	}
	lan.must(200, "GET", path+"/history", nil).json(t, &hist)
	if len(hist) != 2 || hist[0].Action != "register_birth" || hist[1].Action != "update" || hist[1].ActorName != "lan" ||
		hist[1].Reason != "parent's request" || len(hist[1].Changes) != 1 || hist[1].Changes[0].Field != "phone" {
		t.Fatalf("history: %+v", hist)
	}

	// Lan may not change a record in another commune; nothing changes.
	before = counts(t, dbURL)
	expectProblem(t, lan.do("PATCH", "/api/v1/citizens/079080111222", change, "If-Match", `"1"`), 403, "")
	if counts(t, dbURL) != before {
		t.Fatal("a forbidden update wrote something")
	}
	// Search finds the child with or without diacritics.
	var page struct{ Items []struct{ PID string } }
	lan.must(200, "GET", "/api/v1/citizens?name=nguyen%20minh%20khoi", nil).json(t, &page)
	if len(page.Items) != 1 || page.Items[0].PID != child.PID {
		t.Fatalf("search: %+v", page)
	}
	// The reads were recorded, and the administrator can see them.
	var evs []struct {
		Action    string
		ActorName string `json:"actor_name"`
	}
	admin.must(200, "GET", "/api/v1/access-events?subject="+child.PID, nil).json(t, &evs)
	seen := map[string]bool{}
	for _, e := range evs {
		seen[e.Action+"/"+e.ActorName] = true
	}
	for _, want := range []string{"read/lan", "read_history/lan", "search_result/lan", "update/lan", "register_birth/lan"} {
		if !seen[want] {
			t.Errorf("access log lacks %s: %v", want, seen)
		}
	}
	expectProblem(t, lan.do("GET", "/api/v1/access-events", nil), 403, "")
	// Logging out ends the session.
	lan.must(204, "POST", "/api/v1/auth/logout", nil)
	expectProblem(t, lan.do("GET", path, nil), 401, "")
}

func TestBadInputWritesNothing(t *testing.T) {
	dbURL := sqldbtest.URL(t, "sqlite")
	srv := startServer(t, dbURL)
	admin := login(t, srv.URL, "admin", adminPassword)
	good := func() map[string]any {
		return map[string]any{"pid": "001090123456", "name": map[string]string{"family": "Nguyễn", "middle": "Văn", "given": "An"},
			"birth_date": "1990-05-17", "sex": "male", "permanent_residence": map[string]string{"commune": "00004"}}
	}
	with := func(k string, v any) map[string]any { m := good(); m[k] = v; return m }
	before := counts(t, dbURL)
	cases := []struct {
		name     string
		method   string
		path     string
		body     any
		status   int
		location string
	}{
		{"malformed id", "POST", "/api/v1/citizens", with("pid", "00109012345X"), 422, "body.pid"},
		{"unknown province in id", "POST", "/api/v1/citizens", with("pid", "003090123456"), 422, "body.pid"},
		{"unknown unit", "POST", "/api/v1/citizens", with("permanent_residence", map[string]string{"commune": "99999"}), 422, "body.permanent_residence.commune"},
		{"birth date disagrees with id", "POST", "/api/v1/citizens", with("birth_date", "1991-05-17"), 422, "body.birth_date"},
		{"sex disagrees with id", "POST", "/api/v1/citizens", with("sex", "female"), 422, "body.sex"},
		{"unknown field", "POST", "/api/v1/citizens", with("favourite_colour", "blue"), 422, "body.favourite_colour"},
		{"wrong type", "POST", "/api/v1/citizens", with("birth_date", 19900517), 422, "body.birth_date"},
		{"bad ethnicity", "POST", "/api/v1/citizens", with("ethnicity", map[string]string{"code": "99"}), 422, "body.ethnicity.code"},
		{"bad phone", "POST", "/api/v1/citizens", with("phone", "12345"), 422, "body.phone"},
		{"missing name", "POST", "/api/v1/citizens", with("name", map[string]string{"family": "Nguyễn"}), 422, "body.name"},
		{"digits in a name", "POST", "/api/v1/citizens", with("name", map[string]string{"family": "Nguyễn", "given": "An2"}), 422, "body.name.given"},
		{"oversized body", "POST", "/api/v1/citizens", `{"pid":"` + strings.Repeat("1", 70<<10) + `"}`, 413, ""},
		{"broken JSON", "POST", "/api/v1/citizens", `{"pid":`, 400, ""},
		{"future birth", "POST", "/api/v1/births", map[string]any{"name": map[string]string{"family": "A", "given": "B"}, "birth_date": "2999-01-01",
			"sex": "male", "birth_registration_place": map[string]string{"commune": "00004"}}, 422, "body.birth_date"},
		{"birth without registration place", "POST", "/api/v1/births", map[string]any{"name": map[string]string{"family": "A", "given": "B"},
			"birth_date": "2024-01-01", "sex": "male"}, 422, "body.birth_registration_place.commune"},
		{"birth with unknown mother", "POST", "/api/v1/births", map[string]any{"name": map[string]string{"family": "A", "given": "B"},
			"birth_date": "2024-01-01", "sex": "male", "birth_registration_place": map[string]string{"commune": "00004"},
			"mother": map[string]string{"pid": "001190000001"}}, 422, "body.mother.pid"},
		{"malformed id in path", "GET", "/api/v1/citizens/12ab", nil, 422, "path.pid"},
		{"unknown citizen", "GET", "/api/v1/citizens/001090999999", nil, 404, ""},
		{"bad search cursor", "GET", "/api/v1/citizens?name=an&cursor=not-a-cursor!", nil, 422, "query.cursor"},
		{"search without criteria", "GET", "/api/v1/citizens", nil, 422, "query.name"},
		{"update without If-Match", "PATCH", "/api/v1/citizens/001090123456", map[string]any{"changes": map[string]any{"phone": "0912345678"}, "reason": "x"}, 428, ""},
		{"malformed If-Match", "PATCH", "/api/v1/citizens/001090123456", map[string]any{"changes": map[string]any{"phone": "0912345678"}, "reason": "x"}, 422, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var r response
			if tc.name == "malformed If-Match" {
				r = admin.do(tc.method, tc.path, tc.body, "If-Match", "W/abc")
			} else {
				r = admin.do(tc.method, tc.path, tc.body)
			}
			expectProblem(t, r, tc.status, tc.location)
		})
	}
	if after := counts(t, dbURL); after != before {
		t.Fatalf("bad input wrote something: %s, was %s", after, before)
	}
}
