package synth

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/codelist"
	"github.com/dancu-vn/dancu/internal/registry"
)

var loadUnits = sync.OnceValues(adminunit.Load)

func testUnits(t testing.TB) *adminunit.Catalog {
	t.Helper()
	u, err := loadUnits()
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// validator is the registry's import validation; ValidateLegacy does not
// use the store.
func validator(t testing.TB) *registry.Service {
	u := testUnits(t)
	return registry.NewService(nil, u, codelist.New(), access.NewPolicy(u), nil, nil)
}

type pair struct{ original, duplicate string }

// generate runs Generate and returns every record and true pair.
func generate(t testing.TB, cfg Config) ([]*registry.LegacyRecord, []pair, Stats) {
	t.Helper()
	var recs []*registry.LegacyRecord
	var pairs []pair
	st, err := Generate(context.Background(), cfg, testUnits(t),
		func(r *registry.LegacyRecord) error { recs = append(recs, r); return nil },
		func(a, b string) error { pairs = append(pairs, pair{a, b}); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if st.Records() != len(recs) || st.People != cfg.Count || st.Duplicates != len(pairs) {
		t.Fatalf("stats %+v for %d records, %d pairs, count %d", st, len(recs), len(pairs), cfg.Count)
	}
	return recs, pairs, st
}

// render writes a population in a format and returns the bytes.
func render(t *testing.T, cfg Config, f Format) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, f)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(context.Background(), cfg, testUnits(t), w.Write, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDeterministic(t *testing.T) {
	cfg := Config{Count: 3000, Seed: 42, DupRate: 0.1}
	for _, f := range []Format{JSONL, CSV} {
		a, b := render(t, cfg, f), render(t, cfg, f)
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s: two runs with seed 42 differ (%d and %d bytes)", f, len(a), len(b))
		}
		other := cfg
		other.Seed = 43
		if c := render(t, other, f); bytes.Equal(a, c) {
			t.Errorf("%s: seeds 42 and 43 give the same output", f)
		}
	}
	// The population does not depend on the duplicate rate: without
	// duplicates, the same seed gives the same people, in the same order.
	noDup := cfg
	noDup.DupRate = 0
	var people []string
	for _, line := range strings.Split(strings.TrimSpace(string(render(t, cfg, JSONL))), "\n") {
		if strings.Contains(line, `"household":`) {
			people = append(people, line)
		}
	}
	if got := strings.Split(strings.TrimSpace(string(render(t, noDup, JSONL))), "\n"); strings.Join(got, "\n") != strings.Join(people, "\n") {
		t.Errorf("the population changes with the duplicate rate: %d people with duplicates, %d without", len(people), len(got))
	}
}

// TestEveryRecordValid runs every record, duplicates included, through the
// registry's import validation and checks that numbers are unique and
// agree with the birth registration province.
func TestEveryRecordValid(t *testing.T) {
	recs, _, st := generate(t, Config{Count: 20000, Seed: 3, DupRate: 0.05})
	if st.Duplicates < 500 {
		t.Fatalf("only %d duplicates at rate 0.05", st.Duplicates)
	}
	svc := validator(t)
	seen := make(map[string]bool, len(recs))
	for i, r := range recs {
		pid := r.PID
		if seen[pid] {
			t.Fatalf("record %d: personal ID number %s issued twice", i, pid)
		}
		seen[pid] = true
		if reg := r.BirthRegistrationPlace; reg != nil && (pid[0] != '0' || pid[1:3] != reg.Province) {
			t.Errorf("record %d: %s does not start with the registration province %s", i, pid, reg.Province)
		}
		if err := svc.ValidateLegacy(r); err != nil {
			t.Fatalf("record %d (%s %s) refused: %v", i, pid, r.Name.Full(), err)
		}
	}
}

func TestCountsAndCancel(t *testing.T) {
	for _, n := range []int{0, 1, 2, 7} {
		recs, _, st := generate(t, Config{Count: n, Seed: uint64(n)})
		if len(recs) != n || (n > 0 && st.Households == 0) {
			t.Errorf("Count %d: %d records, %d households", n, len(recs), st.Households)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Generate(ctx, Config{Count: 10}, testUnits(t), func(*registry.LegacyRecord) error { return nil }, nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
	stop := errors.New("disk full")
	_, err = Generate(context.Background(), Config{Count: 10}, testUnits(t), func(*registry.LegacyRecord) error { return stop }, nil)
	if !errors.Is(err, stop) {
		t.Errorf("emit error not returned: %v", err)
	}
	for _, bad := range []Config{{Count: -1}, {Count: 1, DupRate: 1.5}, {Count: 1, DupRate: -0.1}, {Count: 1, Today: time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)}} {
		if _, err := Generate(context.Background(), bad, testUnits(t), func(*registry.LegacyRecord) error { return nil }, nil); err == nil {
			t.Errorf("config %+v accepted", bad)
		}
	}
}

// TestToday checks that ages are reckoned from Config.Today: no one is born
// after it, or before 1925.
func TestToday(t *testing.T) {
	today := time.Date(2025, 3, 15, 0, 0, 0, 0, time.UTC)
	recs, _, _ := generate(t, Config{Count: 5000, Seed: 9, Today: today})
	for _, r := range recs {
		if r.BirthDate > "2025-03-15" || r.BirthDate < "1925-01-01" {
			t.Fatalf("%s born %s with today %s", r.PID, r.BirthDate, today.Format(time.DateOnly))
		}
		if r.BirthRegistrationPlace.Scheme != "2022" {
			t.Fatalf("%s born %s before the reform registered in the %s scheme", r.PID, r.BirthDate, r.BirthRegistrationPlace.Scheme)
		}
	}
}
