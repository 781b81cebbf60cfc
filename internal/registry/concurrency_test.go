package registry_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"

	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

const writers = 20

// addOther reads the record and writes it back with one more entry in
// "other", at the version it read.
func addOther(ctx context.Context, e *env, pid personalid.Number, key string) error {
	c, err := e.svc.Get(ctx, string(pid), "")
	if err != nil {
		return err
	}
	other := maps.Clone(c.Other)
	if other == nil {
		other = map[string]string{}
	}
	other[key] = "giá trị " + key
	b, _ := json.Marshal(other)
	_, err = e.svc.Update(ctx, string(pid), c.Version, registry.Patch{
		Set: map[string]json.RawMessage{"other": b}, Basis: registry.Basis{Reason: "ghi " + key}})
	return err
}

// race runs fn(i) for i in [0, n) at once and returns their errors.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// Concurrent read-modify-write at the version read: some win, the others
// are told to read again, and no winner's change is lost.
func TestConcurrentUpdatesLoseNothing(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := communeRegistrar(e.p.baDinh)
		c := e.existing(t, ctx, person("Đinh Văn Đua", "1980-01-01", personalid.Male, e.p.baDinh))
		results := race(writers, func(i int) error { return addOther(ctx, e, c.PID, fmt.Sprintf("k%02d", i)) })
		var won []string
		for i, err := range results {
			switch {
			case err == nil:
				won = append(won, fmt.Sprintf("k%02d", i))
			case errs.Is(err, errs.Precondition):
			default:
				t.Errorf("writer %d: %v (%s), want success or Precondition", i, err, errs.KindOf(err))
			}
		}
		if len(won) == 0 {
			t.Fatal("no writer succeeded")
		}
		got := e.get(t, c.PID)
		if got.Version != int64(1+len(won)) {
			t.Errorf("version %d after %d successful updates, want %d", got.Version, len(won), 1+len(won))
		}
		if keys := slices.Sorted(maps.Keys(got.Other)); !slices.Equal(keys, won) {
			t.Errorf("other has %v, want exactly the winners %v", keys, won)
		}
		if h := e.history(t, c.PID); len(h) != 1+len(won) {
			t.Errorf("%d revisions, want %d", len(h), 1+len(won))
		}
		t.Logf("%d of %d writers won", len(won), writers)
	})
}

// Writers that read again on Precondition all get their change in, each in
// its own revision.
func TestConcurrentUpdatesWithRetry(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := communeRegistrar(e.p.baDinh)
		c := e.existing(t, ctx, person("Đinh Văn Đua", "1980-01-01", personalid.Male, e.p.baDinh))
		results := race(writers, func(i int) error {
			for attempt := 0; attempt < 10*writers; attempt++ {
				err := addOther(ctx, e, c.PID, fmt.Sprintf("k%02d", i))
				if !errs.Is(err, errs.Precondition) {
					return err
				}
			}
			return fmt.Errorf("writer %d never got through", i)
		})
		for i, err := range results {
			if err != nil {
				t.Errorf("writer %d: %v", i, err)
			}
		}
		got := e.get(t, c.PID)
		if got.Version != 1+writers || len(got.Other) != writers {
			t.Errorf("version %d with %d entries in other, want %d and %d", got.Version, len(got.Other), 1+writers, writers)
		}
		h := e.history(t, c.PID)
		if len(h) != 1+writers {
			t.Fatalf("%d revisions, want %d", len(h), 1+writers)
		}
		added := map[string]bool{}
		for _, r := range h[1:] {
			if len(r.Changes) != 1 || r.Changes[0].Field != "other" {
				t.Fatalf("revision %d changes %+v, want only other", r.Version, r.Changes)
			}
			before, _ := r.Changes[0].Before.(map[string]any)
			after, _ := r.Changes[0].After.(map[string]any)
			if len(after) != len(before)+1 {
				t.Errorf("revision %d goes from %d to %d entries, want one more", r.Version, len(before), len(after))
			}
			for k := range after {
				if _, ok := before[k]; !ok {
					if added[k] || r.Reason != "ghi "+k {
						t.Errorf("revision %d adds %s with reason %q", r.Version, k, r.Reason)
					}
					added[k] = true
				}
			}
		}
		if len(added) != writers {
			t.Errorf("history shows %d writers' changes, want %d", len(added), writers)
		}
	})
}

// Births registered at once with the same prefix get distinct numbers.
func TestConcurrentBirths(t *testing.T) {
	const n = 50
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := communeRegistrar(e.p.baDinh)
		got := make([]personalid.Number, n)
		results := race(n, func(i int) error {
			c, err := e.svc.RegisterBirth(ctx, birth(fmt.Sprintf("Đinh Thị Song %s", string(rune('A'+i%26))), "2025-05-05", personalid.Female, e.p.baDinh), "")
			got[i] = c.PID
			return err
		})
		for i, err := range results {
			if err != nil {
				t.Fatalf("birth %d: %v", i, err)
			}
		}
		distinct := map[personalid.Number]bool{}
		prefix := "0" + e.p.hanoi.Code + "325"
		for _, pid := range got {
			if string(pid[:6]) != prefix {
				t.Errorf("number %s, want prefix %s", pid, prefix)
			}
			distinct[pid] = true
		}
		if len(distinct) != n {
			t.Errorf("%d distinct numbers for %d births", len(distinct), n)
		}
		if k := count(t, db, `SELECT COUNT(*) FROM pid_issued WHERE origin = 'birth'`); k != n {
			t.Errorf("%d numbers issued, want %d", k, n)
		}
		if k := count(t, db, `SELECT COUNT(*) FROM citizen`); k != n {
			t.Errorf("%d records, want %d", k, n)
		}
	})
}

// Retries of one request that arrive at once register the child once.
func TestConcurrentIdempotentBirth(t *testing.T) {
	const n = 10
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := communeRegistrar(e.p.baDinh)
		got := make([]personalid.Number, n)
		results := race(n, func(i int) error {
			c, err := e.svc.RegisterBirth(ctx, birth("Đinh Văn Một", "2025-05-05", personalid.Male, e.p.baDinh), "retry-me")
			got[i] = c.PID
			return err
		})
		for i, err := range results {
			if err != nil {
				t.Fatalf("attempt %d: %v", i, err)
			}
			if got[i] != got[0] {
				t.Errorf("attempt %d registered %s, attempt 0 %s", i, got[i], got[0])
			}
		}
		if k := e.tables(t); k.citizen != 1 || k.issued != 1 || k.revisions != 1 {
			t.Errorf("store holds %+v, want one registration", k)
		}
	})
}
