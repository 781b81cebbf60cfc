package adminunit

import (
	"testing"
)

func TestLookupByCode(t *testing.T) {
	c := mustLoad(t)
	tests := []struct {
		s     Scheme
		level Level
		code  string
		want  Unit
	}{
		{Scheme2022, LevelProvince, "01", Unit{Code: "01", Name: "Hà Nội", Type: "Thành phố", Level: LevelProvince, Scheme: Scheme2022, Province: "01"}},
		{Scheme2022, LevelProvince, "002", Unit{Code: "02", Name: "Hà Giang", Type: "Tỉnh", Level: LevelProvince, Scheme: Scheme2022, Province: "02"}},
		{Scheme2022, LevelDistrict, "001", Unit{Code: "001", Name: "Ba Đình", Type: "Quận", Level: LevelDistrict, Scheme: Scheme2022, Parent: "01", Province: "01"}},
		{Scheme2022, LevelDistrict, "755", Unit{Code: "755", Name: "Côn Đảo", Type: "Huyện", Level: LevelDistrict, Scheme: Scheme2022, Parent: "77", Province: "77"}},
		{Scheme2022, LevelCommune, "00001", Unit{Code: "00001", Name: "Phúc Xá", Type: "Phường", Level: LevelCommune, Scheme: Scheme2022, Parent: "001", Province: "01"}},
		{Scheme2022, LevelCommune, "00004", Unit{Code: "00004", Name: "Trúc Bạch", Type: "Phường", Level: LevelCommune, Scheme: Scheme2022, Parent: "001", Province: "01"}},
		{Scheme2022, LevelCommune, "26881", Unit{Code: "26881", Name: "12", Type: "Phường", Level: LevelCommune, Scheme: Scheme2022, Parent: "764", Province: "79"}},
		// The source wrote "Xã Ngư Thủy " and "Cò  Nòi" with stray spaces.
		{Scheme2022, LevelCommune, "19306", Unit{Code: "19306", Name: "Ngư Thủy", Type: "Xã", Level: LevelCommune, Scheme: Scheme2022, Parent: "457", Province: "44"}},
		{Scheme2025, LevelProvince, "46", Unit{Code: "46", Name: "Huế", Type: "Thành phố", Level: LevelProvince, Scheme: Scheme2025, Province: "46"}},
		{Scheme2025, LevelProvince, "096", Unit{Code: "96", Name: "Cà Mau", Type: "Tỉnh", Level: LevelProvince, Scheme: Scheme2025, Province: "96"}},
		{Scheme2025, LevelCommune, "00004", Unit{Code: "00004", Name: "Ba Đình", Type: "Phường", Level: LevelCommune, Scheme: Scheme2025, Parent: "01", Province: "01"}},
		{Scheme2025, LevelCommune, "26732", Unit{Code: "26732", Name: "Côn Đảo", Type: "Đặc khu", Level: LevelCommune, Scheme: Scheme2025, Parent: "79", Province: "79"}},
		// The source spelt this one in NFD.
		{Scheme2025, LevelCommune, "26882", Unit{Code: "26882", Name: "An Hội Tây", Type: "Phường", Level: LevelCommune, Scheme: Scheme2025, Parent: "79", Province: "79"}},
	}
	for _, tt := range tests {
		got, ok := c.Unit(tt.s, tt.level, tt.code)
		if !ok || got != tt.want {
			t.Errorf("Unit(%s, %s, %q) = %+v, %v; want %+v", tt.s, tt.level, tt.code, got, ok, tt.want)
		}
	}
}

func TestShortcuts(t *testing.T) {
	c := mustLoad(t)
	if u, ok := c.District("001"); !ok || u.FullName() != "Quận Ba Đình" {
		t.Errorf("District(001) = %v, %v", u, ok)
	}
	if u, ok := c.Commune(Scheme2022, "00004"); !ok || u.FullName() != "Phường Trúc Bạch" {
		t.Errorf("Commune(2022, 00004) = %v, %v", u, ok)
	}
	if u, ok := c.Commune(Scheme2025, "00004"); !ok || u.FullName() != "Phường Ba Đình" {
		t.Errorf("Commune(2025, 00004) = %v, %v", u, ok)
	}
	for _, code := range []string{"79", "079"} {
		if u, ok := c.Province(Scheme2025, code); !ok || u.FullName() != "Thành phố Hồ Chí Minh" {
			t.Errorf("Province(2025, %q) = %v, %v", code, u, ok)
		}
		if u, ok := c.Province(Scheme2022, code); !ok || u.FullName() != "Thành phố Hồ Chí Minh" {
			t.Errorf("Province(2022, %q) = %v, %v", code, u, ok)
		}
	}
}

