package adminunit

import (
	"slices"
	"testing"
)

// codes returns the codes of units, for comparing lists.
func codes(units []Unit) []string {
	out := make([]string, len(units))
	for i, u := range units {
		out[i] = u.Code
	}
	return out
}

func TestCurrent(t *testing.T) {
	c := mustLoad(t)
	tests := []struct {
		old, want, wantName string
	}{
		// Quận Ba Đình, Hà Nội (2022) → the four 2025 wards.
		{"00001", "00097", "Phường Hồng Hà"},  // Phúc Xá
		{"00004", "00004", "Phường Ba Đình"},  // Trúc Bạch
		{"00006", "00008", "Phường Ngọc Hà"},  // Vĩnh Phúc
		{"00007", "00008", "Phường Ngọc Hà"},  // Cống Vị
		{"00008", "00008", "Phường Ngọc Hà"},  // Liễu Giai
		{"00010", "00004", "Phường Ba Đình"},  // Nguyễn Trung Trực: the package row has no code
		{"00013", "00004", "Phường Ba Đình"},  // Quán Thánh
		{"00016", "00008", "Phường Ngọc Hà"},  // Ngọc Hà
		{"00019", "00004", "Phường Ba Đình"},  // Điện Biên
		{"00022", "00004", "Phường Ba Đình"},  // Đội Cấn
		{"00025", "00025", "Phường Giảng Võ"}, // Ngọc Khánh
		{"00028", "00025", "Phường Giảng Võ"}, // Kim Mã
		{"00031", "00025", "Phường Giảng Võ"}, // Giảng Võ
		{"00034", "00025", "Phường Giảng Võ"}, // Thành Công
		// Quận Gò Vấp, TP HCM.
		{"26881", "26882", "Phường An Hội Tây"}, // Phường 12
		{"26882", "26882", "Phường An Hội Tây"}, // Phường 14
		// 2022 Phường 15, merged into Phường 13 (code 26872) before 2025
		// under the name "Phường 15".
		{"26869", "26878", "Phường An Hội Đông"},
		// A code created after 2022 (Mộc Châu became a town in 2025).
		{"03980", "03980", "Phường Mộc Châu"},
	}
	for _, tt := range tests {
		got, ok := c.Current(tt.old)
		if !ok || got.Code != tt.want || got.FullName() != tt.wantName || got.Scheme != Scheme2025 {
			t.Errorf("Current(%s) = %v, %v; want %s %s", tt.old, got, ok, tt.want, tt.wantName)
		}
	}
	for _, old := range []string{"", "99999", "01", "001", "02872"} { // 02872: Tà Chải, merged in 2024, unmapped
		if got, ok := c.Current(old); ok {
			t.Errorf("Current(%q) = %v, want none", old, got)
		}
	}
}

func TestSuccessors(t *testing.T) {
	c := mustLoad(t)
	tests := []struct {
		old  string
		want []string
	}{
		{"00004", []string{"00004"}},
		// Dịch Vọng, Cầu Giấy was split: mostly into Phường Cầu Giấy, partly
		// into Phường Nghĩa Đô.
		{"00166", []string{"00166", "00160"}},
		{"99999", nil},
	}
	for _, tt := range tests {
		got := c.Successors(tt.old)
		if !slices.Equal(codes(got), tt.want) {
			t.Errorf("Successors(%s) = %v, want %v", tt.old, codes(got), tt.want)
		}
		if len(got) > 0 {
			if first, _ := c.Current(tt.old); first != got[0] {
				t.Errorf("Current(%s) = %v, but Successors starts with %v", tt.old, first, got[0])
			}
		}
	}
}

func TestPredecessors(t *testing.T) {
	c := mustLoad(t)
	tests := []struct {
		new  string
		want []string
	}{
		// Phường Ba Đình (2025): Trúc Bạch, Nguyễn Trung Trực, Quán Thánh,
		// Điện Biên, Đội Cấn.
		{"00004", []string{"00004", "00010", "00013", "00019", "00022"}},
		{"00008", []string{"00006", "00007", "00008", "00016"}},
		{"00025", []string{"00025", "00028", "00031", "00034"}},
		// Phường Hồng Hà: Phúc Xá (Ba Đình), Phúc Tân and Chương Dương (Hoàn
		// Kiếm), Nhật Tân, Tứ Liên and Yên Phụ (Tây Hồ), Bạch Đằng (Hai Bà
		// Trưng).
		{"00097", []string{"00001", "00037", "00067", "00094", "00097", "00106", "00244"}},
		{"26882", []string{"26872", "26881", "26882"}},
		{"26732", nil}, // Đặc khu Côn Đảo
		{"00001", nil}, // not a 2025 code
		{"99999", nil},
	}
	for _, tt := range tests {
		got := c.Predecessors(tt.new)
		if !slices.Equal(codes(got), tt.want) {
			t.Errorf("Predecessors(%s) = %v, want %v", tt.new, codes(got), tt.want)
		}
		for _, u := range got {
			if u.Scheme != Scheme2022 || u.Level != LevelCommune {
				t.Errorf("Predecessors(%s) holds %v", tt.new, u)
			}
		}
	}
}

// TestMappingIsConsistent checks that every link goes both ways and stays
// inside one 2025 province.
func TestMappingIsConsistent(t *testing.T) {
	c := mustLoad(t)
	for _, old := range c.Units(Scheme2022, LevelCommune) {
		for _, n := range c.Successors(old.Code) {
			if n.Scheme != Scheme2025 || n.Level != LevelCommune {
				t.Fatalf("Successors(%s) holds %v", old.Code, n)
			}
			if !slices.Contains(codes(c.Predecessors(n.Code)), old.Code) {
				t.Errorf("%v → %v, but not back", old, n)
			}
		}
	}
	for _, n := range c.Units(Scheme2025, LevelCommune) {
		for _, old := range c.Predecessors(n.Code) {
			if !slices.Contains(codes(c.Successors(old.Code)), n.Code) {
				t.Errorf("%v ← %v, but not forward", n, old)
			}
		}
	}
}

// TestUnmappedCommunes pins the 2022 communes the data leaves without a
// successor, so that a data update that changes them is noticed.
func TestUnmappedCommunes(t *testing.T) {
	c := mustLoad(t)
	var got []string
	for _, u := range c.Units(Scheme2022, LevelCommune) {
		if _, ok := c.Current(u.Code); !ok {
			got = append(got, u.Code)
		}
	}
	want := []string{"02872", "03898", "03991", "05704", "05764", "06454", "07087", "08017", "08821", "08827",
		"09115", "09142", "10651", "10774", "10849", "10906", "12094", "12235", "12343", "12349",
		"12982", "13933", "14149", "14173", "14242", "14257", "14290", "14305", "14422", "14491",
		"14497", "14665", "14692", "14713", "14731", "15790", "17227", "17371", "17389", "17752",
		"17761", "18472", "18535", "19531", "19822", "19834", "19906", "19924", "19999", "20032",
		"20383", "22753", "22756", "23671", "23938", "25108", "25120", "25123", "25147", "28294",
		"28531", "29758", "29854"}
	if !slices.Equal(got, want) {
		t.Errorf("unmapped 2022 communes:\n got %v\nwant %v", got, want)
	}
}
