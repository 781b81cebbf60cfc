package bulk_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/bulk"
	"github.com/dancu-vn/dancu/internal/codelist"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

var loadUnits = sync.OnceValues(adminunit.Load)

func newService(t testing.TB, db *sqldb.DB) *registry.Service {
	t.Helper()
	units, err := loadUnits()
	if err != nil {
		t.Fatal(err)
	}
	rec := audit.NewRecorder(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(rec.Close)
	return registry.NewService(db, units, codelist.New(), access.NewPolicy(units), rec, nil)
}

var system = actor.With(context.Background(), actor.SystemActor("test"))

// family returns a household of three as records: a head, a spouse and a
// child, numbered from seq.
func family(seq int) []registry.LegacyRecord {
	hh := fmt.Sprintf("HH%06d", seq)
	addr := &registry.Address{Commune: "00004", Detail: fmt.Sprintf("Số %d Phố Đội Cấn", seq)}
	head := fmt.Sprintf("001080%06d", seq)
	wife := fmt.Sprintf("001182%06d", seq)
	kid := fmt.Sprintf("001210%06d", seq)
	mk := func(pid, fam, mid, giv, dob string, sex personalid.Sex, rel string) registry.LegacyRecord {
		a := *addr
		return registry.LegacyRecord{PID: pid, Household: &registry.JoinHousehold{HouseholdID: hh, Relationship: rel},
			Details: registry.Details{Name: registry.Name{Family: fam, Middle: mid, Given: giv}, BirthDate: dob, Sex: sex,
				Ethnicity: &registry.Ethnicity{Code: "01"}, PermanentResidence: &a}}
	}
	h := mk(head, "Nguyễn", "Văn", "Hùng", "1980-03-01", personalid.Male, "head")
	w := mk(wife, "Trần", "Thị", "Mai", "1982-07-09", personalid.Female, "spouse")
	c := mk(kid, "Nguyễn", "Minh", "Đức", "2010-11-20", personalid.Male, "child")
	h.Spouse = &registry.Relative{PID: wife}
	w.Spouse = &registry.Relative{PID: head}
	c.Father, c.Mother = &registry.Relative{PID: head}, &registry.Relative{PID: wife}
	return []registry.LegacyRecord{h, w, c}
}

func jsonl(t testing.TB, recs []registry.LegacyRecord, extra ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, r := range recs {
		line, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	for _, e := range extra {
		b.WriteString(e + "\n")
	}
	return b.Bytes()
}

func population(families int) []registry.LegacyRecord {
	var out []registry.LegacyRecord
	for i := 0; i < families; i++ {
		out = append(out, family(i)...)
	}
	return out
}

type counts map[string]int

func tableCounts(t testing.TB, db *sqldb.DB) counts {
	t.Helper()
	c := counts{}
	for _, tbl := range []string{"citizen", "pid_issued", "citizen_revision", "citizen_link", "household"} {
		var n int
		if err := db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+tbl).Scan(&n); err != nil {
			t.Fatal(err)
		}
		c[tbl] = n
	}
	return c
}

func TestImportGoodAndBadRows(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		svc := newService(t, db)
		good := population(40) // 120 people
		bad := []string{
			`{"pid":"00109012345X","name":{"family":"A","given":"B"},"birth_date":"1990-01-01","sex":"male"}`,
			`{"pid":"001091000001","name":{"family":"A","given":"B"},"birth_date":"1990-01-01","sex":"male"}`,
			`{"pid":"001090000001","name":{"family":"A","given":"B"},"birth_date":"1990-01-01","sex":"male","permanent_residence":{"commune":"99999"}}`,
			`{"pid":"001090000002","name":{"family":"A","given":"B"},"birth_date":"1990-01-01","sex":"male","hair":"black"}`,
			`{"pid":"001090000003","name":{"family":"A","given":"B"},"birth_date":19900101,"sex":"male"}`,
			`this is not JSON`,
		}
		input := jsonl(t, good[:60], bad...)
		input = append(input, jsonl(t, good[60:])...)
		var rejects bytes.Buffer
		p, err := bulk.Import(system, svc, bytes.NewReader(input), bulk.Options{Rejects: &rejects, BatchSize: 50, Source: "test.jsonl"})
		if err != nil {
			t.Fatal(err)
		}
		if p.Rows != 126 || p.Imported != 120 || p.Rejected != 6 || p.Existing != 0 {
			t.Fatalf("progress %+v", p)
		}
		var got []bulk.Reject
		for _, l := range strings.Split(strings.TrimSpace(rejects.String()), "\n") {
			var r bulk.Reject
			json.Unmarshal([]byte(l), &r)
			got = append(got, r)
		}
		want := []struct {
			line  int64
			field string
		}{{61, "pid"}, {62, "birth_date"}, {63, "permanent_residence.commune"}, {64, "hair"}, {65, "birth_date"}, {66, ""}}
		for i, w := range want {
			if got[i].Line != w.line || got[i].Field != w.field || got[i].Reason == "" {
				t.Errorf("reject %d = %+v, want line %d field %q", i, got[i], w.line, w.field)
			}
		}
		c := tableCounts(t, db)
		if c["citizen"] != 120 || c["pid_issued"] != 120 || c["citizen_revision"] != 120 || c["household"] != 40 || c["citizen_link"] != 40*4 {
			t.Fatalf("tables after import: %v", c)
		}
		// The records read back as the registry's, with links and households.
		kid, err := svc.Get(system, "001210000007", "test")
		if err != nil {
			t.Fatal(err)
		}
		if kid.Father == nil || kid.Father.Name != "Nguyễn Văn Hùng" || kid.Household == nil || kid.Household.HeadPID != "001080000007" {
			t.Fatalf("imported child: father %+v household %+v", kid.Father, kid.Household)
		}
		dad, _ := svc.Get(system, "001080000007", "test")
		if len(dad.Children) != 1 || dad.Children[0].PID != "001210000007" {
			t.Fatalf("father's children: %+v", dad.Children)
		}
		hist, _ := svc.History(system, "001080000007")
		if len(hist) != 1 || hist[0].Action != "import" || !strings.Contains(hist[0].Reason, "test.jsonl") {
			t.Fatalf("history of an imported record: %+v", hist)
		}

		// A second import of the same file changes nothing.
		p2, err := bulk.Import(system, svc, bytes.NewReader(input), bulk.Options{BatchSize: 50})
		if err != nil {
			t.Fatal(err)
		}
		if p2.Imported != 0 || p2.Existing != 120 || p2.Rejected != 6 {
			t.Fatalf("second import: %+v", p2)
		}
		if c2 := tableCounts(t, db); fmt.Sprint(c2) != fmt.Sprint(c) {
			t.Fatalf("second import changed the tables: %v, was %v", c2, c)
		}
	})
}

