package synth

import (
	"context"
	"strings"
	"testing"

	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/registry"
)

func TestFeistelIsAPermutation(t *testing.T) {
	for _, seed := range []uint64{0, 1, 0xdeadbeef} {
		f := newFeistel(1000, seed)
		seen := make([]bool, tails)
		for k := uint64(0); k < tails; k++ {
			v := f.permute(k)
			if v >= tails || seen[v] {
				t.Fatalf("seed %d: permute(%d) = %d repeats or is out of range", seed, k, v)
			}
			seen[v] = true
		}
	}
}

func TestPIDIssuer(t *testing.T) {
	p := newPIDIssuer(7)
	seen := map[string]bool{}
	for i := 0; i < 2000; i++ {
		n, err := p.issue("79", personalid.Female, 1990, i%2 == 0)
		if err != nil {
			t.Fatal(err)
		}
		pid, err := personalid.Parse(n)
		if err != nil || pid.Province() != "079" || pid.Sex() != personalid.Female || pid.BirthYear() != 1990 {
			t.Fatalf("issued %s (%v)", n, err)
		}
		if seen[n] {
			t.Fatalf("%s issued twice", n)
		}
		seen[n] = true
	}
	// A prefix runs out after a million numbers.
	slot := 1*1000 + 0*100 + 90
	p.up[slot], p.down[slot] = tails-2, 1
	if _, err := p.issue("01", personalid.Male, 1990, false); err != nil {
		t.Fatalf("last number refused: %v", err)
	}
	if _, err := p.issue("01", personalid.Male, 1990, true); err == nil || !strings.Contains(err.Error(), "001090") {
		t.Fatalf("exhausted prefix: %v", err)
	}
	if _, err := p.issue("03", personalid.Male, 1990, false); err == nil {
		t.Fatal("unknown province accepted")
	}
}

func TestHouseholdIDs(t *testing.T) {
	h := newHouseholdIDs(1)
	seen := map[string]bool{}
	for i := 0; i < 100000; i++ {
		id := h.next()
		if len(id) != 12 || !strings.HasPrefix(id, "HH") || seen[id] {
			t.Fatalf("household id %q (repeat: %v)", id, seen[id])
		}
		seen[id] = true
	}
}

// BenchmarkGenerate measures the generator alone, without output.
func BenchmarkGenerate(b *testing.B) {
	units := testUnits(b)
	const n = 100000
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Generate(context.Background(), Config{Count: n, Seed: 1, DupRate: 0.05}, units, func(*registry.LegacyRecord) error { return nil }, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "people/s")
}

// BenchmarkGenerateJSONL measures generation and the JSON Lines writer.
func BenchmarkGenerateJSONL(b *testing.B) {
	units := testUnits(b)
	const n = 100000
	var out countWriter
	for b.Loop() {
		w, _ := NewWriter(&out, JSONL)
		if _, err := Generate(context.Background(), Config{Count: n, Seed: 1}, units, w.Write, nil); err != nil {
			b.Fatal(err)
		}
		w.Flush()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "people/s")
	b.ReportMetric(float64(out)/float64(n*b.N), "bytes/person")
}

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }
