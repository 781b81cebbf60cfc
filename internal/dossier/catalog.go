// Package dossier is online public services: the catalog of essential
// services, the dossier workflow (submitted, received with a CT04 receipt,
// information requested with CT05, approved or refused with CT06, result
// returned, or withdrawn) with statutory deadlines in working days, and the
// residence procedures that change the registry in the same transaction as
// their approval, the revision citing the dossier.
package dossier

// Level is the level of the competent agency.
type Level string

// Agency levels.
const (
	Commune  Level = "commune"
	District Level = "district"
	Province Level = "province"
	Central  Level = "central"
)

// CatalogEntry is one service of the catalog.
type CatalogEntry struct {
	Code       string   `json:"code"`
	NameVI     string   `json:"name_vi"`
	NameEN     string   `json:"name_en"`
	Agency     string   `json:"agency" doc:"Competent agency"`
	Level      Level    `json:"level" enum:"commune,district,province,central"`
	Days       float64  `json:"deadline_working_days" doc:"Statutory deadline in working days from a complete file; 0: no approval step"`
	Data       []string `json:"data" doc:"What the service needs beyond what the registry holds"`
	Online     bool     `json:"fully_online"`
	Executable bool     `json:"executable" doc:"dancu runs this procedure; the others are listed with their metadata"`
	Essential  int      `json:"essential_number,omitempty" doc:"Its number in the list of 25 essential services, if it is one"`
}

