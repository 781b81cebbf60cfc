package main

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// TestStoreUnavailablePostgres: while PostgreSQL terminates the server's
// connections (as in a restart) nothing is answered 500; a database that
// refuses writes is answered 503 with Retry-After, and /readyz says not
// ready until it takes writes again.
func TestStoreUnavailablePostgres(t *testing.T) {
	base := os.Getenv(sqldbtest.EnvPostgres)
	if base == "" {
		t.Skip(sqldbtest.EnvPostgres + " is not set")
	}
	dbURL := sqldbtest.URL(t, "postgres")
	srv := startServer(t, dbURL)
	admin := login(t, srv.URL, "admin", adminPassword)
	pg, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	pu, _ := url.Parse(dbURL)
	name := strings.TrimPrefix(pu.Path, "/")
	terminate := func() {
		if _, err := pg.Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, name); err != nil {
			t.Fatal(err)
		}
	}

	// Connections terminated under requests in flight.
	ctx, stop := context.WithTimeout(context.Background(), 3*time.Second)
	defer stop()
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := *admin
			for ctx.Err() == nil {
				r := c.do("GET", "/api/v1/tokens", nil)
				if r.Status == 503 && r.Header.Get("Retry-After") == "" {
					t.Errorf("503 without Retry-After: %s", r.Body)
				}
				mu.Lock()
				statuses[r.Status]++
				mu.Unlock()
				if r.Status == 500 {
					t.Errorf("a terminated connection answered 500: %s", r.Body)
				}
			}
		}()
	}
	for ctx.Err() == nil {
		terminate()
		time.Sleep(50 * time.Millisecond)
	}
	wg.Wait()
	t.Logf("answers while connections were terminated: %v", statuses)

	// A database that refuses writes.
	if _, err := pg.Exec(`ALTER DATABASE ` + name + ` SET default_transaction_read_only = on`); err != nil {
		t.Fatal(err)
	}
	terminate()
	r := admin.do("POST", "/api/v1/tokens", map[string]any{"name": "while read-only"})
	checkProblem(t, "a write to a read-only database", r, 503)
	if r.Header.Get("Retry-After") == "" {
		t.Errorf("503 without Retry-After")
	}
	r = admin.do("GET", "/readyz", nil)
	if r.Status != 503 || r.Header.Get("Retry-After") == "" {
		t.Errorf("readyz of a read-only database: %d %q %s", r.Status, r.Header.Get("Retry-After"), r.Body)
	}
	if _, err := pg.Exec(`ALTER DATABASE ` + name + ` SET default_transaction_read_only = off`); err != nil {
		t.Fatal(err)
	}
	terminate()
	// The pool finds out about the terminated connections as it uses them.
	for i := 0; admin.do("GET", "/readyz", nil).Status != 200; i++ {
		if i == 30 {
			t.Fatal("not ready again after the database took writes again")
		}
		time.Sleep(100 * time.Millisecond)
	}
	admin.must(201, "POST", "/api/v1/tokens", map[string]any{"name": "writable again"})
}

// TestStoreLockedSQLite: while another process holds the SQLite write
// lock, /readyz says not ready and a write is answered 503 with
// Retry-After once the busy timeout (10 s) has passed, not after InTx's
// retries have waited it out again and again; ready once the lock goes.
func TestStoreLockedSQLite(t *testing.T) {
	dbURL := sqldbtest.URL(t, "sqlite")
	srv := startServer(t, dbURL)
	anon := &client{t: t, base: srv.URL}
	admin := login(t, srv.URL, "admin", adminPassword)
	admin.must(200, "GET", "/api/v1/me", nil) // the token's use is recorded now, not under the lock
	anon.must(200, "GET", "/readyz", nil)
	lock, err := sql.Open("sqlite", "file:"+strings.TrimPrefix(dbURL, "sqlite:"))
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	conn, err := lock.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	r := anon.do("GET", "/readyz", nil)
	if r.Status != 503 || r.Header.Get("Retry-After") == "" {
		t.Errorf("readyz under a held write lock: %d %q %s", r.Status, r.Header.Get("Retry-After"), r.Body)
	}
	// A write waits out the busy timeout once, then is told to come back.
	start := time.Now()
	r = admin.do("POST", "/api/v1/tokens", map[string]any{"name": "while locked"})
	checkProblem(t, "a write under a held lock", r, 503)
	if r.Header.Get("Retry-After") == "" {
		t.Errorf("503 without Retry-After")
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("refused after %v: the retries waited the busy timeout out again", took.Round(time.Millisecond))
	}
	conn.ExecContext(context.Background(), "ROLLBACK")
	anon.must(200, "GET", "/readyz", nil)
}
