package codelist

// Ethnicity code systems. Other systems exist (the social-insurance list),
// so every stored ethnicity code carries its system.
const (
	EthnicGSO2008 = "gso-1019-2008" // QĐ 1019/QĐ-TCTK (2008), the current GSO list
	EthnicGSO1979 = "gso-121-1979"  // QĐ 121-TCTK/PPCĐ (1979)
)

// ethnicGSO2008 is QĐ 1019/QĐ-TCTK. Codes 01–20 were read in the decision;
// 21–54 follow the GSO order as two independent lists give it.
var ethnicGSO2008 = []Entry{
	{"01", "Kinh"}, {"02", "Tày"}, {"03", "Thái"}, {"04", "Mường"}, {"05", "Khơ Me"},
	{"06", "Hoa"}, {"07", "Nùng"}, {"08", "Mông"}, {"09", "Dao"}, {"10", "Gia Rai"},
	{"11", "Ê Đê"}, {"12", "Ba Na"}, {"13", "Sán Chay"}, {"14", "Chăm"}, {"15", "Cơ Ho"},
	{"16", "Xơ Đăng"}, {"17", "Sán Dìu"}, {"18", "Hrê"}, {"19", "Ra Glai"}, {"20", "Mnông"},
	{"21", "Thổ"}, {"22", "Xtiêng"}, {"23", "Khơ Mú"}, {"24", "Bru-Vân Kiều"}, {"25", "Cơ Tu"},
	{"26", "Giáy"}, {"27", "Tà Ôi"}, {"28", "Mạ"}, {"29", "Giẻ-Triêng"}, {"30", "Co"},
	{"31", "Chơ Ro"}, {"32", "Xinh Mun"}, {"33", "Hà Nhì"}, {"34", "Chu Ru"}, {"35", "Lào"},
	{"36", "La Chí"}, {"37", "Kháng"}, {"38", "Phù Lá"}, {"39", "La Hủ"}, {"40", "La Ha"},
	{"41", "Pà Thẻn"}, {"42", "Lự"}, {"43", "Ngái"}, {"44", "Chứt"}, {"45", "Lô Lô"},
	{"46", "Mảng"}, {"47", "Cơ Lao"}, {"48", "Bố Y"}, {"49", "Cống"}, {"50", "Si La"},
	{"51", "Pu Péo"}, {"52", "Rơ Măm"}, {"53", "Brâu"}, {"54", "Ơ Đu"},
}

// ethnicGSO1979 holds the codes of the 1979 list that DOMAIN.md confirms;
// legacy records coded in it are accepted and kept with their system. The
// rest of that list is not verified, so it is not guessed here.
var ethnicGSO1979 = []Entry{
	{"01", "Kinh"}, {"04", "Hoa"}, {"05", "Khơ-me"}, {"06", "Mường"}, {"11", "Ngái"},
}

// religions are the religions recognised in Viet Nam, plus "none" and
// "other". No official numeric code list was found, so the codes are ours.
var religions = []Entry{
	{"00", "Không"}, {"01", "Phật giáo"}, {"02", "Công giáo"}, {"03", "Tin lành"},
	{"04", "Cao Đài"}, {"05", "Phật giáo Hòa Hảo"}, {"06", "Hồi giáo"}, {"07", "Tôn giáo Baha'i"},
	{"08", "Tịnh độ Cư sĩ Phật hội Việt Nam"}, {"09", "Cơ đốc Phục lâm"}, {"10", "Phật giáo Tứ Ân Hiếu Nghĩa"},
	{"11", "Minh Sư đạo"}, {"12", "Minh Lý đạo – Tam Tông Miếu"}, {"13", "Các Thánh hữu Ngày sau của Chúa Giê-su Ky-tô"},
	{"14", "Phật giáo Hiếu Nghĩa Tà Lơn"}, {"15", "Bửu Sơn Kỳ Hương"}, {"16", "Bà-la-môn giáo"},
	{"99", "Khác"},
}

var bloodTypes = []Entry{
	{"A", "A"}, {"B", "B"}, {"AB", "AB"}, {"O", "O"},
	{"A+", "A Rh+"}, {"A-", "A Rh−"}, {"B+", "B Rh+"}, {"B-", "B Rh−"},
	{"AB+", "AB Rh+"}, {"AB-", "AB Rh−"}, {"O+", "O Rh+"}, {"O-", "O Rh−"},
}

var maritalStatuses = []Entry{
	{"single", "Chưa kết hôn"}, {"married", "Đã kết hôn"}, {"divorced", "Đã ly hôn"}, {"widowed", "Góa"},
}

// householdRels is the relationship of a member to the household head.
var householdRels = []Entry{
	{"head", "Chủ hộ"}, {"spouse", "Vợ/Chồng"}, {"child", "Con"}, {"parent", "Cha/Mẹ"},
	{"parent_in_law", "Cha/Mẹ vợ/chồng"}, {"child_in_law", "Con dâu/Con rể"},
	{"grandparent", "Ông/Bà"}, {"grandchild", "Cháu"}, {"sibling", "Anh/Chị/Em"},
	{"relative", "Họ hàng khác"}, {"other", "Khác"},
}
