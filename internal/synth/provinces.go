package synth

// provinceInfo is what the generator knows of one province of the 2025
// scheme: how many people live there, how many adults were born elsewhere,
// and its ethnic groups.
type provinceInfo struct {
	code string
	// pop is the population in thousands: the 2024 figures of the provinces
	// merged into it, rounded. Approximate on purpose: it only weights where
	// households live, and the sum (about 100 million) matches the country.
	pop float64
	// migrants is the share of adults whose birth was registered in another
	// province: high where people moved for work (Hồ Chí Minh City with
	// Bình Dương, Hà Nội, Đồng Nai, Bắc Ninh), low elsewhere. A guess.
	migrants float64
	// ethnic are the minority groups in percent of the population (GSO
	// 2008 codes), from the 2019 census figures of the provinces merged into
	// it, rounded; Kinh (01) is the rest.
	ethnic []entry
}

// provinces are the 34 provinces of the 2025 scheme with the old
// provinces merged into each.
var provinces = []provinceInfo{
	{"01", 8700, 0.15, []entry{{"04", 0.7}, {"02", 0.2}, {"03", 0.1}, {"06", 0.1}, {"07", 0.1}, {"09", 0.05}}},                                                                     // Hà Nội
	{"04", 540, 0.03, []entry{{"02", 40}, {"07", 31}, {"08", 10.5}, {"09", 10}, {"13", 1}, {"45", 0.3}}},                                                                           // Cao Bằng
	{"08", 1700, 0.04, []entry{{"02", 27}, {"08", 19}, {"09", 12}, {"07", 5}, {"13", 4}, {"26", 1}, {"36", 0.7}, {"41", 0.5}, {"45", 0.3}, {"38", 0.2}, {"48", 0.2}, {"51", 0.1}}}, // Tuyên Quang, Hà Giang
	{"11", 640, 0.04, []entry{{"03", 34}, {"08", 36}, {"23", 3}, {"09", 1.2}, {"33", 1.2}, {"35", 1}, {"42", 1}, {"32", 0.4}, {"06", 0.5}, {"49", 0.3}, {"50", 0.1}}},              // Điện Biên
	{"12", 480, 0.05, []entry{{"03", 32}, {"08", 24}, {"09", 13}, {"33", 6}, {"26", 5}, {"39", 2.5}, {"42", 1.4}, {"46", 0.8}, {"49", 0.5}, {"23", 0.2}, {"50", 0.1}}},             // Lai Châu
	{"14", 1300, 0.04, []entry{{"03", 53}, {"08", 17}, {"04", 8}, {"09", 1.7}, {"32", 2}, {"23", 1.2}, {"37", 1}, {"35", 0.3}}},                                                    // Sơn La
	{"15", 1660, 0.05, []entry{{"02", 14}, {"08", 17}, {"09", 12}, {"03", 3.5}, {"07", 3}, {"26", 2.5}, {"38", 1.2}, {"33", 1}, {"04", 0.5}, {"48", 0.1}}},                         // Lào Cai, Yên Bái
	{"19", 1700, 0.06, []entry{{"02", 21}, {"07", 6}, {"09", 4}, {"17", 2.5}, {"13", 1.5}, {"08", 1}, {"06", 0.2}}},                                                                // Thái Nguyên, Bắc Kạn
	{"20", 800, 0.03, []entry{{"07", 43}, {"02", 35}, {"09", 4}, {"13", 0.6}, {"08", 0.4}, {"06", 0.2}}},                                                                           // Lạng Sơn
	{"22", 1380, 0.08, []entry{{"09", 5}, {"02", 3.5}, {"17", 1.7}, {"13", 1.5}, {"06", 0.3}}},                                                                                     // Quảng Ninh
	{"24", 3400, 0.10, []entry{{"07", 3.4}, {"02", 2}, {"13", 1.5}, {"17", 1.2}, {"06", 0.2}, {"09", 0.2}}},                                                                        // Bắc Ninh, Bắc Giang
	{"25", 3600, 0.05, []entry{{"04", 23}, {"09", 1.2}, {"02", 1.2}, {"03", 1.1}, {"17", 0.6}, {"13", 0.3}, {"08", 0.2}}},                                                          // Phú Thọ, Vĩnh Phúc, Hòa Bình
	{"31", 4100, 0.06, []entry{{"06", 0.1}, {"02", 0.05}, {"04", 0.05}}},                                                                                                           // Hải Phòng, Hải Dương
	{"33", 3200, 0.03, []entry{{"04", 0.05}}}, // Hưng Yên, Thái Bình
	{"37", 3800, 0.03, []entry{{"04", 0.7}}},  // Ninh Bình, Hà Nam, Nam Định
	{"38", 3700, 0.02, []entry{{"04", 9}, {"03", 6.5}, {"08", 0.5}, {"21", 0.3}, {"09", 0.2}, {"23", 0.1}}},                                                                                            // Thanh Hóa
	{"40", 3400, 0.02, []entry{{"03", 10}, {"21", 2.2}, {"23", 1.3}, {"08", 1}, {"54", 0.01}}},                                                                                                         // Nghệ An
	{"42", 1300, 0.02, []entry{{"44", 0.05}, {"04", 0.05}}},                                                                                                                                            // Hà Tĩnh
	{"44", 1600, 0.03, []entry{{"24", 3.6}, {"27", 0.6}, {"44", 0.3}}},                                                                                                                                 // Quảng Bình, Quảng Trị
	{"46", 1150, 0.05, []entry{{"27", 2}, {"25", 1}, {"24", 0.3}}},                                                                                                                                     // Huế
	{"48", 2900, 0.10, []entry{{"25", 2.5}, {"16", 1.5}, {"29", 0.7}, {"30", 0.3}}},                                                                                                                    // Đà Nẵng, Quảng Nam
	{"51", 1860, 0.04, []entry{{"18", 8.5}, {"16", 8}, {"12", 3.5}, {"30", 1.5}, {"29", 1.2}, {"52", 0.03}, {"53", 0.02}}},                                                                             // Quảng Ngãi, Kon Tum
	{"52", 3100, 0.06, []entry{{"10", 17.5}, {"12", 7.5}, {"18", 0.3}, {"02", 0.3}, {"07", 0.3}, {"14", 0.1}}},                                                                                         // Gia Lai, Bình Định
	{"56", 1900, 0.07, []entry{{"19", 7}, {"14", 4.5}, {"15", 0.6}, {"06", 0.3}}},                                                                                                                      // Khánh Hòa, Ninh Thuận
	{"66", 2800, 0.10, []entry{{"11", 13.5}, {"07", 3}, {"02", 2.5}, {"20", 1.5}, {"08", 1.2}, {"10", 1.2}, {"09", 0.8}, {"03", 0.7}, {"04", 0.5}, {"14", 0.3}, {"12", 0.3}}},                          // Đắk Lắk, Phú Yên
	{"68", 3250, 0.12, []entry{{"15", 5.5}, {"20", 3}, {"28", 1.5}, {"07", 1.6}, {"02", 1.2}, {"14", 1.3}, {"09", 0.8}, {"34", 0.6}, {"08", 0.6}, {"06", 0.5}, {"19", 0.4}, {"03", 0.3}, {"11", 0.2}}}, // Lâm Đồng, Đắk Nông, Bình Thuận
	{"75", 4300, 0.20, []entry{{"06", 2.5}, {"22", 2.3}, {"07", 1.6}, {"05", 1.1}, {"02", 1}, {"31", 0.6}, {"20", 0.3}, {"09", 0.2}, {"28", 0.1}}},                                                     // Đồng Nai, Bình Phước
	{"79", 13600, 0.30, []entry{{"06", 4.5}, {"05", 0.8}, {"31", 0.3}, {"02", 0.3}, {"07", 0.3}, {"04", 0.2}, {"14", 0.1}, {"03", 0.1}}},                                                               // Hồ Chí Minh, Bình Dương, Bà Rịa–Vũng Tàu
	{"80", 2900, 0.06, []entry{{"05", 0.4}, {"06", 0.2}, {"14", 0.1}}},                                                                                                                                 // Tây Ninh, Long An
	{"82", 3400, 0.02, []entry{{"06", 0.1}, {"05", 0.05}}},                                                                                                                                             // Đồng Tháp, Tiền Giang
	{"86", 3300, 0.02, []entry{{"05", 10.5}, {"06", 0.7}}},                                                                                                                                             // Vĩnh Long, Bến Tre, Trà Vinh
	{"91", 3650, 0.03, []entry{{"05", 9}, {"06", 1.6}, {"14", 0.6}}},                                                                                                                                   // An Giang, Kiên Giang
	{"92", 3200, 0.04, []entry{{"05", 12}, {"06", 2}}},                                                                                                                                                 // Cần Thơ, Hậu Giang, Sóc Trăng
	{"96", 2100, 0.03, []entry{{"05", 3.3}, {"06", 1.2}}},                                                                                                                                              // Cà Mau, Bạc Liêu
}

