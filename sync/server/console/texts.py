"""The console's words in Vietnamese (first) and English; a test checks every key a template or route uses is here
in both."""

from __future__ import annotations

LANGUAGES = ("vi", "en")

WORDS: dict[str, tuple[str, str]] = {
    # frame
    "console": ("Bảng điều khiển màn hình Tịnh Biên", "Tịnh Biên screens console"),
    "nav-home": ("Trang chính", "Home"),
    "nav-screens": ("Màn hình", "Screens"),
    "nav-notices": ("Thông báo khẩn", "Urgent notices"),
    "nav-audit": ("Nhật ký", "Audit log"),
    "nav-keys": ("Khoá ký", "Signing key"),
    "nav-logout": ("Đăng xuất", "Log out"),
    "other-language": ("English", "Tiếng Việt"),
    "insecure": ("Trang này mở qua http thường trên mạng nội bộ: trình duyệt không cho phép ký ở đây. Hãy mở bằng "
                 "https:// (chứng chỉ của văn phòng) hoặc trên chính máy chủ (localhost).",
                 "This page is served over plain http on the local network: the browser does not allow signing here. "
                 "Open it with https:// (the office's certificate) or on the server itself (localhost)."),
    "save": ("Lưu", "Save"),
    "cancel": ("Huỷ", "Cancel"),
    "back": ("Quay lại", "Back"),
    "yes": ("Có", "Yes"),
    "no": ("Không", "No"),
    "none": ("không có", "none"),
    "saved": ("Đã lưu.", "Saved."),
    "working": ("Đang xử lý…", "Working…"),
    "error": ("Lỗi", "Error"),
    "warning": ("Cảnh báo", "Warning"),
    # log-in
    "login-title": ("Đăng nhập", "Log in"),
    "login-name": ("Tên đăng nhập", "Name"),
    "login-password": ("Mật khẩu", "Password"),
    "login-submit": ("Đăng nhập", "Log in"),
    "login-wrong": ("Sai tên hoặc mật khẩu.", "Wrong name or password."),
    "login-locked": ("Tên này tạm bị khoá vì nhập sai mật khẩu nhiều lần; thử lại sau {seconds} giây.",
                     "This name is locked after too many wrong passwords; try again in {seconds} s."),
    "login-needed": ("Vui lòng đăng nhập.", "Please log in."),
    "session-ended": ("Phiên làm việc đã kết thúc; vui lòng đăng nhập lại.", "Your session has ended; please log in again."),
    "session-idle": ("Phiên đã hết hạn sau 30 phút không thao tác; đăng nhập lại, nội dung đang gõ vẫn được giữ.",
                     "Your session ended after 30 minutes idle; log in again, what you typed is kept."),
    "session-expired": ("Phiên đã quá 12 giờ; đăng nhập lại, nội dung đang gõ vẫn được giữ.",
                        "Your session passed 12 hours; log in again, what you typed is kept."),
    "logged-out": ("Đã đăng xuất.", "Logged out."),
    "password-title": ("Đặt mật khẩu", "Set your password"),
    "password-for": ("Đặt mật khẩu cho {name}", "Set the password for {name}"),
    "password-new": ("Mật khẩu mới", "New password"),
    "password-again": ("Nhập lại mật khẩu", "The password again"),
    "password-submit": ("Đặt mật khẩu", "Set password"),
    "password-short": ("Mật khẩu cần ít nhất 10 ký tự.", "A password needs at least 10 characters."),
    "password-has-name": ("Mật khẩu không được chứa tên đăng nhập.", "The password must not contain your name."),
    "password-differ": ("Hai lần nhập không giống nhau.", "The two passwords differ."),
    "password-link-bad": ("Đường dẫn đặt mật khẩu không hợp lệ, đã dùng hoặc đã quá 24 giờ; nhờ quản trị viên tạo "
                          "đường dẫn mới (python -m sync server staff passwd TÊN).",
                          "This set-password link is unknown, used or older than 24 hours; ask an admin for a new one "
                          "(python -m sync server staff passwd NAME)."),
    "password-set": ("Đã đặt mật khẩu; mời đăng nhập.", "Password set; please log in."),
    # refusals
    "admin-only": ("Trang này chỉ dành cho quản trị viên.", "This page is for admins only."),
    "channel-not-yours": ("Bạn không được sửa kênh {channel}.", "You may not act on channel {channel}."),
    "foreign-origin": ("Yêu cầu không đến từ trang của máy chủ này (Origin khác); không thay đổi gì.",
                       "The request did not come from a page of this server (another Origin); nothing was changed."),
    "csrf-missing": ("Thiếu hoặc sai mã bảo vệ biểu mẫu (CSRF); hãy tải lại trang rồi thử lại.",
                     "The form's protection token (CSRF) is missing or wrong; reload the page and try again."),
    "form-too-large": ("Biểu mẫu quá lớn.", "The form is too large."),
    "refused": ("Không thực hiện được", "Not done"),
    # home
    "home-title": ("Các kênh", "Channels"),
    "home-hello": ("Xin chào {name}", "Hello {name}"),
    "role-admin": ("quản trị viên", "admin"),
    "role-editor": ("biên tập viên", "editor"),
    "channel": ("Kênh", "Channel"),
    "generation": ("Phiên bản nội dung", "Content generation"),
    "draft": ("Bản nháp", "Draft"),
    "draft-none": ("chưa có", "none"),
    "draft-since": ("từ phiên bản {generation}", "from generation {generation}"),
    "draft-open": ("Mở bản nháp", "Open the draft"),
    "draft-start": ("Bắt đầu bản nháp", "Start a draft"),
    "screens-count": ("{online}/{total} màn hình trực tuyến", "{online} of {total} screens online"),
}


def say(key: str, language: str) -> str:
    """The words for `key` in `language`; the key itself if it is missing (a test keeps that from happening)."""
    pair = WORDS.get(key)
    if pair is None:
        return key
    return pair[0] if language == "vi" else pair[1]
