"""What each kind of content problem (`Problem.code`) says to staff, in Vietnamese and English (pure data).

The staff console shows a problem beside the field its key names, so these texts
say what is wrong with that field and what to do, without repeating where it is.
`{name}` takes the problem's value of that name; the English message the command
line prints stays in `Problem.message`.
"""

from __future__ import annotations

from .errors import Problem

LANGUAGES = ("vi", "en")

TEXTS: dict[str, dict[str, str]] = {
    # what the generic field readers find
    "required": {"vi": "Bắt buộc phải điền.", "en": "Required."},
    "wrong-type": {"vi": "Kiểu giá trị không đúng ({value}).", "en": "Not the right kind of value ({value})."},
    "out-of-range": {"vi": "Giá trị {value} nằm ngoài khoảng cho phép.", "en": "{value} is outside the allowed range."},
    "not-a-choice": {"vi": "Phải là một trong: {choices} (không phải {value}).",
                     "en": "Must be one of: {choices} (not {value})."},
    "not-mapping": {"vi": "Phải là một nhóm trường, không phải một giá trị đơn.",
                    "en": "Must be a group of fields, not a single value."},
    "unknown-key": {"vi": "Trường lạ, màn hình không hiểu; được phép: {allowed}.",
                    "en": "Unknown field; allowed here: {allowed}."},
    "invalid-value": {"vi": "Giá trị không hợp lệ: {detail}", "en": "Not a valid value: {detail}"},
    "empty-list": {"vi": "Danh sách trống nên sẽ không bao giờ phát; bỏ trống trường này nếu muốn không giới hạn.",
                   "en": "An empty list can never play; leave it out to mean no limit."},
    "bad-when": {"vi": "Thời gian không hợp lệ (ngày dạng 2026-12-31, giờ dạng 07:00-11:30, thứ mon…sun).",
                 "en": "Not a valid time (dates like 2026-12-31, times like 07:00-11:30, weekdays mon…sun)."},
    # playlists and items
    "playlist-empty": {"vi": "Danh sách phát trống; cần có mục (items).", "en": "The playlist is empty; it needs items."},
    "no-items": {"vi": "Danh sách phát chưa có mục nào.", "en": "The playlist has no items."},
    "item-incomplete": {"vi": "Mỗi mục cần ít nhất mã (id) và loại.", "en": "An item needs at least an id and a type."},
    "bad-id": {"vi": "Mã chỉ được dùng chữ không dấu, chữ số, '-', '_' và '.'.",
               "en": "An id may use only letters, digits, '-', '_' and '.'."},
    "duplicate-id": {"vi": "Mã này đã được dùng ở chỗ khác; hãy đặt mã khác.", "en": "This id is used twice; pick another."},
    "media-required": {"vi": "Mục ảnh hoặc video cần chọn một tệp trong thư viện.",
                       "en": "An image or video item needs a file from the media library."},
    "text-required": {"vi": "Mục chữ cần nội dung ở ít nhất một ngôn ngữ.",
                      "en": "A text item needs text in at least one language."},
    "text-missing-language": {"vi": "Chưa có bản dịch ngôn ngữ này; màn hình sẽ dùng ngôn ngữ thay thế hoặc bỏ qua.",
                              "en": "No text in this language; the screen falls back to another or skips it."},
    "video-only": {"vi": "Trường này chỉ dùng cho video.", "en": "This applies to video items only."},
    "not-language-map": {"vi": "Cần nội dung theo từng ngôn ngữ (vi, en, km, zh).",
                         "en": "Needs text per language (vi, en, km, zh)."},
    "bad-language": {"vi": "Mã ngôn ngữ không hợp lệ (dùng mã ISO 639-1 như vi, en, km, zh).",
                     "en": "Not a language code (use ISO 639-1 codes such as vi, en, km, zh)."},
    "no-font": {"vi": "Màn hình chưa có phông chữ cho ngôn ngữ này.", "en": "The screen has no font for this language."},
    "bad-media": {"vi": "Cần tên một tệp, hoặc một tệp riêng cho từng ngôn ngữ.",
                  "en": "Needs a file name, or one file per language."},
    "bad-file-name": {"vi": "Tên tệp không hợp lệ (không được chứa '..' hay bắt đầu bằng '/').",
                      "en": "Not a usable file name (no '..', no leading '/')."},
    "not-language-list": {"vi": "Cần danh sách mã ngôn ngữ, ví dụ [vi, en].",
                          "en": "Needs a list of language codes, e.g. [vi, en]."},
    "listed-twice": {"vi": "Ngôn ngữ này được liệt kê hai lần.", "en": "This language is listed twice."},
    "language-not-shown": {"vi": "Màn hình không hiển thị ngôn ngữ này; chỉ dùng khi thay thế.",
                           "en": "The screen does not show this language; it is used only as a fallback."},
    "no-such-playlist": {"vi": "Không có danh sách phát với mã này.", "en": "There is no playlist with this id."},
    "no-schedule": {"vi": "Có nhiều danh sách phát nhưng chưa có lịch; chỉ danh sách đầu tiên được phát.",
                    "en": "Several playlists but no schedule; only the first one plays."},
    "never-plays": {"vi": "Theo lịch này sẽ không có gì phát nữa (kiểm tra thứ, giờ và ngày); màn hình sẽ hiện trang dự phòng.",
                    "en": "Nothing in this schedule can ever play again (check weekdays, times and dates); "
                          "the fallback slide will show."},
    "no-playlists-folder": {"vi": "Không tìm thấy thư mục danh sách phát.", "en": "The playlists folder does not exist."},
    "bad-media-file": {"vi": "Tệp không có hoặc không đọc được (hỏng hay định dạng không hỗ trợ).",
                       "en": "The file is missing or cannot be read (broken or unsupported)."},
    "text-cut": {"vi": "Chữ quá dài so với khung; màn hình sẽ cắt bớt và thêm '…'.",
                 "en": "The text is too long for its box; the screen cuts it with '…'."},
    # the browse menu
    "menu-empty": {"vi": "Thực đơn trống; cần có chủ đề.", "en": "The menu is empty; it needs topics."},
    "title-required": {"vi": "Ô cần tiêu đề theo từng ngôn ngữ.", "en": "A tile needs its words per language."},
    "no-topics": {"vi": "Chưa có chủ đề nào.", "en": "There are no topics."},
    "too-many-topics": {"vi": "Quá nhiều ô (tối đa 12 trên một màn hình); hãy gom bớt vào chủ đề con.",
                        "en": "Too many tiles (at most 12 on one screen); group some under a sub-topic."},
    "topic-incomplete": {"vi": "Chủ đề cần mã, tiêu đề và trang (hoặc chủ đề con).",
                         "en": "A topic needs an id, a title and pages (or sub-topics)."},
    "low-contrast": {"vi": "Màu này làm chữ trên ô khó đọc (độ tương phản dưới 7:1); chọn màu đậm hơn hoặc nhạt hơn.",
                     "en": "This colour leaves the tile's text hard to read (below 7:1); pick a darker or lighter one."},
    "pages-or-topics": {"vi": "Chủ đề cần có trang hoặc chủ đề con (chỉ một trong hai).",
                        "en": "A topic needs either pages or sub-topics, not both."},
    "too-deep": {"vi": "Thực đơn chỉ được lồng tối đa 3 cấp; hãy dùng trang ở đây.",
                 "en": "Menus nest at most 3 levels; give this topic pages instead."},
    "bad-icon": {"vi": "Biểu tượng phải là một biểu tượng có sẵn hoặc một ảnh trong thư viện.",
                 "en": "The icon must be a built-in one or an image from the media library."},
    "no-pages": {"vi": "Chủ đề chưa có trang nào.", "en": "The topic has no pages."},
    "too-many-pages": {"vi": "Quá nhiều trang; hãy chia thành chủ đề con.", "en": "Too many pages; split it into sub-topics."},
    # a screen's settings (the channel profile)
    "config-empty": {"vi": "Tệp cấu hình trống.", "en": "The settings file is empty."},
    "config-unreadable": {"vi": "Không đọc được cấu hình màn hình; tạm dùng các ngôn ngữ mặc định.",
                          "en": "The screen's settings cannot be read; the default languages are assumed."},
    "no-exit-pin": {"vi": "Chế độ cảm ứng chưa có mã PIN thoát cho nhân viên.", "en": "Touch mode has no staff exit PIN."},
    "screen-required": {"vi": "Cần phần screen với mã màn hình.", "en": "Needs a screen section with the screen's id."},
    "bad-rotation": {"vi": "Góc xoay phải là 0, 90, 180 hoặc 270.", "en": "The rotation must be 0, 90, 180 or 270."},
    "no-languages": {"vi": "Cần ít nhất một ngôn ngữ.", "en": "Needs at least one language."},
    "bad-timezone": {"vi": "Không phải tên múi giờ (ví dụ Asia/Ho_Chi_Minh).",
                     "en": "Not a time zone name (e.g. Asia/Ho_Chi_Minh)."},
    "bad-power-rules": {"vi": "Giờ bật màn hình phải là danh sách quy tắc thời gian.",
                        "en": "Power times must be a list of time rules."},
    "not-word-list": {"vi": "Cần một danh sách từ (chữ).", "en": "Needs a list of words."},
    "power-command-missing": {"vi": "Cần cả lệnh bật và lệnh tắt.", "en": "Needs both the on and the off command."},
    "update-needs-sync": {"vi": "Phần cập nhật phần mềm cần có phần sync (bản phát hành đến cùng đường với nội dung).",
                          "en": "Updates need a sync section: releases come the same way as content."},
    "bad-url": {"vi": "Phải là địa chỉ http:// hoặc https://.", "en": "Must be an http:// or https:// address."},
    "bad-channel": {"vi": "Tên kênh chỉ dùng chữ thường không dấu, chữ số, '-' hoặc '_'.",
                    "en": "A channel name uses lower-case letters, digits, '-' or '_'."},
    "bad-key": {"vi": "Không phải khoá công khai Ed25519 (44 ký tự base64).",
                "en": "Not an Ed25519 public key (44 characters of base64)."},
    "file-missing": {"vi": "Không tìm thấy tệp.", "en": "The file does not exist."},
    "bad-fallback": {"vi": "Ngôn ngữ thay thế phải ghi theo cặp, ví dụ km: en.",
                     "en": "Fallbacks map a language to another, e.g. km: en."},
    "fallback-circle": {"vi": "Chuỗi ngôn ngữ thay thế quay vòng về chính nó.",
                        "en": "The fallback chain comes back to where it started."},
    "bad-fonts": {"vi": "Phông chữ phải ghi theo ngôn ngữ và đường dẫn tệp.",
                  "en": "Fonts map a language to a font file."},
    "bad-font": {"vi": "Phông chữ không hợp lệ.", "en": "Not a usable font."},
    "no-browse-menu": {"vi": "Chế độ cảm ứng đang bật nhưng chưa có thực đơn (browse.yaml).",
                       "en": "Touch mode is on but there is no browse menu (browse.yaml)."},
    # files
    "yaml-refused": {"vi": "Tệp dùng cú pháp YAML không được phép.", "en": "The file uses YAML that is not allowed."},
    "yaml-syntax": {"vi": "Tệp không đúng cú pháp YAML.", "en": "The file is not valid YAML."},
    "unreadable": {"vi": "Không đọc được tệp.", "en": "The file cannot be read."},
    "not-utf8": {"vi": "Tệp không phải văn bản UTF-8.", "en": "The file is not UTF-8 text."},
    "media-folder-mismatch": {"vi": "Thư mục ảnh được kiểm tra khác với thư mục được phát hành.",
                              "en": "The media were checked in another folder than the one published."},
    "other": {"vi": "Có lỗi ở đây.", "en": "Something is wrong here."},
}


class _Blank(dict[str, str]):
    def __missing__(self, name: str) -> str:
        return "…"


def problem_text(problem: Problem, language: str) -> str:
    """The problem in `language` ("vi" or "en"), for the field its key names; the message when its code is unknown."""
    texts = TEXTS.get(problem.code)
    if texts is None:
        return problem.message
    return texts.get(language, texts["en"]).format_map(_Blank(problem.values))