// southOf is the first 2025 province code south of the Gianh river, the old
// border of Đàng Trong: the Nguyễn lords' naming taboo turned Hoàng into
// Huỳnh and Vũ into Võ there, and the street and hamlet words differ too.
const southOf = "44"

// ngheAn is the province where Hồ is a common family name (4.2%).
const ngheAn = "40"

// religionMix gives the religion codes of Kinh households in a province,
// in percent; "00" (none) is the rest. National figures (2019 census, about
// 86% without a religion; Catholics about 6%, Buddhists registered as such
// about 5%) shifted where a faith is known to be strong: Catholics in the
// Ninh Bình–Nam Định diocese, Đồng Nai and the Highlands, Cao Đài in Tây
// Ninh, Hòa Hảo in An Giang and Đồng Tháp, Buddhists in Huế and the south.
var religionMix = map[string][]entry{
	"":   {{"01", 3}, {"02", 4}, {"03", 0.3}}, // any province not listed
	"37": {{"01", 3}, {"02", 12}},
	"38": {{"01", 2}, {"02", 5}},
	"40": {{"01", 2}, {"02", 8}},
	"42": {{"01", 2}, {"02", 7}},
	"44": {{"01", 3}, {"02", 6}},
	"46": {{"01", 20}, {"02", 3}},
	"48": {{"01", 10}, {"02", 4}, {"04", 1}},
	"52": {{"01", 8}, {"02", 7}, {"03", 3}},
	"56": {{"01", 10}, {"02", 8}},
	"66": {{"01", 6}, {"02", 10}, {"03", 4}},
	"68": {{"01", 8}, {"02", 20}, {"03", 3}},
	"75": {{"01", 6}, {"02", 22}, {"03", 1}, {"04", 1}},
	"79": {{"01", 10}, {"02", 7}, {"03", 1}, {"04", 1}, {"05", 0.3}},
	"80": {{"01", 8}, {"02", 3}, {"04", 18}},
	"82": {{"01", 8}, {"02", 2}, {"04", 3}, {"05", 8}},
	"86": {{"01", 8}, {"02", 4}, {"04", 5}, {"05", 2}},
	"91": {{"01", 8}, {"02", 2}, {"04", 2}, {"05", 20}},
	"92": {{"01", 10}, {"02", 2}, {"04", 3}, {"05", 8}},
	"96": {{"01", 8}, {"02", 3}, {"04", 2}},
}

// groupReligion overrides religionMix for ethnic groups with a faith of
// their own: Theravada Buddhism among the Khơ Me, Brahmanism and Islam
// among the Chăm, Protestant and Catholic churches among the Mông and the
// peoples of the Central Highlands. Chăm in An Giang and Hồ Chí Minh City
// are Muslim; elsewhere most follow the Bà-la-môn or the Bani faith.
var groupReligion = map[string][]entry{
	"05": {{"01", 85}},
	"06": {{"01", 35}, {"02", 5}},
	"08": {{"03", 25}, {"02", 3}},
	"10": {{"03", 30}, {"02", 15}},
	"11": {{"03", 35}, {"02", 10}},
	"12": {{"02", 30}, {"03", 10}},
	"15": {{"02", 25}, {"03", 20}},
	"16": {{"02", 35}, {"03", 5}},
	"20": {{"03", 25}, {"02", 15}},
	"14": {{"16", 55}, {"06", 35}},
}

// chamMuslim are the provinces whose Chăm are Muslim.
var chamMuslim = []string{"91", "79", "80"}
