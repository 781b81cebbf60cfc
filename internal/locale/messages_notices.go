package locale

// noticeMessages are the texts of the SMS, e-mail and in-app notices. A
// notice goes out before the platform knows which language its reader
// wants (an applicant has no account yet), so it is sent in both (Both).
var noticeMessages = [][3]string{
	{"notice.otp", "VNeID: mã kích hoạt của bạn là %s, hết hạn sau %d phút. Không chia sẻ mã này với bất kỳ ai.",
		"VNeID: your activation code is %s. It expires in %d minutes. Never share it."},
	{"notice.otp.subject", "VNeID: mã kích hoạt", "VNeID activation code"},
	{"notice.eid.approved", "VNeID: hồ sơ định danh điện tử mức %d của bạn đã được duyệt. Kích hoạt tài khoản bằng số định danh cá nhân %s và số điện thoại này.",
		"VNeID: your level-%d application was approved. Activate your account with your ID number %s and this phone number."},
	{"notice.eid.rejected", "VNeID: hồ sơ định danh điện tử mức %d của bạn không được duyệt: %s",
		"VNeID: your level-%d application was rejected: %s"},
	{"notice.password.changed", "VNeID: mật khẩu tài khoản định danh điện tử của bạn vừa được thay đổi; mọi phiên đăng nhập đã kết thúc. Nếu không phải bạn, hãy khoá tài khoản và đến Công an cấp xã.",
		"VNeID: the password of your e-ID account was just changed and every session ended. If it was not you, lock the account and go to a commune police."},
	{"notice.password.subject", "VNeID: mật khẩu đã thay đổi", "VNeID: password changed"},
	{"notice.dossier", "Hồ sơ %s (%s): %s", "Dossier %s (%s): %s"},
	{"notice.dossier.note", "Hồ sơ %s (%s): %s. Ghi chú: %s", "Dossier %s (%s): %s. Note: %s"},
}