// failingReader delivers n bytes and then fails, as a crashed import would
// stop reading.
type failingReader struct {
	r io.Reader
	n int
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("the disk went away")
	}
	if len(p) > f.n {
		p = p[:f.n]
	}
	k, err := f.r.Read(p)
	f.n -= k
	return k, err
}

func TestInterruptedImportCompletesOnRerun(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		svc := newService(t, db)
		input := jsonl(t, population(400)) // 1,200 people
		_, err := bulk.Import(system, svc, &failingReader{r: bytes.NewReader(input), n: len(input) / 2}, bulk.Options{BatchSize: 100})
		if err == nil {
			t.Fatal("the broken read did not stop the import")
		}
		mid := tableCounts(t, db)
		if mid["citizen"] == 0 || mid["citizen"] >= 1200 {
			t.Fatalf("after the interruption %d people, want some but not all", mid["citizen"])
		}
		if mid["citizen"] != mid["pid_issued"] || mid["citizen"] != mid["citizen_revision"] {
			t.Fatalf("half-written batch: %v", mid)
		}
		p, err := bulk.Import(system, svc, bytes.NewReader(input), bulk.Options{BatchSize: 100})
		if err != nil {
			t.Fatal(err)
		}
		if p.Imported+p.Existing != 1200 || p.Existing != int64(mid["citizen"]) {
			t.Fatalf("re-run: %+v after %d", p, mid["citizen"])
		}
		end := tableCounts(t, db)
		if end["citizen"] != 1200 || end["pid_issued"] != 1200 || end["citizen_revision"] != 1200 || end["household"] != 400 {
			t.Fatalf("after the re-run: %v", end)
		}
	})
}

