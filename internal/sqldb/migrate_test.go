package sqldb_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

func TestMigrateFromEmpty(t *testing.T) {
	for _, engine := range sqldbtest.EngineNames() {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			db := sqldbtest.OpenEmpty(t, engine)
			if err := db.CheckSchema(ctx); !errs.Is(err, errs.Unavailable) {
				t.Fatalf("CheckSchema on empty db = %v, want Unavailable", err)
			}
			applied, err := db.Migrate(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(applied) != sqldb.LatestVersion() || applied[0] != 1 {
				t.Fatalf("applied %v, want 1..%d", applied, sqldb.LatestVersion())
			}
			if err := db.CheckSchema(ctx); err != nil {
				t.Fatalf("CheckSchema after migrate: %v", err)
			}
			again, err := db.Migrate(ctx)
			if err != nil || len(again) != 0 {
				t.Fatalf("second Migrate = %v, %v; want nothing to do", again, err)
			}
			// A schema newer than the binary is refused.
			if _, err := db.ExecContext(ctx, `INSERT INTO schema_migration (version, name, applied_at) VALUES ($1, 'future', $2)`,
				sqldb.LatestVersion()+1, time.Now().UTC()); err != nil {
				t.Fatal(err)
			}
			if err := db.CheckSchema(ctx); !errs.Is(err, errs.Conflict) || !strings.Contains(err.Error(), "newer") {
				t.Fatalf("CheckSchema on newer schema = %v", err)
			}
			if _, err := db.Migrate(ctx); err == nil {
				t.Fatal("Migrate on a newer schema succeeded")
			}
		})
	}
}

func TestRevisionsAreAppendOnly(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		now := time.Now().UTC()
		if _, err := db.ExecContext(ctx, `INSERT INTO access_event (id, at, actor_id, actor_kind, actor_name, action, subject_pid, purpose, detail, source)
			VALUES ('e1', $1, 'a', 'officer', 'A', 'read', '001090123456', '', '', '')`, now); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `UPDATE access_event SET action = 'x'`); err == nil {
			t.Fatal("update of access_event succeeded")
		}
		if _, err := db.ExecContext(ctx, `DELETE FROM access_event`); err == nil {
			t.Fatal("delete of access_event succeeded")
		}
	})
}

func TestRedact(t *testing.T) {
	got := sqldb.Redact("postgres://u:secret@host/db")
	if strings.Contains(got, "secret") {
		t.Fatalf("Redact left the password: %s", got)
	}
}
