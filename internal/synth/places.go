package synth

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/dancu-vn/dancu/internal/adminunit"
)

// commune is a 2025 commune with what households there need.
type commune struct {
	code     string
	province int  // index in provinces
	ward     bool // phường: a street address rather than a hamlet
	// olds are the 2022 communes merged into it: where the births of the
	// people born there were registered, and how legacy data writes it.
	olds []adminunit.Unit
}

// places are the tables of where people live, built once per generator.
type places struct {
	provinces  weighted[int]
	communes   []commune
	byProvince []weighted[int]     // commune indices of each province
	ethnic     []weighted[string]  // ethnic groups of each province
	religion   []*weighted[string] // religions of the Kinh of each province
	groupRel   map[string]*weighted[string]
	chamMuslim *weighted[string]
}

// newPlaces builds the tables from the catalog. Within a province a
// commune's weight is the number of 2022 communes merged into it (a
// commune made of five old ones has about five times the people), times
// 1.5 for a phường, which is denser than a xã. Approximate, like the
// province populations.
func newPlaces(units *adminunit.Catalog) (*places, error) {
	p := &places{groupRel: map[string]*weighted[string]{}}
	have := units.Units(adminunit.Scheme2025, adminunit.LevelProvince)
	if len(have) != len(provinces) {
		return nil, fmt.Errorf("synth: the catalog has %d provinces in the 2025 scheme, the generator knows %d", len(have), len(provinces))
	}
	p.byProvince = make([]weighted[int], len(provinces))
	p.ethnic = make([]weighted[string], len(provinces))
	p.religion = make([]*weighted[string], len(provinces))
	for i, info := range provinces {
		if have[i].Code != info.code {
			return nil, fmt.Errorf("synth: the catalog's province %s is not the generator's %s", have[i].Code, info.code)
		}
		p.provinces.add(i, info.pop)
		minority := 0.0
		for _, e := range info.ethnic {
			minority += e.w
		}
		p.ethnic[i].add(kinh, 100-minority)
		for _, e := range info.ethnic {
			p.ethnic[i].add(e.v, e.w)
		}
		mix, ok := religionMix[info.code]
		if !ok {
			mix = religionMix[""]
		}
		p.religion[i] = withNone(mix)
		for _, u := range units.Children(adminunit.Scheme2025, info.code) {
			c := commune{code: u.Code, province: i, ward: u.Type == "Phường", olds: units.Predecessors(u.Code)}
			w := float64(max(1, len(c.olds)))
			if c.ward {
				w *= 1.5
			}
			p.byProvince[i].add(len(p.communes), w)
			p.communes = append(p.communes, c)
		}
		if p.byProvince[i].total() == 0 {
			return nil, fmt.Errorf("synth: province %s has no communes", info.code)
		}
	}
	for code, mix := range groupReligion {
		p.groupRel[code] = withNone(mix)
	}
	p.chamMuslim = withNone([]entry{{"06", 90}})
	return p, nil
}

// withNone completes a religion mix in percent with "00", no religion.
func withNone(mix []entry) *weighted[string] {
	t := &weighted[string]{}
	sum := 0.0
	for _, e := range mix {
		sum += e.w
	}
	t.add("00", 100-sum)
	for _, e := range mix {
		t.add(e.v, e.w)
	}
	return t
}

// commune draws a commune where a household lives.
func (p *places) commune(r *rand.Rand) *commune {
	prov := p.provinces.pick(r)
	return &p.communes[p.byProvince[prov].pick(r)]
}

// religionOf draws the religion of a household of an ethnic group.
func (p *places) religionOf(r *rand.Rand, c *commune, ethnic string) string {
	if ethnic == "14" && slices.Contains(chamMuslim, provinces[c.province].code) {
		return p.chamMuslim.pick(r)
	}
	if t, ok := p.groupRel[ethnic]; ok {
		return t.pick(r)
	}
	return p.religion[c.province].pick(r)
}

// birthCommune draws the 2022 commune where the birth of someone born in
// commune c was registered. It returns false for the few new communes with
// no 2022 predecessor (the island special zones).
func birthCommune(r *rand.Rand, c *commune) (adminunit.Unit, bool) {
	if len(c.olds) == 0 {
		return adminunit.Unit{}, false
	}
	return c.olds[r.IntN(len(c.olds))], true
}

