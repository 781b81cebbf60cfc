package synth

import (
	"math/rand/v2"
	"strings"

	"github.com/dancu-vn/dancu/internal/personalid"
)

// Family names of the Kinh: DOMAIN.md §8 (shares in percent), with the
// pairs Hoàng/Huỳnh and Vũ/Võ split by region and the names the section
// lists without figures sharing the remaining ~10%.
var (
	familyCommon = []entry{
		{"Nguyễn", 38.4}, {"Lê", 9.5}, {"Phạm", 7.0}, {"Phan", 4.5}, {"Đặng", 2.1},
		{"Bùi", 2.0}, {"Đỗ", 1.4}, {"Ngô", 1.3}, {"Dương", 1.0}, {"Lý", 0.5},
	}
	familyOthers = descending(1.0, 0.2, "Đinh", "Đào", "Trương", "Trịnh", "Mai", "Hà", "Đoàn", "Lương",
		"Cao", "Lâm", "Lưu", "Phùng", "Tạ", "Vương", "Triệu", "Kiều", "Thái", "Châu")
	// Trần is 12.1% nationally and more frequent in the South (S37 gives
	// 8.5% North against 10.9% South); the split keeps the national share.
	familyNorth = []entry{{"Trần", 11.0}, {"Hoàng", 4.8}, {"Huỳnh", 0.3}, {"Vũ", 3.6}, {"Võ", 0.3}}
	familySouth = []entry{{"Trần", 13.2}, {"Hoàng", 0.6}, {"Huỳnh", 4.5}, {"Vũ", 0.4}, {"Võ", 3.5}}
)

// Middle names (chữ đệm). Văn and Thị are given by birth year (see
// vanShare, thiShare); the tables hold the others.
var (
	menMiddle = []entry{
		{"Minh", 9}, {"Hữu", 8}, {"Hoàng", 7}, {"Quốc", 7}, {"Đức", 6}, {"Công", 5}, {"Thanh", 5},
		{"Quang", 5}, {"Gia", 5}, {"Đình", 5}, {"Xuân", 4}, {"Anh", 4}, {"Trọng", 4}, {"Duy", 4},
		{"Bảo", 4}, {"Tuấn", 3}, {"Ngọc", 3}, {"Thành", 3}, {"Bá", 3}, {"Nhật", 3}, {"Đăng", 3},
		{"Thế", 3}, {"Tấn", 3}, {"Tiến", 2}, {"Khánh", 2}, {"Trung", 2}, {"Mạnh", 2}, {"Phúc", 2},
		{"Hải", 2}, {"Thái", 1},
	}
	menSecond = []entry{
		{"Minh", 8}, {"Hoàng", 6}, {"Anh", 6}, {"Gia", 6}, {"Bảo", 6}, {"Đức", 5}, {"Quốc", 5},
		{"Nhật", 5}, {"Tuấn", 4}, {"Thanh", 4}, {"Trung", 3}, {"Khánh", 3}, {"Hải", 3}, {"Duy", 3},
		{"Đăng", 3}, {"Thành", 3}, {"Phúc", 2}, {"Ngọc", 2}, {"Huy", 2}, {"Thiên", 2},
	}
	// Thị and Ngọc are each above 17% as a woman's first middle name;
	// Thu, Phương, Thanh, Minh and Lan follow (DOMAIN.md §8).
	womenMiddle = []entry{
		{"Ngọc", 32}, {"Thu", 6}, {"Phương", 6}, {"Thanh", 6}, {"Minh", 5}, {"Lan", 3}, {"Bảo", 4},
		{"Kim", 4}, {"Khánh", 3}, {"Hoàng", 3}, {"Mỹ", 3}, {"Hồng", 3}, {"Thùy", 3}, {"Quỳnh", 2},
		{"Như", 2}, {"Hải", 2}, {"Bích", 2}, {"Mai", 2}, {"Xuân", 2}, {"Gia", 2}, {"Cẩm", 2},
		{"Diễm", 1}, {"Tường", 1}, {"Hà", 1}, {"Tuyết", 1}, {"Yến", 1}, {"Diệu", 1}, {"Huyền", 1},
	}
	womenSecond = []entry{
		{"Ngọc", 8}, {"Thu", 6}, {"Kim", 5}, {"Thanh", 5}, {"Hồng", 5}, {"Mỹ", 4}, {"Bích", 4},
		{"Minh", 4}, {"Phương", 4}, {"Thùy", 4}, {"Bảo", 4}, {"Khánh", 3}, {"Quỳnh", 3}, {"Thảo", 3},
		{"Tuyết", 2}, {"Diệu", 2}, {"Hoài", 2}, {"Cẩm", 2}, {"Gia", 2}, {"Như", 2}, {"Tường", 2},
		{"Yến", 2}, {"Hải", 2}, {"Lan", 2}, {"Mai", 2}, {"Xuân", 2}, {"Huyền", 1}, {"Uyên", 1},
	}
)

