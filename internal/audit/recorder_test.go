package audit_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func count(t *testing.T, db *sqldb.DB, where string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM access_event WHERE `+where, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRecordIsDurableWhenItReturns(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		rec := audit.NewRecorder(db, quiet())
		defer rec.Close()
		ctx := actor.With(context.Background(), &actor.Actor{ID: "o1", Kind: actor.Officer, Name: "lan", Source: "10.0.0.1"})
		const callers, each = 40, 25
		var wg sync.WaitGroup
		errc := make(chan error, callers)
		for c := 0; c < callers; c++ {
			wg.Add(1)
			go func(c int) {
				defer wg.Done()
				for i := 0; i < each; i++ {
					ev := audit.NewEvent(ctx, time.Now(), "read", fmt.Sprintf("0010901%05d", c*each+i), "")
					if err := rec.Record(ctx, ev); err != nil {
						errc <- err
						return
					}
					// Once Record returns, the event is in the table.
					if n := count(t, db, `subject_pid = $1`, ev.Subject); n != 1 {
						errc <- fmt.Errorf("event for %s: %d rows after Record returned", ev.Subject, n)
						return
					}
				}
			}(c)
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatal(err)
		}
		if n := count(t, db, `actor_id = 'o1' AND actor_name = 'lan' AND source = '10.0.0.1'`); n != callers*each {
			t.Fatalf("%d events recorded, want %d", n, callers*each)
		}
	})
}

func TestRecordManyInOneCall(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		rec := audit.NewRecorder(db, quiet())
		defer rec.Close()
		ctx := actor.With(context.Background(), actor.SystemActor("test"))
		var evs []audit.Event
		for i := 0; i < 450; i++ { // more than one multi-row INSERT
			evs = append(evs, audit.NewEvent(ctx, time.Now(), "search_result", fmt.Sprintf("001090%06d", i), "name=an"))
		}
		if err := rec.Record(ctx, evs...); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, `action = 'search_result'`); n != 450 {
			t.Fatalf("%d rows, want 450", n)
		}
	})
}

func TestCloseDrainsAndRefuses(t *testing.T) {
	db := sqldbtest.Open(t, "sqlite")
	rec := audit.NewRecorder(db, quiet())
	ctx := context.Background()
	if err := rec.Record(ctx, audit.NewEvent(ctx, time.Now(), "read", "001090000001", "")); err != nil {
		t.Fatal(err)
	}
	rec.Close()
	rec.Close() // idempotent
	err := rec.Record(ctx, audit.NewEvent(ctx, time.Now(), "read", "001090000002", ""))
	if !errs.Is(err, errs.Unavailable) {
		t.Fatalf("Record after Close = %v, want Unavailable", err)
	}
	if n := count(t, db, `1=1`); n != 1 {
		t.Fatalf("%d rows, want 1", n)
	}
}

func TestAnonymousEventsAreMarked(t *testing.T) {
	ev := audit.NewEvent(context.Background(), time.Now(), "login_failed", "", "")
	if ev.ActorID != "anonymous" || ev.ID == "" || ev.At.Location() != time.UTC {
		t.Fatalf("anonymous event: %+v", ev)
	}
}

func TestListNewestFirstWithKeyset(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		rec := audit.NewRecorder(db, quiet())
		defer rec.Close()
		ctx := actor.With(context.Background(), &actor.Actor{ID: "o2", Kind: actor.Officer, Name: "minh"})
		for i := 0; i < 7; i++ {
			if err := rec.Record(ctx, audit.NewEvent(ctx, time.Now(), "read", "001090000042", fmt.Sprint(i))); err != nil {
				t.Fatal(err)
			}
		}
		rec.Record(ctx, audit.NewEvent(ctx, time.Now(), "read", "001090000043", "other"))
		var all []audit.Event
		before := ""
		for {
			page, err := audit.List(ctx, db, audit.Filter{Subject: "001090000042", Before: before, Limit: 3})
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			all = append(all, page...)
			before = page[len(page)-1].ID
		}
		if len(all) != 7 {
			t.Fatalf("%d events, want 7", len(all))
		}
		for i, e := range all {
			if want := fmt.Sprint(6 - i); e.Detail != want || e.Name != "minh" {
				t.Fatalf("event %d: detail %q actor %q, want %q (newest first)", i, e.Detail, e.Name, want)
			}
		}
	})
}

func TestOddTextCannotFailABatch(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		rec := audit.NewRecorder(db, quiet())
		defer rec.Close()
		ctx := context.Background()
		bad := audit.NewEvent(ctx, time.Now(), "read", "001090000001", "nul\x00and invalid \xff utf-8")
		bad.Purpose = "\x00"
		if err := rec.Record(ctx, bad, audit.NewEvent(ctx, time.Now(), "read", "001090000002", "fine")); err != nil {
			t.Fatalf("an event with NUL and invalid UTF-8 failed its batch: %v", err)
		}
		if n := count(t, db, `action = 'read'`); n != 2 {
			t.Fatalf("%d rows, want 2", n)
		}
	})
}