// Street and hamlet words. Street names honour the same national figures
// in every city; hamlets are named by direction, by wish, or by number.
var (
	streets = []string{"Lê Lợi", "Trần Hưng Đạo", "Nguyễn Trãi", "Hai Bà Trưng", "Lý Thường Kiệt", "Quang Trung",
		"Nguyễn Huệ", "Lê Duẩn", "Điện Biên Phủ", "Hùng Vương", "Lê Lai", "Phan Chu Trinh", "Phan Bội Châu",
		"Nguyễn Du", "Lý Thái Tổ", "Trần Phú", "Bà Triệu", "Ngô Quyền", "Lê Thánh Tông", "Nguyễn Văn Cừ",
		"Võ Thị Sáu", "Cách Mạng Tháng Tám", "Hoàng Văn Thụ", "Nguyễn Thị Minh Khai", "Pasteur", "Tô Hiến Thành",
		"Chu Văn An", "Nguyễn Đình Chiểu", "Lạc Long Quân", "Âu Cơ", "Trường Chinh", "Giải Phóng", "Tôn Đức Thắng",
		"Nguyễn Chí Thanh", "Kim Mã", "Hàng Bạc", "Hàng Gai", "Bạch Đằng", "Lê Văn Sỹ", "Nam Kỳ Khởi Nghĩa"}
	hamlets = []string{"Đông", "Tây", "Nam", "Bắc", "Thượng", "Hạ", "Trung", "Đoài", "Chùa", "Đình", "Cầu", "Giữa",
		"An Lạc", "Phú Mỹ", "Tân Lập", "Hòa Bình", "Thắng Lợi", "Quyết Tiến", "Đồng Tâm", "Tân Thành", "Bình An",
		"Phú Lợi", "Mỹ Hòa", "Yên Thịnh", "Văn Minh", "Đại Đồng", "Hưng Long", "Phúc Lộc"}
	southHamlets = []string{"Tân Lợi", "Phú Hòa", "Bình Thạnh", "Long Hưng", "Mỹ Phú", "Thạnh Lợi", "Hòa Bình",
		"An Thạnh", "Tân Phú", "Long Thạnh", "Thạnh Phú", "Hưng Lợi", "Phước Hòa", "Vĩnh Lợi", "Mỹ Thuận", "Bình Hòa"}
	khmerHamlets = []string{"Sóc Tro", "Prey Chóp", "Tà Tét", "Sà Lôn", "Sóc Xoài", "Bưng Cốc", "Trà Sết", "Kom Pong"}
	bans         = []string{"Nà Pục", "Pá Khôm", "Huổi Só", "Nậm Cang", "Phiêng Cằm", "Co Mạ", "Lũng Cú", "Sà Phìn",
		"Nà Sài", "Tà Phìn", "Nà Hang", "Pắc Ngòi", "Bó Mạ", "Nà Lầu", "Khuổi Ky"}
	buons        = []string{"Ko Sier", "Đôn", "Trấp", "Ea Kmát", "Ơi", "Kần", "Kon Klor", "Tơ Nốt", "Jang Lành", "Đạ Nghịch"}
	villageWords = []string{"Buôn ", "Làng ", "Plei "} // the Central Highlands' words for a village
)

// detail writes the street or hamlet part of a household's address.
func detail(r *rand.Rand, c *commune, ethnic string) string {
	code := provinces[c.province].code
	south := code >= southOf
	delta := code >= "70" // Đồng Nai and the south, where hamlets are ấp
	b := make([]byte, 0, 48)
	num := func(b []byte, lo, hi int) []byte { return strconv.AppendInt(b, int64(between(r, lo, hi)), 10) }
	if c.ward {
		x := r.Float64()
		switch {
		case !south && x < 0.45:
			b = append(b, "Số "...)
			b = num(b, 1, 180)
			b = append(b, ", Ngõ "...)
			b = num(b, 1, 320)
			b = append(b, ", Phố "...)
			b = append(b, oneOf(r, streets)...)
		case !south && x < 0.75:
			b = append(b, "Số "...)
			b = num(b, 1, 400)
			b = append(b, " Phố "...)
			b = append(b, oneOf(r, streets)...)
		case !south:
			b = append(b, "Tổ dân phố "...)
			b = num(b, 1, 40)
		case x < 0.40:
			b = append(b, "Số "...)
			b = num(b, 1, 500)
			b = append(b, " Đường "...)
			b = append(b, oneOf(r, streets)...)
		case x < 0.70:
			b = append(b, "Số "...)
			b = num(b, 1, 300)
			b = append(b, '/')
			b = num(b, 1, 60)
			b = append(b, " Đường "...)
			b = append(b, oneOf(r, streets)...)
		case x < 0.85:
			b = append(b, "Số "...)
			b = num(b, 1, 200)
			b = append(b, ", Hẻm "...)
			b = num(b, 1, 400)
			b = append(b, ", Đường "...)
			b = append(b, oneOf(r, streets)...)
		default:
			b = append(b, "Khu phố "...)
			b = num(b, 1, 12)
		}
		return string(b)
	}
	g, _ := groupOf(ethnic)
	switch {
	case ethnic == "05":
		b = append(b, "Ấp "...)
		b = append(b, oneOf(r, khmerHamlets)...)
	case ethnic != kinh && g.style == styleHighland:
		b = append(b, oneOf(r, villageWords)...)
		b = append(b, oneOf(r, buons)...)
	case ethnic != kinh && !south && g.style != styleKinh:
		b = append(b, "Bản "...)
		b = append(b, oneOf(r, bans)...)
	case delta && chance(r, 0.6):
		b = append(b, "Ấp "...)
		b = append(b, oneOf(r, southHamlets)...)
	case delta:
		b = append(b, "Ấp "...)
		b = num(b, 1, 9)
	case !south && chance(r, 0.25):
		b = append(b, "Xóm "...)
		b = num(b, 1, 15)
	case chance(r, 0.7):
		b = append(b, "Thôn "...)
		b = append(b, oneOf(r, hamlets)...)
	default:
		b = append(b, "Thôn "...)
		b = num(b, 1, 12)
	}
	return string(b)
}
