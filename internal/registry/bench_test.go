package registry_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/codelist"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// benchRegistry returns a SQLite registry holding n people registered from
// legacy data, and their numbers.
func benchRegistry(b *testing.B, n int) (*registry.Service, *sqldb.DB, []string, context.Context) {
	b.Helper()
	db := sqldbtest.Open(b, "sqlite")
	units, err := adminunit.Load()
	if err != nil {
		b.Fatal(err)
	}
	rec := audit.NewRecorder(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	b.Cleanup(rec.Close)
	svc := registry.NewService(db, units, codelist.New(), access.NewPolicy(units), rec, nil)
	ctx := actor.With(context.Background(), actor.SystemActor("bench"))
	pids := make([]string, 0, n)
	given := []string{"An", "Bình", "Châu", "Dũng", "Hà", "Khôi", "Lan", "Minh"}
	for i := 0; i < n; i++ {
		pid := fmt.Sprintf("001090%06d", i)
		_, err := svc.RegisterExisting(ctx, registry.LegacyRecord{PID: pid, Details: registry.Details{
			Name:      registry.Name{Family: "Nguyễn", Middle: "Văn", Given: given[i%len(given)]},
			BirthDate: "1990-05-17", Sex: personalid.Male,
			PermanentResidence: &registry.Address{Commune: "00004", Detail: fmt.Sprintf("Số %d", i)},
		}})
		if err != nil {
			b.Fatal(err)
		}
		pids = append(pids, pid)
	}
	return svc, db, pids, ctx
}

// BenchmarkGet reads records by number from 64 concurrent callers (a
// server under load); each read commits its access-log record before
// returning, and group commit shares one transaction among waiting reads.
func BenchmarkGet(b *testing.B) {
	svc, _, pids, ctx := benchRegistry(b, 2000)
	var i atomic.Int64
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := svc.Get(ctx, pids[int(i.Add(1))%len(pids)], "bench"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkRawPointRead is the baseline for BenchmarkGet: a bare SQLite
// primary-key read of the document, no audit, no decoding.
func BenchmarkRawPointRead(b *testing.B) {
	_, db, pids, ctx := benchRegistry(b, 2000)
	var i atomic.Int64
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var doc string
		for pb.Next() {
			if err := db.QueryRowContext(ctx, `SELECT doc FROM citizen WHERE pid = $1`, pids[int(i.Add(1))%len(pids)]).Scan(&doc); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkSearchByName searches a folded name among people sharing it.
func BenchmarkSearchByName(b *testing.B) {
	svc, _, _, ctx := benchRegistry(b, 2000)
	b.ResetTimer()
	for b.Loop() {
		p, err := svc.Search(ctx, registry.Query{Name: "nguyen van khoi", Limit: 20})
		if err != nil || len(p.Items) != 20 {
			b.Fatal(len(p.Items), err)
		}
	}
}

// BenchmarkCompareBatch verifies batches of 5,000 records: the comparison,
// and the access record naming each person.
func BenchmarkCompareBatch(b *testing.B) {
	svc, _, pids, ctx := benchRegistry(b, 20000)
	items := make([]registry.BatchItem, 5000)
	given := []string{"An", "Bình", "Châu", "Dũng", "Hà", "Khôi", "Lan", "Minh"}
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for i := range items {
			k := (n*len(items) + i*7) % len(pids)
			items[i] = registry.BatchItem{PID: pids[k], Claims: registry.Claims{Name: "Nguyen Van " + given[k%len(given)], BirthDate: "1990-05-17"}}
		}
		res, err := svc.CompareMany(ctx, items)
		if err != nil || !res[0].Match {
			b.Fatal(res[0], err)
		}
		if err := svc.RecordBatch(ctx, items, "bench", "bench"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(items))/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkRawBatchRead is the baseline of BenchmarkCompareBatch: bare
// point reads of the compared columns, no comparison, no audit.
func BenchmarkRawBatchRead(b *testing.B) {
	_, db, pids, ctx := benchRegistry(b, 20000)
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for i := 0; i < 5000; i++ {
			var f, m, g, d, s, st string
			if err := db.QueryRowContext(ctx, `SELECT family_name, middle_name, given_name, birth_date, sex, status FROM citizen WHERE pid = $1`,
				pids[(n*5000+i*7)%len(pids)]).Scan(&f, &m, &g, &d, &s, &st); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*5000)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkRawBatchReadJSON(b *testing.B) {
	_, db, pids, ctx := benchRegistry(b, 20000)
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for c := 0; c < 5; c++ {
			ks := make([]string, 1000)
			for i := range ks {
				ks[i] = pids[(n*5000+(c*1000+i)*7)%len(pids)]
			}
			arr, _ := json.Marshal(ks)
			rows, err := db.QueryContext(ctx, `SELECT pid, family_name, middle_name, given_name, birth_date, sex, status FROM citizen WHERE pid IN (SELECT value FROM json_each($1))`, string(arr))
			if err != nil {
				b.Fatal(err)
			}
			k := 0
			for rows.Next() {
				var p, f, m, g, d, s, st string
				rows.Scan(&p, &f, &m, &g, &d, &s, &st)
				k++
			}
			rows.Close()
			if k != 1000 {
				b.Fatal(k)
			}
		}
	}
	b.ReportMetric(float64(b.N*5000)/b.Elapsed().Seconds(), "records/s")
}
