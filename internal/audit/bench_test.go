package audit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// BenchmarkRecordBatch records access events 5,000 at a time, as a batch
// verification chunk does.
func BenchmarkRecordBatch(b *testing.B) {
	db := sqldbtest.Open(b, "sqlite")
	rec := audit.NewRecorder(db, quiet())
	defer rec.Close()
	ctx := actor.With(context.Background(), &actor.Actor{ID: "bank-1", Kind: actor.Agency, Name: "Ngân hàng A"})
	evs := make([]audit.Event, 5000)
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		now := time.Now()
		for i := range evs {
			evs[i] = audit.NewEvent(ctx, now, "verify", fmt.Sprintf("001090%06d", i), "batch; fields name,birth_date; match")
			evs[i].Purpose = "eKYC"
		}
		if err := rec.Record(ctx, evs...); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(evs))/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkRecordGroup records the same 5,000 accesses as one group event.
func BenchmarkRecordGroup(b *testing.B) {
	db := sqldbtest.Open(b, "sqlite")
	rec := audit.NewRecorder(db, quiet())
	defer rec.Close()
	ctx := actor.With(context.Background(), &actor.Actor{ID: "bank-1", Kind: actor.Agency, Name: "Ngân hàng A"})
	pids := make([]string, 5000)
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for i := range pids {
			pids[i] = fmt.Sprintf("001090%06d", (n*5000+i*7919)%1000000)
		}
		ev := audit.NewGroupEvent(ctx, time.Now(), "verify", pids, "batch; fields name,birth_date")
		if err := rec.Record(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(pids))/b.Elapsed().Seconds(), "subjects/s")
}

// BenchmarkSeal seals 10,000 recorded events into the tree, a checkpoint
// every 1,000, as the server's sealer does after a busy interval.
func BenchmarkSeal(b *testing.B) {
	db := sqldbtest.Open(b, "sqlite")
	rec := audit.NewRecorder(db, quiet())
	defer rec.Close()
	sealer, err := eid.NewSealer(make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	chain := audit.NewChain(db, sealer, "", nil)
	ctx := actor.With(context.Background(), &actor.Actor{ID: "bank-1", Kind: actor.Agency, Name: "Ngân hàng A"})
	evs := make([]audit.Event, 10000)
	sealed := 0
	for n := 0; n < b.N; n++ {
		b.StopTimer()
		for i := range evs {
			evs[i] = audit.NewEvent(ctx, time.Now(), "verify", fmt.Sprintf("001090%06d", i), "eKYC")
		}
		if err := rec.Record(ctx, evs...); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		k, err := chain.Seal(ctx, len(evs))
		if err != nil || k != len(evs) {
			b.Fatalf("Seal = %d, %v", k, err)
		}
		sealed += k
	}
	b.ReportMetric(float64(sealed)/b.Elapsed().Seconds(), "events/s")
}
