"""JSON from outside: every way json.loads can blow up comes back as one ValueError with a message."""

from __future__ import annotations

import pytest

from sync.errors import ManifestError
from sync.jsondoc import MAX_DEPTH, load_json
from sync.keys import open_publishers
from sync.manifest import parse_manifest
from sync.notice import parse_notice, read_notices_document


@pytest.mark.parametrize("data, message", [
    (b"[" * 100_000 + b"]" * 100_000, "nested deeper"),       # RecursionError inside json
    (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), "nested deeper"),
    (b'{"generation": ' + b"9" * 5000 + b"}", "digits"),      # Python's int digit limit
    (b'{"generation": -' + b"9" * 40 + b"}", "digits"),
    (b'{"x": 1e999}', "too large"),                           # infinity
    (b'{"x": NaN}', "not a JSON number"),
    (b'{"x": -Infinity}', "not a JSON number"),
    (b'{"a": 1, "a": 2}', "appears twice"),                   # two readers could disagree
    (b"\xff\xfe{}", "not UTF-8"),
    (b"{", "not JSON"),
    (b"", "not JSON"),
])
def test_hostile_json_is_refused_with_a_message(data, message):
    with pytest.raises(ValueError, match=message):
        load_json(data)


def test_ordinary_documents_parse_as_before():
    assert load_json(b'{"a": [1, -2, 2.5, "\\u1780", true, null], "b": {"c": {}}}') == {
        "a": [1, -2, 2.5, "ក", True, None], "b": {"c": {}}}
    assert load_json(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) is not None


DEEP = b"[" * 100_000 + b"]" * 100_000
HUGE = b'{"format": 1, "generation": ' + b"1" * 5000 + b"}"


@pytest.mark.parametrize("parse", [parse_manifest, parse_notice, read_notices_document])
@pytest.mark.parametrize("payload", [DEEP, HUGE], ids=["deep", "huge-int"])
def test_each_signed_document_parser_refuses_rather_than_crashes(parse, payload):
    with pytest.raises(ManifestError):
        parse(payload)
