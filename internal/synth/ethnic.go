package synth

// kinh is the GSO 2008 code of the Kinh majority.
const kinh = "01"

// nameStyle is how a group's names are built beyond the family name.
type nameStyle int

const (
	styleKinh     nameStyle = iota // Kinh tables: middle names by sex and age, given names
	styleTrad                      // northern and central groups registered Kinh-style, mostly Văn/Thị
	styleHmong                     // Mông: A, Mí, Seo for men, Thị for women; Mông given names
	styleHighland                  // Central Highlands: no middle name, Y/A/K' and H'/Y/Ka before the name
	styleKhmer                     // Khơ Me: often no middle name, Khmer given names
)

// group is what the generator knows of an ethnic group's names.
type group struct {
	style nameStyle
	// kinhFamily is the share of the group whose family name comes from the
	// Kinh table of the region (many Tày, Nùng or Khơ Me carry Nguyễn,
	// Trần, Lê); the rest draw from family.
	kinhFamily float64
	family     []entry
	// menPrefix and womenPrefix come before a Highland given name: "Y Blang",
	// "H'Hen" (no space after an apostrophe).
	menPrefix, womenPrefix string
}

// groups are the ethnic groups the provinces table names, by GSO 2008
// code. Family names are the common ones of each group; the weights are
// rough ranks, not measured shares. A group not listed is named with
// otherGroup.
var groups = map[string]group{
	"02": {styleTrad, 0.15, []entry{{"Hoàng", 20}, {"Nông", 15}, {"Lương", 8}, {"Vi", 5}, {"Lý", 6}, {"Đinh", 5}, {"Ma", 5}, {"Hà", 6}, {"Triệu", 4}, {"Lục", 3}, {"Bế", 4}, {"Đàm", 3}, {"La", 3}, {"Mạc", 2}, {"Hứa", 2}}, "", ""},
	"03": {styleTrad, 0.05, []entry{{"Lò", 15}, {"Cầm", 10}, {"Lường", 10}, {"Quàng", 8}, {"Vi", 10}, {"Hà", 12}, {"Lô", 8}, {"Tòng", 5}, {"Điêu", 4}, {"Sầm", 3}, {"Lang", 4}, {"Mè", 3}, {"Bạc", 3}}, "", ""},
	"04": {styleTrad, 0.10, []entry{{"Đinh", 25}, {"Bùi", 25}, {"Quách", 10}, {"Hà", 10}, {"Bạch", 5}, {"Cao", 4}, {"Xa", 4}, {"Trương", 3}}, "", ""},
	"05": {styleKhmer, 0.10, []entry{{"Thạch", 25}, {"Sơn", 20}, {"Kim", 15}, {"Danh", 15}, {"Lâm", 7}, {"Châu", 5}, {"Lý", 5}, {"Triệu", 2}}, "", ""},
	"06": {styleKinh, 0, []entry{{"Lâm", 12}, {"Trần", 10}, {"Lý", 10}, {"Huỳnh", 8}, {"Trương", 8}, {"Quách", 6}, {"Lưu", 6}, {"Vương", 5}, {"Hứa", 5}, {"Tăng", 4}, {"Mạc", 3}, {"La", 3}, {"Diệp", 4}, {"Thái", 3}, {"Châu", 4}, {"Tạ", 3}, {"Dương", 4}, {"Ngô", 3}}, "", ""},
	"07": {styleTrad, 0.15, []entry{{"Hoàng", 20}, {"Nông", 12}, {"Lương", 8}, {"Vi", 8}, {"Lý", 8}, {"Lăng", 5}, {"Mã", 5}, {"Chu", 4}, {"Triệu", 4}, {"Hà", 4}, {"Hứa", 3}, {"Lục", 3}, {"Dương", 3}}, "", ""},
	"08": {styleHmong, 0.02, []entry{{"Giàng", 18}, {"Vàng", 15}, {"Sùng", 12}, {"Lý", 10}, {"Thào", 10}, {"Hờ", 6}, {"Mùa", 6}, {"Lầu", 6}, {"Vừ", 6}, {"Hạng", 4}, {"Tráng", 3}, {"Chẻo", 2}, {"Cứ", 2}}, "", ""},
	"09": {styleTrad, 0.05, []entry{{"Triệu", 30}, {"Bàn", 20}, {"Đặng", 15}, {"Lý", 12}, {"Phùng", 6}, {"Chảo", 6}, {"Tẩn", 5}, {"Lò", 3}, {"Hoàng", 3}}, "", ""},
	"10": {styleHighland, 0.03, []entry{{"Ksor", 20}, {"Rơ Mah", 15}, {"Siu", 15}, {"Rơ Châm", 10}, {"Kpă", 10}, {"Nay", 10}, {"Puih", 8}, {"Rah Lan", 5}, {"Rơ Lan", 4}}, "Y ", "H'"},
	"11": {styleHighland, 0.03, []entry{{"Niê", 20}, {"Mlô", 10}, {"Êban", 10}, {"Byă", 8}, {"Ayun", 8}, {"Buôn Yă", 5}, {"Adrơng", 6}, {"Hwing", 5}, {"Kbuôr", 5}, {"Ktla", 5}, {"Knul", 5}, {"Mdrang", 5}, {"Bkrông", 5}}, "Y ", "H'"},
	"12": {styleHighland, 0.05, []entry{{"Đinh", 40}, {"Rơ Ô", 10}, {"Siu", 10}, {"Ksor", 10}}, "A ", "Y "},
	"13": {styleTrad, 0.15, []entry{{"Lâm", 15}, {"Hoàng", 15}, {"La", 10}, {"Đàm", 8}, {"Nịnh", 8}, {"Trần", 8}, {"Lý", 6}}, "", ""},
	"14": {styleTrad, 0.10, []entry{{"Đàng", 15}, {"Quảng", 10}, {"Thiên", 8}, {"Lộ", 6}, {"Châu", 8}, {"Bá", 8}, {"Thuận", 6}, {"Lưu", 5}, {"Trượng", 5}, {"Thông", 4}, {"Hán", 4}, {"Sa", 4}}, "", ""},
	"15": {styleHighland, 0.03, []entry{{"Cil", 15}, {"Liêng", 15}, {"Kơ Să", 10}, {"Bon", 10}, {"Păng Ting", 5}, {"Ktơr", 5}}, "K'", "Ka "},
	"16": {styleHighland, 0.05, []entry{{"Đinh", 25}, {"A Lăng", 10}, {"Hồ", 5}}, "A ", "Y "},
	"17": {styleTrad, 0.20, []entry{{"Diệp", 12}, {"Lam", 12}, {"Trương", 10}, {"Ninh", 8}, {"Lưu", 8}, {"Tạ", 6}, {"Đặng", 6}, {"Trần", 6}, {"Hoàng", 4}}, "", ""},
	"18": {styleTrad, 0.10, []entry{{"Đinh", 50}, {"Phạm", 20}, {"Huỳnh", 5}}, "", ""},
	"19": {styleHighland, 0.02, []entry{{"Pi Năng", 20}, {"Chamaléa", 25}, {"Mang", 15}, {"Katơ", 10}, {"Bo Bo", 10}}, "", ""},
	"20": {styleHighland, 0.03, []entry{{"Điểu", 30}, {"Nơ", 10}, {"Bon", 10}}, "Y ", "H'"},
	"21": {styleTrad, 0.60, []entry{{"Lê", 20}, {"Trương", 10}, {"Nguyễn", 20}, {"Vi", 5}}, "", ""},
	"22": {styleHighland, 0.05, []entry{{"Điểu", 60}, {"Lâm", 10}}, "", "Thị "},
	"23": {styleTrad, 0.10, []entry{{"Lô", 20}, {"Vi", 20}, {"Cụt", 10}, {"Lò", 10}, {"Quàng", 10}, {"Lầu", 5}}, "", ""},
	"24": {styleTrad, 0.10, []entry{{"Hồ", 40}, {"Lê", 15}, {"Kăn", 5}}, "", ""},
	"25": {styleHighland, 0.05, []entry{{"Bríu", 20}, {"Alăng", 20}, {"Zơ Râm", 15}, {"Ating", 10}, {"Clâu", 10}, {"Pơ Loong", 10}}, "", ""},
	"26": {styleTrad, 0.10, []entry{{"Lương", 15}, {"Hoàng", 15}, {"Lù", 10}, {"Sần", 8}, {"Vương", 8}, {"Lò", 6}}, "", ""},
	"27": {styleTrad, 0.10, []entry{{"Hồ", 40}, {"Căn", 10}, {"Kăn", 10}}, "", ""},
	"28": {styleHighland, 0.03, []entry{{"Điểu", 30}, {"Ka", 10}}, "K'", "Ka "},
	"31": {styleHighland, 0.10, []entry{{"Điểu", 40}, {"Lâm", 10}}, "", "Thị "},
	"33": {styleHmong, 0.02, []entry{{"Lý", 25}, {"Chu", 15}, {"Pờ", 10}, {"Ly", 10}, {"Phu", 8}, {"Sừ", 8}}, "", ""},
	"34": {styleHighland, 0.03, []entry{{"Ya", 20}, {"Touneh", 15}, {"Ma", 10}}, "K'", "Ma "},
}

// otherGroup names the members of the small groups the table leaves out.
var otherGroup = group{styleTrad, 0.10, []entry{{"Lò", 10}, {"Vì", 8}, {"Hoàng", 8}, {"Lý", 8}, {"Chu", 5}, {"Sùng", 5}, {"Đinh", 5}, {"Hồ", 5}, {"Pờ", 3}}, "", ""}