// Catalog is the 25 essential services of Đề án 06 (the list made mandatory
// online by Chỉ thị 24/CT-TTg), the residence procedures first, executable.
// Deadlines of the services dancu does not run are those of their own
// laws, given where DOMAIN.md states them and 0 (unknown here) otherwise.
var Catalog = []CatalogEntry{
	{Code: "residence.permanent", Essential: 3, NameVI: "Đăng ký thường trú", NameEN: "Permanent residence registration", Agency: "Công an cấp xã", Level: Commune, Days: 7,
		Data: []string{"address", "household", "lawful_residence", "consent"}, Online: true, Executable: true},
	{Code: "residence.temporary", Essential: 4, NameVI: "Đăng ký tạm trú", NameEN: "Temporary residence registration", Agency: "Công an cấp xã", Level: Commune, Days: 3,
		Data: []string{"address", "until", "lawful_residence"}, Online: true, Executable: true},
	{Code: "residence.temporary.renewal", NameVI: "Gia hạn tạm trú", NameEN: "Temporary residence renewal", Agency: "Công an cấp xã", Level: Commune, Days: 3,
		Data: []string{"until"}, Online: true, Executable: true},
	{Code: "residence.absence", Essential: 5, NameVI: "Khai báo tạm vắng", NameEN: "Temporary absence declaration", Agency: "Công an cấp xã", Level: Commune, Days: 1,
		Data: []string{"destination", "from", "until", "reason"}, Online: true, Executable: true},
	{Code: "residence.accommodation", Essential: 6, NameVI: "Thông báo lưu trú", NameEN: "Accommodation notice", Agency: "Công an cấp xã", Level: Commune, Days: 0,
		Data: []string{"guests", "address", "arrival", "until", "reason"}, Online: true, Executable: true},
	{Code: "residence.permanent.deregistration", NameVI: "Xoá đăng ký thường trú", NameEN: "Permanent residence deregistration", Agency: "Công an cấp xã", Level: Commune, Days: 5,
		Data: []string{"case", "new_head_pid"}, Online: true, Executable: true},
	{Code: "residence.temporary.deregistration", NameVI: "Xoá đăng ký tạm trú", NameEN: "Temporary residence deregistration", Agency: "Công an cấp xã", Level: Commune, Days: 2,
		Data: []string{"case", "evidence"}, Online: true, Executable: true},
	{Code: "residence.update", NameVI: "Điều chỉnh thông tin về cư trú (thay đổi chủ hộ)", NameEN: "Change of household head and other residence information", Agency: "Công an cấp xã", Level: Commune, Days: 3,
		Data: []string{"new_head_pid", "former_head_relationship"}, Online: true, Executable: true},
	{Code: "residence.confirmation", NameVI: "Xác nhận thông tin về cư trú (CT07)", NameEN: "Residence confirmation (CT07)", Agency: "Công an cấp xã", Level: Commune, Days: 0.5,
		Data: []string{}, Online: true, Executable: true},
	// Not one of the 25: the way from "this is wrong" on the citizen's own
	// page to the commune police. The deadline is that of updating
	// residence information (Luật Cư trú 2020 Art. 26), taken as the
	// nearest statutory one; the law on correcting the national database
	// itself states none that DOMAIN.md verifies.
	{Code: "registry.correction", NameVI: "Đề nghị điều chỉnh thông tin trong Cơ sở dữ liệu quốc gia về dân cư", NameEN: "Request to correct my data in the national population database",
		Agency: "Công an cấp xã", Level: Commune, Days: 3, Data: []string{"field", "correct", "evidence"}, Online: true, Executable: true},
	{Code: "id.old-number", Essential: 1, NameVI: "Xác nhận số Chứng minh nhân dân", NameEN: "Confirmation of the old ID card number", Agency: "Công an cấp xã", Level: Commune, Online: true},
	{Code: "id.card", Essential: 2, NameVI: "Cấp đổi, cấp lại thẻ căn cước", NameEN: "Renewal or re-issue of the ID card", Agency: "Công an cấp huyện/tỉnh", Level: Province, Online: true},
	{Code: "vehicle.motorbike", Essential: 7, NameVI: "Đăng ký, cấp biển số xe mô tô, xe gắn máy", NameEN: "Motorbike registration and plates", Agency: "Công an cấp xã", Level: Commune, Online: true},
	{Code: "traffic.fine", Essential: 8, NameVI: "Nộp phạt vi phạm giao thông qua hình ảnh", NameEN: "Paying camera-detected traffic fines", Agency: "Cảnh sát giao thông", Level: Province, Online: true},
	{Code: "civil.birth", Essential: 9, NameVI: "Đăng ký khai sinh", NameEN: "Birth registration", Agency: "UBND cấp xã", Level: Commune, Online: true},
	{Code: "civil.death", Essential: 10, NameVI: "Đăng ký khai tử", NameEN: "Death registration", Agency: "UBND cấp xã", Level: Commune, Online: true},
	{Code: "civil.marriage", Essential: 11, NameVI: "Đăng ký kết hôn", NameEN: "Marriage registration", Agency: "UBND cấp xã", Level: Commune, Online: true},
	{Code: "passport", Essential: 12, NameVI: "Cấp, cấp lại, sửa đổi hộ chiếu phổ thông", NameEN: "Ordinary passport (issue, re-issue, amend)", Agency: "Cục Quản lý xuất nhập cảnh / Công an tỉnh", Level: Province, Online: true},
	{Code: "seal.new", Essential: 13, NameVI: "Đăng ký mẫu con dấu mới", NameEN: "New seal and seal-specimen certificate", Agency: "Công an tỉnh", Level: Province, Online: true},
	{Code: "seal.miniature", Essential: 14, NameVI: "Đăng ký dấu nổi, dấu thu nhỏ, dấu xi", NameEN: "Miniature, embossed or wax seals", Agency: "Công an tỉnh", Level: Province, Online: true},
	{Code: "linked.birth", Essential: 15, NameVI: "Liên thông: khai sinh, thường trú, thẻ BHYT cho trẻ dưới 6 tuổi", NameEN: "Linked: birth, permanent residence and health insurance for children under 6", Agency: "UBND và Công an cấp xã, BHXH", Level: Commune, Online: true},
	{Code: "linked.death", Essential: 16, NameVI: "Liên thông: khai tử, xoá thường trú, trợ cấp mai táng", NameEN: "Linked: death, permanent residence deregistration and funeral allowance", Agency: "UBND và Công an cấp xã, BHXH", Level: Commune, Online: true},
	{Code: "insurance.household", Essential: 17, NameVI: "Gia hạn thẻ BHYT theo hộ gia đình có giảm trừ mức đóng", NameEN: "Household health insurance renewal with reduced contributions", Agency: "BHXH", Level: District, Online: true},
	{Code: "tax.registration", Essential: 18, NameVI: "Đăng ký thuế lần đầu, thay đổi thông tin đăng ký thuế", NameEN: "First tax registration or change of tax data", Agency: "Cơ quan thuế", Level: District, Online: true},
	{Code: "land.change", Essential: 19, NameVI: "Đăng ký biến động quyền sử dụng đất", NameEN: "Land-use right change registration", Agency: "Văn phòng đăng ký đất đai", Level: District, Online: true},
	{Code: "power.connection", Essential: 20, NameVI: "Cấp điện mới từ lưới điện hạ áp", NameEN: "New low-voltage electricity connection", Agency: "Điện lực", Level: District, Online: true},
	{Code: "power.contract", Essential: 21, NameVI: "Thay đổi chủ thể hợp đồng mua bán điện", NameEN: "Change of party to the electricity contract", Agency: "Điện lực", Level: District, Online: true},
	{Code: "education.exam", Essential: 22, NameVI: "Đăng ký dự thi tốt nghiệp THPT và xét tuyển đại học, cao đẳng", NameEN: "Upper-secondary graduation exam and university admission", Agency: "Bộ Giáo dục và Đào tạo", Level: Central, Online: true},
	{Code: "labour.unemployment", Essential: 23, NameVI: "Giải quyết hưởng trợ cấp thất nghiệp", NameEN: "Unemployment benefit", Agency: "Trung tâm dịch vụ việc làm", Level: Province, Online: true},
	{Code: "justice.criminal-record", Essential: 24, NameVI: "Cấp phiếu lý lịch tư pháp", NameEN: "Criminal-record certificate", Agency: "Sở Tư pháp", Level: Province, Online: true},
	{Code: "transport.licence", Essential: 25, NameVI: "Cấp đổi, cấp lại giấy phép lái xe", NameEN: "Renewal or re-issue of a driving licence", Agency: "Sở Giao thông vận tải", Level: Province, Online: true},
}

// lookup finds a catalog entry by code.
func lookup(code string) (CatalogEntry, bool) {
	for _, e := range Catalog {
		if e.Code == code {
			return e, true
		}
	}
	return CatalogEntry{}, false
}

// Entry returns the catalog's entry of a service code.
func Entry(code string) (CatalogEntry, bool) { return lookup(code) }
