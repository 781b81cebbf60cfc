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
	{"notice.account.subject", "VNeID: thay đổi tài khoản định danh điện tử", "VNeID: a change to your e-ID account"},
	{"notice.recovery.new", "VNeID: một bộ mã khôi phục mới của tài khoản định danh điện tử vừa được tạo; các mã cũ không còn dùng được. Nếu không phải bạn, hãy khoá tài khoản và đến Công an cấp xã.",
		"VNeID: a new set of recovery codes was just made for your e-ID account; the old codes no longer work. If it was not you, lock the account and go to a commune police."},
	{"notice.recovery.used", "VNeID: tài khoản định danh điện tử của bạn vừa được khôi phục bằng mã khôi phục: mật khẩu mới, mọi phiên đăng nhập, khoá truy cập và ứng dụng xác thực đã bị gỡ. Không thể thêm thiết bị mới trước %s. Nếu không phải bạn, hãy khoá tài khoản ngay và đến Công an cấp xã.",
		"VNeID: your e-ID account was just recovered with a recovery code: a new password is set and every session, passkey and authenticator app was removed. No new device can be added before %s. If it was not you, lock the account now and go to a commune police."},
	{"notice.rebound", "VNeID: tài khoản định danh điện tử của bạn vừa được chuyển sang số điện thoại %s tại Công an cấp xã; mọi phiên đăng nhập, khoá truy cập và ứng dụng xác thực đã bị gỡ. Nếu không phải bạn, hãy đến Công an cấp xã ngay.",
		"VNeID: your e-ID account was just moved to the phone number %s at a commune police counter; every session, passkey and authenticator app was removed. If it was not you, go to a commune police at once."},
	{"notice.factor.passkey.added", "VNeID: một khoá truy cập (passkey) mới \"%s\" vừa được thêm vào tài khoản định danh điện tử của bạn. Nếu không phải bạn, hãy khoá tài khoản và đến Công an cấp xã.",
		"VNeID: a new passkey \"%s\" was just added to your e-ID account. If it was not you, lock the account and go to a commune police."},
	{"notice.factor.passkey.removed", "VNeID: một khoá truy cập (passkey) vừa bị gỡ khỏi tài khoản định danh điện tử của bạn. Nếu không phải bạn, hãy khoá tài khoản và đến Công an cấp xã.",
		"VNeID: a passkey was just removed from your e-ID account. If it was not you, lock the account and go to a commune police."},
	{"notice.factor.totp.enabled", "VNeID: ứng dụng xác thực vừa được bật cho tài khoản định danh điện tử của bạn. Nếu không phải bạn, hãy khoá tài khoản và đến Công an cấp xã.",
		"VNeID: an authenticator app was just turned on for your e-ID account. If it was not you, lock the account and go to a commune police."},
	{"notice.factor.totp.disabled", "VNeID: ứng dụng xác thực vừa bị tắt cho tài khoản định danh điện tử của bạn. Nếu không phải bạn, hãy khoá tài khoản và đến Công an cấp xã.",
		"VNeID: the authenticator app was just turned off for your e-ID account. If it was not you, lock the account and go to a commune police."},
}