func TestUnknownCodes(t *testing.T) {
	c := mustLoad(t)
	tests := []struct {
		s     Scheme
		level Level
		code  string
	}{
		{Scheme2025, LevelProvince, "02"}, // Hà Giang, merged into Tuyên Quang
		{Scheme2025, LevelProvince, "002"},
		{Scheme2022, LevelProvince, "00"},
		{Scheme2022, LevelProvince, "1"},
		{Scheme2022, LevelProvince, "0001"},
		{Scheme2022, LevelProvince, "101"},
		{Scheme2025, LevelDistrict, "001"},
		{Scheme2022, LevelDistrict, "01"},
		{Scheme2022, LevelCommune, "00002"},
		{Scheme2022, LevelCommune, "0001"},
		{Scheme2022, LevelCommune, ""},
		{Scheme2025, LevelCommune, "00001"}, // Phúc Xá's code was not reused
		{Scheme("2019"), LevelProvince, "01"},
		{Scheme2022, Level(0), "01"},
	}
	for _, tt := range tests {
		if u, ok := c.Unit(tt.s, tt.level, tt.code); ok {
			t.Errorf("Unit(%s, %s, %q) = %v, want none", tt.s, tt.level, tt.code, u)
		}
	}
	if _, ok := c.District("999"); ok {
		t.Error("District(999) found")
	}
	if got := c.Children(Scheme2022, "99"); got != nil {
		t.Errorf("Children(2022, 99) = %v", got)
	}
	if c.InProvince(Scheme2022, "99999", "01") || c.InProvince(Scheme2022, "00001", "99") {
		t.Error("InProvince is true for an unknown code")
	}
	if c.InDistrict(Scheme2022, "99999", "001") || c.InDistrict(Scheme2025, "99999", "001") || c.InDistrict("", "00001", "001") {
		t.Error("InDistrict is true for an unknown code")
	}
}

func TestChildren(t *testing.T) {
	c := mustLoad(t)
	tests := []struct {
		s      Scheme
		parent string
		n      int
		first  string
		level  Level
	}{
		{Scheme2022, "01", 30, "Quận Ba Đình", LevelDistrict},
		{Scheme2022, "001", 14, "Phường Phúc Xá", LevelCommune},
		{Scheme2022, "755", 0, "", 0}, // Côn Đảo had no communes
		{Scheme2025, "01", 126, "Phường Ba Đình", LevelCommune},
		{Scheme2025, "001", 126, "Phường Ba Đình", LevelCommune},
		{Scheme2025, "79", 168, "Phường Thủ Dầu Một", LevelCommune}, // once Bình Dương
		{Scheme2025, "00004", 0, "", 0},
	}
	for _, tt := range tests {
		got := c.Children(tt.s, tt.parent)
		if len(got) != tt.n {
			t.Errorf("Children(%s, %q): %d units, want %d", tt.s, tt.parent, len(got), tt.n)
			continue
		}
		if tt.n == 0 {
			continue
		}
		if got[0].FullName() != tt.first || got[0].Level != tt.level {
			t.Errorf("Children(%s, %q)[0] = %v, want %s", tt.s, tt.parent, got[0], tt.first)
		}
		for i, u := range got {
			if u.Parent != tt.parent && "0"+u.Parent != tt.parent {
				t.Errorf("Children(%s, %q)[%d] = %v has parent %s", tt.s, tt.parent, i, u, u.Parent)
			}
			if i > 0 && got[i-1].Code >= u.Code {
				t.Errorf("Children(%s, %q) not ordered by code at %d", tt.s, tt.parent, i)
			}
		}
	}
}