// Given names: the DOMAIN.md §8 tables with their shares, the names it
// ranks after them with falling weights, then a tail of other common names.
var (
	menGiven = [][]entry{
		{{"Tuấn", 2.7}, {"Hoàng", 2.5}, {"Huy", 2.2}, {"Anh", 2.1}, {"Hiếu", 2.0}, {"Hùng", 2.0},
			{"Nam", 2.0}, {"Sơn", 1.9}, {"Đức", 1.9}, {"Dũng", 1.7}},
		descending(1.6, 1.0, "Thành", "Đạt", "Cường", "Long", "Trung", "Hải", "Nguyên", "Thắng",
			"Minh", "Duy", "Tiến", "Quang", "Phúc", "Trường", "Tài"),
		tail(0.5, "Bình", "Khoa", "Khánh", "Phong", "Quân", "Tâm", "Thịnh", "Vinh", "Hưng", "Lâm",
			"Bảo", "Khang", "Kiên", "Lộc", "Nhân", "Phát", "Quý", "Tùng", "Việt", "Vũ", "Toàn",
			"Thái", "Thuận", "Hậu", "Hòa", "Lợi", "Tú", "Hiệp", "Hào", "Nghĩa", "An", "Đông",
			"Chiến", "Công", "Cảnh", "Tín", "Trí", "Thiện", "Tân", "Sang", "Khôi", "Kiệt"),
	}
	womenGiven = [][]entry{
		{{"Anh", 7.1}, {"Vy", 5.7}, {"Ngọc", 4.3}, {"Nhi", 4.2}, {"Hân", 4.1}, {"Thư", 4.1},
			{"Linh", 3.5}, {"Như", 3.1}, {"Ngân", 3.0}, {"Phương", 2.1}, {"Thảo", 2.1}, {"My", 2.1}},
		descending(2.0, 1.2, "Trân", "Quỳnh", "Trang", "Trâm", "Hương", "Hằng", "Huyền", "Hiền",
			"Yến", "Mai"),
		tail(0.6, "Lan", "Hoa", "Hạnh", "Nga", "Loan", "Liên", "Thủy", "Tuyết", "Dung", "Hà",
			"Hồng", "Thu", "Nhung", "Oanh", "Vân", "Xuân", "Thanh", "Hoài", "Lệ", "Bích", "Diệp",
			"Châu", "Tâm", "Uyên", "Trinh", "Giang", "Khánh", "Hạ", "Diễm", "Nhàn"),
	}
	// The women's table comes from young women in Hồ Chí Minh City; women
	// born before 1985 more often have the older names of the tail.
	womenOlderBoost = 5.0
	womenYoungOnly  = []string{"Vy", "Nhi", "Hân", "Thư", "Như", "Ngân", "My", "Trân", "Trâm"}
)

