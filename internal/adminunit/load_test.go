package adminunit

import (
	"strings"
	"sync"
	"testing"
)

// catalog loads the embedded data once for the whole test binary.
var catalog = sync.OnceValues(Load)

func mustLoad(t testing.TB) *Catalog {
	t.Helper()
	c, err := catalog()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

func TestCounts(t *testing.T) {
	c := mustLoad(t)
	tests := []struct {
		s     Scheme
		level Level
		want  int
	}{
		{Scheme2022, LevelProvince, 63},
		{Scheme2022, LevelDistrict, 705},
		{Scheme2022, LevelCommune, 10599},
		{Scheme2025, LevelProvince, 34},
		{Scheme2025, LevelDistrict, 0},
		{Scheme2025, LevelCommune, 3321},
	}
	for _, tt := range tests {
		if got := len(c.Units(tt.s, tt.level)); got != tt.want {
			t.Errorf("Units(%s, %s): %d units, want %d", tt.s, tt.level, got, tt.want)
		}
	}
}

func TestCommuneTypeCounts(t *testing.T) {
	c := mustLoad(t)
	count := func(s Scheme) map[string]int {
		m := map[string]int{}
		for _, u := range c.Units(s, LevelCommune) {
			m[u.Type]++
		}
		return m
	}
	want2025 := map[string]int{"Xã": 2621, "Phường": 687, "Đặc khu": 13}
	for typ, n := range count(Scheme2025) {
		if want2025[typ] != n {
			t.Errorf("2025: %d communes of type %q, want %d", n, typ, want2025[typ])
		}
	}
	want2022 := map[string]int{"Xã": 8248, "Phường": 1737, "Thị trấn": 614}
	for typ, n := range count(Scheme2022) {
		if want2022[typ] != n {
			t.Errorf("2022: %d communes of type %q, want %d", n, typ, want2022[typ])
		}
	}
}

func TestMappingCounts(t *testing.T) {
	c := mustLoad(t)
	if c.mappingRows != 10977 {
		t.Errorf("mapping rows = %d, want 10977", c.mappingRows)
	}
	mapped, unmapped := 0, 0
	for _, u := range c.Units(Scheme2022, LevelCommune) {
		if _, ok := c.Current(u.Code); ok {
			mapped++
		} else {
			unmapped++
		}
	}
	// 63 communes merged between 2022 and March 2025 under names the
	// package does not carry; see TestUnmappedCommunes.
	if mapped != 10536 || unmapped != 63 {
		t.Errorf("2022 communes with a successor: %d, without: %d; want 10536 and 63", mapped, unmapped)
	}
	var orphans []string
	for _, u := range c.Units(Scheme2025, LevelCommune) {
		if len(c.Predecessors(u.Code)) == 0 {
			orphans = append(orphans, u.Code+" "+u.FullName())
		}
	}
	want := []string{
		"11948 Đặc khu Bạch Long Vĩ", "19742 Đặc khu Cồn Cỏ", "20333 Đặc khu Hoàng Sa",
		"21548 Đặc khu Lý Sơn", "23737 Xã Ia Mơ", "26732 Đặc khu Côn Đảo",
	}
	if strings.Join(orphans, "; ") != strings.Join(want, "; ") {
		t.Errorf("2025 communes without predecessors:\n%s\nwant\n%s", strings.Join(orphans, "\n"), strings.Join(want, "\n"))
	}
}

func TestUnitsAreClean(t *testing.T) {
	c := mustLoad(t)
	for _, u := range c.units {
		for _, s := range []string{u.Name, u.Type} {
			if s != strings.TrimSpace(s) || strings.Contains(s, "  ") {
				t.Errorf("%v: stray spaces in %q", u, s)
			}
		}
		if u.Province == "" || (u.Level != LevelProvince && u.Parent == "") {
			t.Errorf("%v: Province %q, Parent %q", u, u.Province, u.Parent)
		}
	}
}

func TestLoadReturnsIndependentCatalogs(t *testing.T) {
	a := mustLoad(t)
	b, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatal("Load returned the same Catalog twice")
	}
	units := a.Units(Scheme2025, LevelProvince)
	units[0].Name = "changed"
	if u, _ := a.Province(Scheme2025, "01"); u.Name != "Hà Nội" {
		t.Errorf("changing a returned slice changed the catalog: %v", u)
	}
}

func TestParseRejectsBadData(t *testing.T) {
	tests := map[string]string{
		"no header":        "P\t2022\t01\tTỉnh\tX\n",
		"unknown record":   header + "\nQ\t2022\t01\tTỉnh\tX\n",
		"bad scheme":       header + "\nP\t2030\t01\tTỉnh\tX\n",
		"bad code":         header + "\nP\t2022\t1\tTỉnh\tX\n",
		"2025 district":    header + "\nP\t2025\t01\tTỉnh\tX\nD\t2025\t001\tHuyện\tY\t01\n",
		"orphan commune":   header + "\nP\t2025\t01\tTỉnh\tX\nC\t2025\t00001\tXã\tY\t02\n",
		"duplicate":        header + "\nP\t2022\t01\tTỉnh\tX\nP\t2022\t01\tTỉnh\tY\n",
		"unknown new code": header + "\nP\t2025\t01\tTỉnh\tX\nM\t00001\t00002\tcc\t\n",
		"too many fields":  header + "\nP\t2022\t01\tTỉnh\tX\t\t\t\n",
	}
	for name, text := range tests {
		if _, err := parse(text); err == nil {
			t.Errorf("%s: parse succeeded", name)
		}
	}
}

func BenchmarkLoad(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(); err != nil {
			b.Fatal(err)
		}
	}
}
