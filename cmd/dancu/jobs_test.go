package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// jobAgencies registers member agencies with the verify service on srv
// and returns their clients.
func jobAgencies(t *testing.T, srv *runningServer, ids ...string) map[string]*client {
	t.Helper()
	admin := login(t, srv.URL, "admin", adminPassword)
	out := map[string]*client{}
	for _, id := range ids {
		var c struct{ Secret string }
		admin.must(201, "POST", "/api/v1/oidc/clients", map[string]any{"id": id, "name": id, "type": "service"}).json(t, &c)
		admin.must(201, "POST", "/api/v1/agencies", map[string]any{"id": id, "name": id, "kind": "bank",
			"services": []string{"verify"}, "purposes": []string{"eKYC"}, "rate_per_second": 1000})
		out[id] = agencyToken(t, srv.URL, id, c.Secret)
	}
	return out
}

// upload is a batch file sent as it is written: the job's slot is held
// while it uploads.
type upload struct {
	w    *io.PipeWriter
	done chan response
}

func startUpload(t *testing.T, c *client) *upload {
	t.Helper()
	pr, pw := io.Pipe()
	u := &upload{w: pw, done: make(chan response, 1)}
	req, _ := http.NewRequest("POST", c.base+"/api/v1/verify-jobs?purpose=eKYC", pr)
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Authorization", "Bearer "+c.token)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			u.done <- response{Status: -1, Body: []byte(err.Error())}
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		u.done <- response{Status: res.StatusCode, Header: res.Header, Body: b}
	}()
	fmt.Fprintln(pw, `{"pid":"079190012345","claims":{"name":"Lê Thị Hồng"}}`)
	return u
}

func (u *upload) finish(t *testing.T) response {
	t.Helper()
	u.w.Close()
	select {
	case r := <-u.done:
		return r
	case <-time.After(20 * time.Second):
		t.Fatal("upload not answered")
	}
	return response{}
}

// eventually429 submits small jobs as c until one is refused with 429,
// Retry-After and problem details naming why (detail contains want).
func eventually429(t *testing.T, c *client, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		r := c.do("POST", "/api/v1/verify-jobs?purpose=eKYC", `{"pid":"079190012345","claims":{"name":"X"}}`+"\n", "Content-Type", "application/x-ndjson")
		if r.Status == 429 {
			p := checkProblem(t, "job refused", r, 429)
			if r.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
			if d, _ := p["detail"].(string); !strings.Contains(d, want) {
				t.Errorf("429 detail %q, want it to say %q", d, want)
			}
			return
		}
		if r.Status != 202 {
			t.Fatalf("submit: %d %s", r.Status, r.Body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("never refused: the jobs are not bounded (%s)", want)
}

// held fails the test if u was answered already.
func (u *upload) held(t *testing.T) {
	t.Helper()
	select {
	case r := <-u.done:
		t.Fatalf("the upload was answered before it ended: %d %s", r.Status, r.Body)
	default:
	}
}

// TestBatchJobsBounded: an agency runs at most two batch jobs at once,
// uploads included, and the service four; beyond, 429 with Retry-After,
// and once one ends another may start.
func TestBatchJobsBounded(t *testing.T) {
	srv := startServer(t, sqldbtest.URL(t, "sqlite"))
	ag := jobAgencies(t, srv, "bank-a", "bank-b", "bank-c")
	a1, a2 := startUpload(t, ag["bank-a"]), startUpload(t, ag["bank-a"])
	time.Sleep(50 * time.Millisecond)
	a1.held(t)
	a2.held(t)
	eventually429(t, ag["bank-a"], "bank-a already runs 2")
	// bank-b may still start.
	var job struct{ ID, State string }
	ag["bank-b"].must(202, "POST", "/api/v1/verify-jobs?purpose=eKYC", `{"pid":"079190012345","claims":{"name":"X"}}`+"\n", "Content-Type", "application/x-ndjson").json(t, &job)
	for i := 0; job.State == "running"; i++ {
		if i == 200 {
			t.Fatal("a job of one record still runs")
		}
		time.Sleep(10 * time.Millisecond)
		ag["bank-b"].must(200, "GET", "/api/v1/verify-jobs/"+job.ID, nil).json(t, &job)
	}
	time.Sleep(50 * time.Millisecond) // its slot is given back just after
	b1, b2 := startUpload(t, ag["bank-b"]), startUpload(t, ag["bank-b"])
	eventually429(t, ag["bank-c"], "as many batch jobs as it may (4)")
	for _, u := range []*upload{a1, a2, b1, b2} {
		if r := u.finish(t); r.Status != 202 {
			t.Errorf("held upload: %d %s", r.Status, r.Body)
		}
	}
	// Once they end (a job of one record ends at once), bank-c may start.
	for i := 0; ; i++ {
		r := ag["bank-c"].do("POST", "/api/v1/verify-jobs?purpose=eKYC", `{"pid":"079190012345","claims":{"name":"X"}}`+"\n", "Content-Type", "application/x-ndjson")
		if r.Status == 202 {
			break
		}
		if r.Status != 429 || i == 200 {
			t.Fatalf("after the jobs ended: %d %s", r.Status, r.Body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A file too large is refused as it arrives.
	big := startUpload(t, ag["bank-a"])
	go func() {
		// Lines padded so that the records stay under MaxBatch.
		line := []byte(strings.Repeat(`{"pid":"079190012345","claims":{"name":"X"}}`+strings.Repeat(" ", 400)+"\n", 2000))
		for i := 0; i < 200; i++ { // ~170 MiB offered, 100 MiB allowed
			if _, err := big.w.Write(line); err != nil {
				return
			}
		}
	}()
	checkProblem(t, "a file too large", <-big.done, 413)
}

// TestShutdownStopsJobs: a batch job running when the server stops is
// marked failed, with a reason, before the store is closed, and the server
// stops cleanly.
func TestShutdownStopsJobs(t *testing.T) {
	for _, engine := range sqldbtest.EngineNames() {
		t.Run(engine, func(t *testing.T) {
			dbURL := sqldbtest.URL(t, engine)
			srv := startServer(t, dbURL)
			ag := jobAgencies(t, srv, "bank-a")
			var b strings.Builder
			for i := 0; i < 500_000; i++ {
				fmt.Fprintf(&b, `{"pid":"0790%08d","claims":{"name":"X"}}`+"\n", i)
			}
			r := ag["bank-a"].must(202, "POST", "/api/v1/verify-jobs?purpose=eKYC", b.String(), "Content-Type", "application/x-ndjson")
			var job struct{ ID, State string }
			r.json(t, &job)
			if err := srv.shutdown(); err != nil {
				t.Fatalf("shutdown: %v", err)
			}
			if logs := srv.Stderr.String(); strings.Contains(logs, "database is closed") {
				t.Errorf("background work outlived the store:\n%s", logs)
			}
			db, err := sqldb.Open(context.Background(), dbURL)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var state, reason string
			var finished sql.NullTime
			if err := db.QueryRow(`SELECT state, error, finished_at FROM verify_job WHERE id = $1`, job.ID).Scan(&state, &reason, &finished); err != nil {
				t.Fatal(err)
			}
			if state != "failed" || !strings.Contains(reason, "service stopped") || !finished.Valid {
				t.Errorf("job after shutdown: %s %q (finished %v), want failed as interrupted", state, reason, finished.Valid)
			}
		})
	}
}

// TestBatchResultsStreamed: the answers of a job of several chunks come
// back whole and in input order, streamed as JSON Lines.
func TestBatchResultsStreamed(t *testing.T) {
	srv := startServer(t, sqldbtest.URL(t, "sqlite"))
	c := jobAgencies(t, srv, "bank-a")["bank-a"]
	const n = 12_345 // three chunks
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `{"pid":"0790%08d","claims":{"name":"X"}}`+"\n", i)
	}
	var job struct {
		ID, State string
		Done      int
	}
	c.must(202, "POST", "/api/v1/verify-jobs?purpose=eKYC", b.String(), "Content-Type", "application/x-ndjson").json(t, &job)
	for i := 0; job.State == "running"; i++ {
		if i == 500 {
			t.Fatalf("job still running: %+v", job)
		}
		time.Sleep(20 * time.Millisecond)
		c.must(200, "GET", "/api/v1/verify-jobs/"+job.ID, nil).json(t, &job)
	}
	r := c.must(200, "GET", "/api/v1/verify-jobs/"+job.ID+"/results", nil)
	if ct := r.Header.Get("Content-Type"); ct != "application/x-ndjson" || r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("results: Content-Type %q, Cache-Control %q", ct, r.Header.Get("Cache-Control"))
	}
	lines := strings.Split(strings.TrimSuffix(string(r.Body), "\n"), "\n")
	if len(lines) != n {
		t.Fatalf("%d result lines, want %d", len(lines), n)
	}
	for i, l := range lines {
		if !strings.HasPrefix(l, fmt.Sprintf(`{"line":%d,"pid":"0790%08d"`, i+1, i)) {
			t.Fatalf("result %d out of order: %s", i+1, l)
		}
	}
}
