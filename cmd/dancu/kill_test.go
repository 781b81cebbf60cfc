package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/server"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// TestMain lets the test binary stand in for the dancu binary: with
// DANCU_TEST_MAIN set it runs `dancu` with the arguments that follow "--".
func TestMain(m *testing.M) {
	if os.Getenv("DANCU_TEST_MAIN") == "1" {
		args := os.Args[1:]
		for i, a := range args {
			if a == "--" {
				args = args[i+1:]
				break
			}
		}
		if err := run(context.Background(), args, os.Getenv, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "dancu:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// writePeople writes n households of two as JSON Lines.
func writePeople(t *testing.T, households int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "people.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := 0; i < households; i++ {
		fmt.Fprintf(w, `{"pid":"079085%06d","name":{"family":"Lê","middle":"Văn","given":"Tám"},"birth_date":"1985-02-03","sex":"male",`+
			`"permanent_residence":{"commune":"26740","detail":"Số %d Lê Lợi"},"household":{"household_id":"K%06d","relationship":"head"},`+
			`"spouse":{"pid":"079187%06d"}}`+"\n", i, i, i, i)
		fmt.Fprintf(w, `{"pid":"079187%06d","name":{"family":"Phạm","middle":"Thị","given":"Hoa"},"birth_date":"1987-09-10","sex":"female",`+
			`"permanent_residence":{"commune":"26740","detail":"Số %d Lê Lợi"},"household":{"household_id":"K%06d","relationship":"spouse"},`+
			`"spouse":{"pid":"079085%06d"}}`+"\n", i, i, i, i)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return path
}

func rowCounts(t *testing.T, dbURL string) map[string]int {
	t.Helper()
	db, err := sqldb.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string]int{}
	for _, q := range []string{"citizen", "pid_issued", "citizen_revision", "household", "citizen_link"} {
		var n int
		if err := db.QueryRow(`SELECT COUNT(*) FROM ` + q).Scan(&n); err == nil {
			out[q] = n
		}
	}
	var distinct int
	db.QueryRow(`SELECT COUNT(DISTINCT pid) FROM citizen`).Scan(&distinct)
	out["distinct"] = distinct
	return out
}

// TestImportSurvivesKill9 kills an import with SIGKILL in the middle and
// runs it again: the store must end with exactly every person once.
func TestImportSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a subprocess")
	}
	const households = 15000 // 30,000 people
	file := writePeople(t, households)
	for _, engine := range sqldbtest.EngineNames() {
		t.Run(engine, func(t *testing.T) {
			dbURL := sqldbtest.URL(t, engine)
			if _, _, err := runCLI(t, nil, "migrate", "--db", dbURL); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^$", "--", "import", file, "--db", dbURL, "--batch", "500", "--quiet",
				"--rejects", filepath.Join(t.TempDir(), "rejects.jsonl"))
			cmd.Env = append(os.Environ(), "DANCU_TEST_MAIN=1")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(60 * time.Second)
			killedAt := -1
			for time.Now().Before(deadline) {
				if n := rowCounts(t, dbURL)["citizen"]; n >= 2000 {
					cmd.Process.Signal(syscall.SIGKILL)
					killedAt = n
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			err := cmd.Wait()
			if killedAt < 0 {
				t.Fatalf("the import did not get going: %v", err)
			}
			mid := rowCounts(t, dbURL)
			if mid["citizen"] >= 2*households {
				t.Skipf("the import finished before it could be killed (%v)", mid)
			}
			if mid["citizen"] != mid["pid_issued"] || mid["citizen"] != mid["citizen_revision"] {
				t.Fatalf("killed import left a half-written batch: %v", mid)
			}
			// The load into an empty registry deferred the search indexes.
			status, _, err := runCLI(t, nil, "migrate", "--status", "--db", dbURL)
			if err != nil || !strings.Contains(status, "citizen_name") {
				t.Fatalf("migrate --status after the kill = %q, %v; want the deferred indexes", status, err)
			}
			out, _, err := runCLI(t, nil, "import", file, "--db", dbURL, "--quiet", "--rejects", filepath.Join(t.TempDir(), "r2.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			end := rowCounts(t, dbURL)
			want := 2 * households
			if end["citizen"] != want || end["distinct"] != want || end["pid_issued"] != want || end["citizen_revision"] != want ||
				end["household"] != households || end["citizen_link"] != want {
				t.Fatalf("after kill -9 at %d rows and a re-run: %v (%s)", killedAt, end, strings.TrimSpace(out))
			}
			if !strings.Contains(out, fmt.Sprintf("%d already registered", mid["citizen"])) {
				t.Errorf("re-run summary %q does not count the %d already registered", out, mid["citizen"])
			}
			if !strings.Contains(out, "4 search indexes built") {
				t.Errorf("re-run summary %q does not report the indexes it built", out)
			}
			wantIndexes(t, dbURL)
		})
	}
}

// wantIndexes fails the test unless every search index of the citizen
// table is there and none is recorded as deferred.
func wantIndexes(t *testing.T, dbURL string) {
	t.Helper()
	db, err := sqldb.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name IN ('citizen_name', 'citizen_commune_name', 'citizen_province_name', 'citizen_household')`
	if db.Dialect == sqldb.Postgres {
		q = `SELECT COUNT(*) FROM pg_indexes WHERE indexname IN ('citizen_name', 'citizen_commune_name', 'citizen_province_name', 'citizen_household')`
	}
	var n int
	if err := db.QueryRow(q).Scan(&n); err != nil || n != 4 {
		t.Errorf("%d of the 4 citizen search indexes are there (%v)", n, err)
	}
	if left, err := db.DeferredIndexes(context.Background(), ""); err != nil || len(left) > 0 {
		t.Errorf("indexes still deferred: %v, %v", left, err)
	}
}

// TestDeferredIndexesBuiltOnOpen: a bulk load into an empty registry defers
// the search indexes; one into a registry that holds people does not; and
// the next ordinary start builds what an interrupted load left deferred.
func TestDeferredIndexesBuiltOnOpen(t *testing.T) {
	for _, engine := range sqldbtest.EngineNames() {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			sys := actor.With(ctx, actor.SystemActor("test"))
			cfg := server.DefaultConfig()
			cfg.DB = sqldbtest.URL(t, engine)
			cfg.BulkLoad = true
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			app, err := server.Open(ctx, cfg, log)
			if err != nil {
				t.Fatal(err)
			}
			deferred, err := app.Registry.StartBulkLoad(sys)
			app.Close()
			if err != nil || len(deferred) != 4 {
				t.Fatalf("StartBulkLoad on an empty registry = %v, %v; want the 4 search indexes", deferred, err)
			}
			if _, err := app.Registry.StartBulkLoad(ctx); !errs.Is(err, errs.Unauthenticated) {
				t.Errorf("StartBulkLoad without an actor = %v, want Unauthenticated", err)
			}
			cfg.BulkLoad = false
			app, err = server.Open(ctx, cfg, log)
			if err != nil {
				t.Fatal(err)
			}
			app.Close()
			wantIndexes(t, cfg.DB)
			// A registry that holds people keeps its indexes for a load.
			if _, _, err := runCLI(t, nil, "import", writePeople(t, 1), "--db", cfg.DB, "--quiet", "--rejects", filepath.Join(t.TempDir(), "r.jsonl")); err != nil {
				t.Fatal(err)
			}
			cfg.BulkLoad = true
			app, err = server.Open(ctx, cfg, log)
			if err != nil {
				t.Fatal(err)
			}
			defer app.Close()
			if deferred, err := app.Registry.StartBulkLoad(sys); err != nil || len(deferred) != 0 {
				t.Fatalf("StartBulkLoad on a registry with people = %v, %v; want nothing deferred", deferred, err)
			}
			wantIndexes(t, cfg.DB)
		})
	}
}