func TestEveryCommuneIsAChild(t *testing.T) {
	c := mustLoad(t)
	for _, s := range []Scheme{Scheme2022, Scheme2025} {
		n := 0
		for _, p := range c.Units(s, LevelProvince) {
			for _, u := range c.Children(s, p.Code) {
				if u.Level == LevelCommune {
					n++
					continue
				}
				n += len(c.Children(s, u.Code))
			}
		}
		if want := len(c.Units(s, LevelCommune)); n != want {
			t.Errorf("%s: %d communes reached from the provinces, want %d", s, n, want)
		}
	}
}

func TestInProvince(t *testing.T) {
	c := mustLoad(t)
	tests := []struct {
		s                 Scheme
		commune, province string
		want              bool
	}{
		{Scheme2022, "00001", "01", true},
		{Scheme2022, "00001", "001", true},
		{Scheme2022, "00001", "79", false},
		{Scheme2022, "26881", "79", true},
		{Scheme2025, "00004", "01", true},
		{Scheme2025, "26882", "079", true},
		{Scheme2025, "26882", "01", false},
		{Scheme2025, "01", "01", false}, // a province is not a commune
	}
	for _, tt := range tests {
		if got := c.InProvince(tt.s, tt.commune, tt.province); got != tt.want {
			t.Errorf("InProvince(%s, %s, %s) = %v, want %v", tt.s, tt.commune, tt.province, got, tt.want)
		}
	}
}

func TestInDistrict(t *testing.T) {
	c := mustLoad(t)
	tests := []struct {
		s                 Scheme
		commune, district string
		want              bool
	}{
		{Scheme2022, "00001", "001", true},
		{Scheme2022, "00001", "002", false},
		{Scheme2022, "00004", "001", true},
		// 2025 Phường Ba Đình took in Trúc Bạch, Quán Thánh and others, all
		// of Quận Ba Đình.
		{Scheme2025, "00004", "001", true},
		{Scheme2025, "00004", "002", false},
		// 2025 Phường Hồng Hà spans four old districts: Ba Đình (Phúc Xá),
		// Hoàn Kiếm, Tây Hồ and Hai Bà Trưng.
		{Scheme2025, "00097", "001", true},
		{Scheme2025, "00097", "002", true},
		{Scheme2025, "00097", "003", true},
		{Scheme2025, "00097", "007", true},
		{Scheme2025, "00097", "005", false},
		{Scheme2025, "26732", "755", false}, // Côn Đảo: no communes before
	}
	for _, tt := range tests {
		if got := c.InDistrict(tt.s, tt.commune, tt.district); got != tt.want {
			t.Errorf("InDistrict(%s, %s, %s) = %v, want %v", tt.s, tt.commune, tt.district, got, tt.want)
		}
	}
}

func TestFullNameAndLevel(t *testing.T) {
	u := Unit{Type: "Phường", Name: "Ba Đình"}
	if got := u.FullName(); got != "Phường Ba Đình" {
		t.Errorf("FullName = %q", got)
	}
	if got := (Unit{Name: "X"}).FullName(); got != "X" {
		t.Errorf("FullName without type = %q", got)
	}
	for l, want := range map[Level]string{LevelProvince: "province", LevelDistrict: "district", LevelCommune: "commune", 7: "Level(7)"} {
		if l.String() != want {
			t.Errorf("Level(%d).String() = %q, want %q", int(l), l.String(), want)
		}
	}
	if !Scheme2022.Valid() || !Scheme2025.Valid() || Scheme("2020").Valid() {
		t.Error("Scheme.Valid")
	}
}

func TestConcurrentUse(t *testing.T) {
	c := mustLoad(t)
	done := make(chan bool)
	for g := 0; g < 4; g++ {
		go func() {
			ok := true
			for i := 0; i < 200; i++ {
				_, a := c.Commune(Scheme2025, "00004")
				_, b := c.Current("00010")
				ok = ok && a && b && len(c.Search(Scheme2022, LevelCommune, "ba dinh", 5)) > 0 &&
					len(c.Predecessors("00097")) == 7 && c.InDistrict(Scheme2025, "00097", "002")
			}
			done <- ok
		}()
	}
	for g := 0; g < 4; g++ {
		if !<-done {
			t.Error("a concurrent lookup failed")
		}
	}
}