// Given names of the groups with their own naming.
var (
	hmongMen      = []string{"Páo", "Chứ", "Dế", "Sử", "Pó", "Súa", "Chư", "Lử", "Dính", "Tủa", "Chính", "Vảng", "Chá", "Sính"}
	hmongWomen    = []string{"Mỷ", "Mai", "Dua", "Chía", "Sua", "Pà", "Máy", "Dợ", "Di", "Ly", "Sủa", "Xúa"}
	hmongMenMid   = []entry{{"A", 25}, {"Mí", 15}, {"Seo", 15}, {"Văn", 25}, {"", 20}}
	highlandMen   = []string{"Blang", "Ngông", "Nuê", "Bih", "Moan", "Khu", "Sang", "Thuột", "Wơn", "Jut", "Dhăm", "Kông", "Lơng", "Hyưn", "Brăk", "Nhơn", "Đơk", "Tin"}
	highlandWomen = []string{"Hen", "Bia", "Nhi", "Luyên", "Dơk", "Biăk", "Rin", "Ni", "Mai", "Hoa", "Ngơn", "Blim", "Nga", "Yơn", "Sương", "Hyên"}
	khmerMen      = []string{"Sóc", "Phol", "Khum", "Sang", "Ra", "Sa Rết", "Chanh Đa", "Sô Kha", "Thươl", "Sa Rinh", "Sươl", "Sa Rươn", "Kim Sang", "Đa Ra"}
	khmerWomen    = []string{"Sô Phia", "Sa Ly", "Mây", "Da Ra", "Sà Rươn", "Chanh Thy", "Sô Phát", "Thi", "Sa Mết", "Kim Ngân", "Sóc Khây", "Pha Ly"}
)

// names holds the tables built once for a generator.
type names struct {
	familyNorth, familySouth, familyNgheAn *weighted[string]
	groupFamily                            map[string]*weighted[string]
	menMid, menSec, womenMid, womenSec     *weighted[string]
	menGiven, womenYoung, womenOld         *weighted[string]
	hmongMenMid                            *weighted[string]
}

func newNames() *names {
	n := &names{
		familyNorth: table(familyCommon, familyNorth, familyOthers, []entry{{"Hồ", 1.3}}),
		familySouth: table(familyCommon, familySouth, familyOthers, []entry{{"Hồ", 1.3}}),
		// Hồ is 4.2% in Nghệ An (DOMAIN.md §8).
		familyNgheAn: table(familyCommon, familyNorth, familyOthers, []entry{{"Hồ", 4.2}}),
		groupFamily:  make(map[string]*weighted[string], len(groups)+1),
		menMid:       table(menMiddle),
		menSec:       table(menSecond),
		womenMid:     table(womenMiddle),
		womenSec:     table(womenSecond),
		menGiven:     table(menGiven...),
		womenYoung:   table(womenGiven...),
		hmongMenMid:  table(hmongMenMid),
	}
	for code, g := range groups {
		n.groupFamily[code] = table(g.family)
	}
	n.groupFamily[""] = table(otherGroup.family)
	n.womenOld = &weighted[string]{}
	for i, list := range womenGiven {
		for _, e := range list {
			w := e.w
			if i == len(womenGiven)-1 {
				w *= womenOlderBoost
			}
			for _, y := range womenYoungOnly {
				if y == e.v {
					w *= 0.15
				}
			}
			n.womenOld.add(e.v, w)
		}
	}
	return n
}

// groupOf returns the naming of an ethnic group.
func groupOf(code string) (group, string) {
	if g, ok := groups[code]; ok {
		return g, code
	}
	return otherGroup, ""
}

// family draws a family name for a member of an ethnic group living in a
// 2025 province.
func (n *names) family(r *rand.Rand, ethnic, province string) string {
	if ethnic != kinh {
		g, key := groupOf(ethnic)
		if !chance(r, g.kinhFamily) {
			return n.groupFamily[key].pick(r)
		}
	}
	switch {
	case province == ngheAn:
		return n.familyNgheAn.pick(r)
	case province >= southOf:
		return n.familySouth.pick(r)
	}
	return n.familyNorth.pick(r)
}

// vanShare is the share of men whose one middle name is Văn: most common
// overall, but below 3% among the young of Hồ Chí Minh City.
func vanShare(year int) float64 {
	switch {
	case year < 1970:
		return 0.55
	case year < 1990:
		return 0.35
	case year < 2005:
		return 0.15
	}
	return 0.05
}

// thiShare is the share of women whose first middle name is Thị.
func thiShare(year int) float64 {
	switch {
	case year < 1970:
		return 0.65
	case year < 1990:
		return 0.45
	case year < 2005:
		return 0.25
	}
	return 0.12
}

