package registry_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// Many more concurrent reads than the pool has connections: each waits for
// its access record, and none may hold a connection while it waits, or the
// recorder could not commit and every read would stall.
func TestConcurrentReadsDoNotStarveTheRecorder(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := nationalAdmin()
		c := e.existing(t, ctx, person("Nguyễn Văn An", "1990-05-17", personalid.Male, e.p.baDinh))
		// More namesakes than a page, so a search stops reading early.
		e.existing(t, ctx, person("Nguyễn Văn An", "1991-05-17", personalid.Male, e.p.baDinh))
		e.existing(t, ctx, person("Nguyễn Văn An", "1992-05-17", personalid.Male, e.p.baDinh))
		hh, err := e.svc.MoveHousehold(ctx, string(c.PID), 0, registry.Move{NewAddress: &registry.Address{Commune: e.p.baDinh.Code}, Basis: registry.Basis{Reason: "x"}})
		mustOK(t, err)
		deadline, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		var wg sync.WaitGroup
		errc := make(chan error, 200)
		for i := 0; i < 200; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				var err error
				switch i % 3 {
				case 0:
					_, err = e.svc.Search(deadline, registry.Query{Name: "nguyen van an", Limit: 1})
				case 1:
					_, err = e.svc.Household(deadline, hh.Household.HouseholdID)
				default:
					_, err = e.svc.Get(deadline, string(c.PID), "")
				}
				if err != nil {
					errc <- err
				}
			}(i)
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatalf("a concurrent read failed (stalled?): %v", err)
		}
	})
}
