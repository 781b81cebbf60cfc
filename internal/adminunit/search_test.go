package adminunit

import (
	"slices"
	"testing"

	"golang.org/x/text/unicode/norm"
)

func TestSearch(t *testing.T) {
	c := mustLoad(t)
	tests := []struct {
		name  string
		s     Scheme
		level Level
		query string
		limit int
		want  []string
	}{
		// Three 2025 communes are called Ba Đình (one spelt "Ba Dinh" in the
		// source); all are exact matches, in code order.
		{"diacritics", Scheme2025, LevelCommune, "Ba Đình", 0, []string{"00004", "16171", "21499"}},
		{"no diacritics", Scheme2025, LevelCommune, "ba dinh", 0, []string{"00004", "16171", "21499"}},
		{"upper case", Scheme2025, LevelCommune, "BA ĐÌNH", 0, []string{"00004", "16171", "21499"}},
		{"NFD", Scheme2025, LevelCommune, norm.NFD.String("Ba Đình"), 0, []string{"00004", "16171", "21499"}},
		{"spacing", Scheme2025, LevelCommune, "  ba   dinh ", 0, []string{"00004", "16171", "21499"}},
		{"no space", Scheme2025, LevelCommune, "badinh", 0, []string{"00004", "16171", "21499"}},
		{"limit", Scheme2025, LevelCommune, "ba dinh", 1, []string{"00004"}},
		{"type prefix", Scheme2025, LevelCommune, "Phường Ba Đình", 0, []string{"00004"}},
		{"type prefix folded", Scheme2025, LevelCommune, "xa ba dinh", 0, []string{"16171", "21499"}},
		{"district", Scheme2022, LevelDistrict, "ba dinh", 0, []string{"001"}},
		{"district with type", Scheme2022, LevelDistrict, "Quận Ba Đình", 0, []string{"001"}},
		{"province 2022", Scheme2022, LevelProvince, "ha giang", 0, []string{"02"}},
		{"province gone in 2025", Scheme2025, LevelProvince, "ha giang", 0, nil},
		{"city with type", Scheme2025, LevelProvince, "thành phố hồ chí minh", 0, []string{"79"}},
		// Hà Nội, Hải Phòng and Hà Tĩnh start with "ha"; many more contain it.
		{"province prefix", Scheme2025, LevelProvince, "ha", 3, []string{"01", "31", "42"}},
		// Prefix (Ninh Bình) before substring (Quảng Ninh, Bắc Ninh, Tây Ninh).
		{"ranking", Scheme2025, LevelProvince, "ninh", 0, []string{"37", "22", "24", "80"}},
		{"empty", Scheme2025, LevelCommune, "  ", 0, nil},
		{"nothing", Scheme2025, LevelCommune, "xyzzy", 0, nil},
		{"no districts in 2025", Scheme2025, LevelDistrict, "ba dinh", 0, nil},
		{"bad scheme", Scheme("x"), LevelCommune, "ba dinh", 0, nil},
	}
	for _, tt := range tests {
		got := codes(c.Search(tt.s, tt.level, tt.query, tt.limit))
		if len(got) == 0 {
			got = nil
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: Search(%s, %s, %q, %d) = %v, want %v", tt.name, tt.s, tt.level, tt.query, tt.limit, got, tt.want)
		}
	}
}

func TestSearchLeadingZeros(t *testing.T) {
	c := mustLoad(t)
	want := 0
	for _, u := range c.Units(Scheme2022, LevelCommune) {
		if u.Type == "Phường" && (u.Name == "5" || u.Name == "05") {
			want++
		}
	}
	got := c.Search(Scheme2022, LevelCommune, "Phường 5", want)
	if want < 10 || len(got) != want {
		t.Fatalf("Search(Phường 5) found %d, want %d", len(got), want)
	}
	for _, u := range got {
		if u.Type != "Phường" || (u.Name != "5" && u.Name != "05") {
			t.Errorf("Search(Phường 5) found %v", u)
		}
	}
}

func TestSearchRanking(t *testing.T) {
	c := mustLoad(t)
	got := c.Search(Scheme2025, LevelCommune, "an", 0)
	if len(got) < 100 {
		t.Fatalf("Search(an) found only %d communes", len(got))
	}
	rank := func(u Unit) int {
		k := searchKey(u.Name)
		switch {
		case k == "an":
			return 0
		case len(k) >= 2 && k[:2] == "an":
			return 1
		}
		return 2
	}
	for i := 1; i < len(got); i++ {
		a, b := got[i-1], got[i]
		if ra, rb := rank(a), rank(b); ra > rb || (ra == rb && a.Code >= b.Code) {
			t.Fatalf("Search(an): %v before %v", a, b)
		}
	}
}

func TestSearchKey(t *testing.T) {
	tests := map[string]string{
		"Phường 05":     "phuong5",
		"Phường 10":     "phuong10",
		"Phường 005":    "phuong5",
		"Phường 0":      "phuong0",
		"Cổ Nhuế 1":     "conhue1",
		"Đại Ân  2":     "daian2",
		"Hải Châu I":    "haichaui",
		"Thành phố Huế": "thanhphohue",
		"A0B 00":        "a0b0",
	}
	for in, want := range tests {
		if got := searchKey(in); got != want {
			t.Errorf("searchKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func BenchmarkSearch(b *testing.B) {
	c := mustLoad(b)
	b.ReportAllocs()
	for b.Loop() {
		c.Search(Scheme2022, LevelCommune, "Phường Ba Đình", 10)
	}
}