// middleCount draws the number of middle names: DOMAIN.md §8 gives 72.75%
// three-word and 26.1% four-word names for men, 34.7% and 64.6% for women;
// the rest have no middle name.
func middleCount(r *rand.Rand, sex personalid.Sex) int {
	x := r.Float64()
	if sex == personalid.Male {
		switch {
		case x < 0.0115:
			return 0
		case x < 0.0115+0.7275:
			return 1
		}
		return 2
	}
	switch {
	case x < 0.007:
		return 0
	case x < 0.007+0.347:
		return 1
	}
	return 2
}

// given draws the middle and given names of a person. motherFamily, when
// known, is sometimes used as a middle name, as Vietnamese parents do.
func (n *names) given(r *rand.Rand, ethnic string, sex personalid.Sex, year int, motherFamily string) (middle, given string) {
	style := styleKinh
	g, _ := groupOf(ethnic)
	if ethnic != kinh {
		style = g.style
	}
	male := sex == personalid.Male
	switch style {
	case styleHmong:
		if male {
			return n.hmongMenMid.pick(r), oneOf(r, hmongMen)
		}
		if chance(r, 0.7) {
			middle = "Thị"
		}
		return middle, oneOf(r, hmongWomen)
	case styleHighland:
		words, prefix := highlandMen, g.menPrefix
		if !male {
			words, prefix = highlandWomen, g.womenPrefix
		}
		if chance(r, 0.2) {
			middle = "Văn"
			if !male {
				middle = "Thị"
			}
		}
		return middle, prefix + oneOf(r, words)
	case styleKhmer:
		if male {
			return "", oneOf(r, khmerMen)
		}
		if chance(r, 0.55) {
			middle = "Thị"
		}
		return middle, oneOf(r, khmerWomen)
	case styleTrad:
		if chance(r, 0.1) {
			return "", n.kinhGiven(r, sex, year)
		}
		if male {
			middle = "Văn"
			if chance(r, 0.4) {
				middle = n.menMid.pick(r)
			}
		} else {
			middle = "Thị"
			if chance(r, 0.25) {
				middle = n.womenMid.pick(r)
			}
		}
		return middle, n.kinhGiven(r, sex, year)
	}
	middle = n.kinhMiddle(r, sex, year, motherFamily)
	last := middle[strings.LastIndexByte(middle, ' ')+1:]
	return middle, n.kinhGivenNot(r, sex, year, last)
}

// kinhMiddle draws the Kinh middle names: none, one or two words.
func (n *names) kinhMiddle(r *rand.Rand, sex personalid.Sex, year int, motherFamily string) string {
	male := sex == personalid.Male
	k := middleCount(r, sex)
	if k == 0 {
		return ""
	}
	var first string
	switch {
	case k == 2 && motherFamily != "" && chance(r, 0.2):
		first = motherFamily
	case male && chance(r, vanShare(year)):
		first = "Văn"
	case !male && chance(r, thiShare(year)):
		first = "Thị"
	case male:
		first = n.menMid.pick(r)
	default:
		first = n.womenMid.pick(r)
	}
	if k == 1 {
		return first
	}
	sec := n.womenSec
	if male {
		sec = n.menSec
	}
	second := sec.pick(r)
	for i := 0; second == first && i < 4; i++ {
		second = sec.pick(r)
	}
	if second == first {
		return first
	}
	return first + " " + second
}

func (n *names) kinhGiven(r *rand.Rand, sex personalid.Sex, year int) string {
	switch {
	case sex == personalid.Male:
		return n.menGiven.pick(r)
	case year < 1985:
		return n.womenOld.pick(r)
	}
	return n.womenYoung.pick(r)
}

// kinhGivenNot draws a given name that differs from the last middle name
// ("Ngọc Ngọc" is not a name anyone is given).
func (n *names) kinhGivenNot(r *rand.Rand, sex personalid.Sex, year int, not string) string {
	g := n.kinhGiven(r, sex, year)
	for i := 0; g == not && i < 4; i++ {
		g = n.kinhGiven(r, sex, year)
	}
	return g
}