func TestExportImportRoundTrip(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		svc := newService(t, db)
		if _, err := bulk.Import(system, svc, bytes.NewReader(jsonl(t, population(30))), bulk.Options{}); err != nil {
			t.Fatal(err)
		}
		for _, format := range []string{"jsonl", "csv"} {
			var out bytes.Buffer
			var cw *csv.Writer
			emit := func(r *registry.LegacyRecord) error { b, _ := json.Marshal(r); out.Write(append(b, '\n')); return nil }
			if format == "csv" {
				cw = csv.NewWriter(&out)
				cw.Write(bulk.CSVHeader())
				emit = func(r *registry.LegacyRecord) error { return cw.Write(bulk.ToCSV(r)) }
			}
			n, err := svc.Export(system, registry.ExportFilter{}, emit)
			if cw != nil {
				cw.Flush()
			}
			if err != nil || n != 90 {
				t.Fatalf("%s export: %d, %v", format, n, err)
			}
			other := sqldbtest.Open(t, "sqlite")
			svc2 := newService(t, other)
			var rejects bytes.Buffer
			p, err := bulk.Import(system, svc2, &out, bulk.Options{Format: format, Rejects: &rejects})
			if err != nil || p.Imported != 90 {
				t.Fatalf("%s re-import: %+v %v\n%s", format, p, err, rejects.String())
			}
			a, _ := svc.Get(system, "001210000005", "")
			b, _ := svc2.Get(system, "001210000005", "")
			a.CreatedAt, a.UpdatedAt, b.CreatedAt, b.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
			ja, _ := json.Marshal(a)
			jb, _ := json.Marshal(b)
			if format == "jsonl" && !bytes.Equal(ja, jb) {
				t.Fatalf("round trip changed the record:\n%s\n%s", ja, jb)
			}
			if b.FullName != "Nguyễn Minh Đức" || b.Household == nil || b.Father == nil {
				t.Fatalf("%s round trip: %+v", format, b)
			}
		}
		// Filters.
		n, err := svc.Export(system, registry.ExportFilter{BirthYear: 2010}, func(*registry.LegacyRecord) error { return nil })
		if err != nil || n != 30 {
			t.Fatalf("export born 2010: %d, %v", n, err)
		}
		if _, err := svc.Export(system, registry.ExportFilter{Commune: "99999"}, nil); err == nil {
			t.Fatal("unknown commune accepted")
		}
	})
}

func TestCSVHeaderErrors(t *testing.T) {
	db := sqldbtest.Open(t, "sqlite")
	svc := newService(t, db)
	_, err := bulk.Import(system, svc, strings.NewReader("pid,family_name,shoe_size\n"), bulk.Options{Format: "csv"})
	if err == nil || !strings.Contains(err.Error(), "shoe_size") {
		t.Fatalf("unknown column: %v", err)
	}
	var rejects bytes.Buffer
	p, err := bulk.Import(system, svc, strings.NewReader("pid,family_name,given_name,birth_date,sex\n001090000009,Lê,Na,1990-02-03,male\n001090000010,\"Lê,Na\n"),
		bulk.Options{Format: "csv", Rejects: &rejects})
	if err != nil || p.Imported != 1 || p.Rejected != 1 {
		t.Fatalf("csv with a broken row: %+v %v %s", p, err, rejects.String())
	}
}

func BenchmarkImportSQLite(b *testing.B) {
	input := jsonl(b, population(3334)) // ≈10k people
	for b.Loop() {
		b.StopTimer()
		db := sqldbtest.Open(b, "sqlite")
		svc := newService(b, db)
		b.StartTimer()
		p, err := bulk.Import(system, svc, bytes.NewReader(input), bulk.Options{})
		if err != nil || p.Imported != 10002 {
			b.Fatal(p, err)
		}
	}
	b.ReportMetric(float64(10002*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// A store that fails in the middle of an import ends the import with the
// error, promptly, instead of leaving its goroutines waiting on each other.
func TestImportStopsOnStoreFailure(t *testing.T) {
	db := sqldbtest.Open(t, "sqlite")
	svc := newService(t, db)
	input := jsonl(t, population(2000))
	done := make(chan error, 1)
	go func() {
		batches := 0
		_, err := bulk.Import(system, svc, bytes.NewReader(input), bulk.Options{BatchSize: 100, Progress: func(bulk.Progress) {
			if batches++; batches == 2 {
				db.DB.Close() // the store goes away
			}
		}})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("the import did not report the failed store")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the import hung after the store failed")
	}
}
