"""The server under attack: fuzzed from its own OpenAPI spec, and every refusal staff or an intruder could meet.

Each refusal must be a 4xx with a JSON {"error": ...} that says what is wrong, and
nothing outside the data folder is read or written, whatever the path says.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from sync.envelope import seal
from sync.server.settings import Limits
from tests.conftest import ENGINES, REPO, database_for
from tests.server_rig import Rig, start_rig

FUZZ = settings(max_examples=25, deadline=None, derandomize=True, database=None,  # derandomized: CI reproduces it
                suppress_health_check=list(HealthCheck))
BLOB = b"opening hours: 06:00-22:00\n"
SCREEN = "fuzz-screen"
SECRET = b"the office wifi password"


@pytest.fixture(scope="module", params=ENGINES)
def fuzzed(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Rig]:
    rig = start_rig(tmp_path_factory.mktemp("fuzz") / "data", database_for(request.param, request),
                    long_poll_max_seconds=1)
    assert rig.publish(1, {"media/hours.txt": BLOB}).status_code == 201
    yield rig
    rig.stop()


@pytest.fixture
def rig(tmp_path: Path, database: str | None) -> Iterator[Rig]:
    rig = start_rig(tmp_path / "data", database, limits=Limits(blob_mb=1, request_kb=4, manifest_kb=8, screenshot_kb=4))
    yield rig
    rig.stop()


# --- fuzzing -------------------------------------------------------------------------------------------------

@pytest.mark.slow  # hundreds of generated requests
@pytest.mark.parametrize("who", ["staff", "screen"])
def test_no_request_the_spec_allows_or_almost_allows_gets_a_server_error(fuzzed: Rig, who: str) -> None:
    screen_token = fuzzed.add_screen(SCREEN)  # issued again each run: the staff run may revoke it
    token = fuzzed.admin_token if who == "staff" else screen_token
    # Random names rarely hit what exists, so half the cases name the real channel, blob and screen.
    known = {"channel": "gate", "digest": hashlib.sha256(BLOB).hexdigest(), "screen_id": SCREEN}
    schema = schemathesis.openapi.from_url(f"{fuzzed.url}/openapi.json")
    failures, seen = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        fixed = {k: v for k, v in known.items() if k in {p.name for p in operation.path_parameters}}
        modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
        cases = [operation.as_strategy(mode) for mode in modes]
        cases += [operation.as_strategy(mode, path_parameters=fixed) for mode in modes if fixed]

        @given(case=st.one_of(cases))
        @FUZZ
        def call(case: Any) -> None:
            case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=[not_a_server_error],
                                   timeout=10)

        try:
            call()
        except Exception as exc:  # collected, so one run names every operation that fails
            failures.append(f"{operation.method.upper()} {operation.path}:\n{exc}")
        seen += 1
    assert seen >= 20, "the served spec lost operations"
    assert not failures, "\n\n".join(failures)


def manifest_fields() -> st.SearchStrategy[dict[str, Any]]:
    """A manifest's JSON with any field possibly replaced by something odd."""
    odd = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=80),
                    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=3))
    entry = st.fixed_dictionaries({"path": st.one_of(st.just("media/hours.txt"), st.text(max_size=40), odd),
                                   "sha256": st.one_of(st.just(hashlib.sha256(BLOB).hexdigest()), odd),
                                   "size": st.one_of(st.just(len(BLOB)), odd)})
    return st.fixed_dictionaries({
        "format": st.one_of(st.just(1), odd), "channel": st.one_of(st.just("gate"), odd),
        "generation": st.one_of(st.integers(min_value=-3, max_value=2**80), odd),
        "created": st.one_of(st.just("2026-11-27T09:30:00+07:00"), odd),
        "files": st.one_of(st.lists(st.one_of(entry, odd), max_size=4), odd)})


def notice_fields() -> st.SearchStrategy[dict[str, Any]]:
    odd = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=60), st.lists(st.text(max_size=8), max_size=3))
    when = st.datetimes(timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=7))]))
    return st.fixed_dictionaries({
        "format": st.one_of(st.just(1), odd), "id": st.one_of(st.from_regex(r"\A[a-z0-9]{8,12}\Z"), odd),
        "level": st.one_of(st.sampled_from(["urgent", "warning", "info"]), odd),
        "texts": st.one_of(st.dictionaries(st.sampled_from(["vi", "en", "km", "zh", "x y"]), st.text(max_size=30),
                                           max_size=3), odd),
        "channels": st.one_of(st.just(["gate"]), st.lists(st.text(max_size=10), max_size=2), odd),
        "screens": st.one_of(st.just([]), st.lists(st.text(max_size=10), max_size=2), odd),
        "created": st.one_of(when.map(datetime.isoformat), odd), "expires": st.one_of(when.map(datetime.isoformat), odd)})


@pytest.mark.slow
def test_signed_manifests_and_notices_with_odd_contents_are_refused_with_a_reason(fuzzed: Rig) -> None:
    """Past the signature check: what a publisher's buggy tool could sign must still get a 4xx, not a crash."""
    staff = fuzzed.staff()

    @given(manifest=manifest_fields(), notice=notice_fields())
    @settings(FUZZ, max_examples=150)
    def post(manifest: dict[str, Any], notice: dict[str, Any]) -> None:
        for path, kind, fields in (("/api/channels/gate/manifest", "manifest", manifest),
                                   ("/api/notices", "notice", notice)):
            envelope = seal(json.dumps(fields).encode(), kind, fuzzed.publisher)
            answer = staff.post(fuzzed.url + path, data=envelope, timeout=10)
            assert answer.status_code < 500, f"{kind} {fields!r}: {answer.status_code} {answer.text}"
            if answer.status_code >= 400:
                assert answer.json()["error"]

    post()


# --- refusals, one by one ------------------------------------------------------------------------------------

def refused(answer: requests.Response, status: int, *words: str) -> str:
    """The error message of a refusal with `status`, checked to mention each of `words`."""
    assert answer.status_code == status, f"{answer.status_code}: {answer.text}"
    assert answer.headers["content-type"].startswith("application/json")
    message: str = answer.json()["error"]
    for word in words:
        assert word.lower() in message.lower(), message
    return message


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


WRONG_STAFF = "staff.AAAAAAAAAAAA." + "x" * 43


@pytest.mark.parametrize("token, status, words", [
    (None, 401, ["staff token is required"]),
    ("not-a-token", 401, ["staff token is required"]),
    (WRONG_STAFF, 401, ["unknown or revoked"]),
    ("screen", 403, ["screen token", "needs a staff token"]),
    ("other", 403, ["may not act on channel 'gate'"]),
], ids=["missing", "garbled", "wrong", "screen-on-staff-route", "other-channel"])
def test_publishing_without_the_right_token_is_refused_and_says_why(rig: Rig, token: str | None, status: int,
                                                                    words: list[str]) -> None:
    if token == "screen":
        token = rig.add_screen("gate-01")
    elif token == "other":
        token = rig.add_staff("khmer-desk", ["other"])
    headers = bearer(token) if token else {}
    answer = requests.post(f"{rig.url}/api/channels/gate/manifest", data=rig.manifest(2, {}), headers=headers)
    refused(answer, status, *words)
    assert rig.running.server.config.app.state.channels.current("gate") is None, "nothing was published"


def test_a_staff_token_cannot_speak_for_a_screen_and_a_revoked_one_is_unknown(rig: Rig) -> None:
    beat = {"version": "1", "uptime": 1, "clock": "2026-11-27T09:30:00+07:00"}
    refused(requests.post(f"{rig.url}/api/heartbeat", json=beat, headers=bearer(rig.admin_token)), 403,
            "needs the screen's own token")
    refused(requests.post(f"{rig.url}/api/heartbeat", json=beat), 401, "screen token is required")
    token = rig.add_screen("gate-02")
    assert requests.post(f"{rig.url}/api/heartbeat", json=beat, headers=bearer(token)).status_code == 200
    assert rig.staff().delete(f"{rig.url}/api/screens/gate-02/token").status_code == 204
    refused(requests.post(f"{rig.url}/api/heartbeat", json=beat, headers=bearer(token)), 401, "unknown or revoked")


def chunks(data: bytes, size: int = 1024) -> Iterator[bytes]:
    """A body sent without Content-Length (chunked), so only counting can catch its size."""
    for start in range(0, len(data), size):
        yield data[start:start + size]


def blob_files(rig: Rig) -> list[str]:
    return sorted(p.name for p in (rig.data / "content" / "blobs").iterdir())


@pytest.mark.parametrize("sized", [True, False], ids=["content-length", "chunked"])
def test_oversized_bodies_are_refused_with_413_and_the_limit_named(rig: Rig, sized: bool) -> None:
    staff, url = rig.staff(), rig.url
    send = (lambda data: data) if sized else chunks
    many = json.dumps({"blobs": {f"{n:064x}": 1 for n in range(100)}}).encode()  # ~7 KB > request_kb 4
    refused(staff.post(f"{url}/api/blobs/missing", data=send(many), headers={"Content-Type": "application/json"}),
            413, "4096 bytes")
    big = os.urandom(2**20 + 1)  # blob_mb 1
    refused(staff.put(f"{url}/api/blobs/{hashlib.sha256(big).hexdigest()}", data=send(big)), 413, "limits.blob_mb")
    refused(staff.post(f"{url}/api/channels/gate/manifest", data=send(b"x" * 9000)), 413, "8192")
    screen = bearer(rig.add_screen("gate-03"))
    png = b"\x89PNG\r\n\x1a\n" + bytes(5000)
    refused(requests.put(f"{url}/api/screenshot", data=send(png), headers=screen), 413, "4096")
    assert blob_files(rig) == [], "nothing of the refused blob is kept"
    assert staff.get(f"{url}/api/channels").status_code == 200, "the server still answers"


@pytest.mark.parametrize("body", [b'{"blobs": {', b"blobs", b'{"blobs": []}', b"\xff\xfe"],
                         ids=["cut", "not-json", "wrong-shape", "not-utf8"])
def test_malformed_json_is_refused_with_422_naming_the_body(rig: Rig, body: bytes) -> None:
    answer = rig.staff().post(f"{rig.url}/api/blobs/missing", data=body, headers={"Content-Type": "application/json"})
    refused(answer, 422, "body")


TRAVERSALS = [
    ("GET", "/channels/%2e%2e/manifest"),
    ("GET", "/channels/..%2f..%2f..%2fsecret.txt/manifest"),
    ("GET", "/channels/gate/..%2f..%2f..%2f..%2fsecret.txt"),
    ("GET", "/channels/gate/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fsecret.txt"),
    ("GET", "/blobs/..%2f..%2f..%2fsecret.txt"),
    ("GET", "/blobs/%2e%2e%2f%2e%2e%2f%2e%2e%2fsecret.txt"),
    ("GET", "/blobs/..%5c..%5c..%5csecret.txt"),
    ("GET", "/blobs/../../../secret.txt"),
    ("GET", "/api/screens/..%2f..%2fsecret.txt/screenshot"),
    ("GET", "/api/screens/%2e%2e/screenshot"),
    ("PUT", "/api/blobs/..%2f..%2f..%2fevil"),
    ("PUT", "/api/blobs/%2e%2e%2f%2e%2e%2f%2e%2e%2fevil"),
    ("POST", "/api/channels/..%2f..%2f..%2fevil/manifest"),
    ("PUT", "/api/channels/%2e%2e%2f%2e%2e%2fevil/publishers"),
    ("PUT", "/api/channels/a%2fb"),
    ("POST", "/api/screens/..%2f..%2fevil/screenshot-request"),
    ("DELETE", "/api/screens/%2e%2e/token"),
    ("DELETE", "/api/notices/..%2f..%2fevil"),
]


def raw(url: str, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
    """A request with the path sent byte for byte (requests would tidy the dots away)."""
    where = urlsplit(url)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def files_outside(tmp_path: Path, data: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime for p in tmp_path.rglob("*") if data not in p.parents and p != data}


@pytest.mark.parametrize("method, path", TRAVERSALS, ids=[f"{m} {p}" for m, p in TRAVERSALS])
def test_dots_and_slashes_in_names_are_refused_and_nothing_outside_the_data_folder_is_touched(
        rig: Rig, tmp_path: Path, method: str, path: str) -> None:
    (tmp_path / "secret.txt").write_bytes(SECRET)
    screen_dir = rig.data / "screenshots"
    screen_dir.mkdir(exist_ok=True)
    before, blobs = files_outside(tmp_path, rig.data), blob_files(rig)
    body = json.dumps({"root_key": "x" * 44, "id": "x", "channel": "gate"}).encode() if method != "GET" else None
    status, answer = raw(rig.url, method, path, body, bearer(rig.admin_token) | {"Content-Type": "application/json"})
    assert 400 <= status < 500, f"{status}: {answer!r}"
    assert json.loads(answer)["error"]
    assert SECRET not in answer
    assert files_outside(tmp_path, rig.data) == before
    assert blob_files(rig) == blobs
    assert not list(rig.data.rglob("evil*")) and not list(tmp_path.rglob("evil*"))


def test_a_screen_id_with_slashes_is_refused_by_the_api_and_the_admin_command(rig: Rig, tmp_path: Path) -> None:
    answer = rig.staff().post(f"{rig.url}/api/screens", json={"id": "../../evil", "channel": "gate"})
    refused(answer, 422, "id")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    cli = subprocess.run([sys.executable, "-m", "sync", "server", "screen", "add", "../../../evil", "--channel", "gate",
                          "--data", str(tmp_path / "other-data")], env=env, capture_output=True, text=True, timeout=60)
    assert cli.returncode != 0 and "screen id" in cli.stderr, cli.stdout + cli.stderr
    assert "screen." not in cli.stdout, "no token was issued"


def test_a_blob_whose_bytes_do_not_match_its_name_is_refused_and_not_kept(rig: Rig) -> None:
    claimed = hashlib.sha256(b"the real poster").hexdigest()
    answer = rig.staff().put(f"{rig.url}/api/blobs/{claimed}", data=b"a forged poster")
    refused(answer, 422, "nothing was kept", claimed)
    assert blob_files(rig) == []
    assert rig.staff().post(f"{rig.url}/api/blobs/missing", json={"blobs": {claimed: 15}}).json() == {"missing": [claimed]}
    assert requests.get(f"{rig.url}/blobs/{claimed}").status_code == 404


def test_publishing_checks_the_signer_the_generation_and_the_blobs(rig: Rig) -> None:
    staff, url = rig.staff(), f"{rig.url}/api/channels/gate/manifest"
    files = {"media/hours.txt": BLOB}
    stranger = rig.manifest(2, files, key=Ed25519PrivateKey.generate())
    rig.upload(BLOB)
    refused(staff.post(url, data=stranger), 422, "does not trust", "office")

    lacking = {"media/hours.txt": BLOB, "media/map.png": b"a map nobody uploaded"}
    message = refused(staff.post(url, data=rig.manifest(2, lacking)), 409, "does not hold", "upload them first")
    assert staff.post(url, data=rig.manifest(2, lacking)).json()["missing"] == [
        hashlib.sha256(b"a map nobody uploaded").hexdigest()], message

    assert rig.publish(3, files).status_code == 201
    for stale in (3, 2):
        answer = staff.post(url, data=rig.manifest(stale, files))
        refused(answer, 409, f"generation {stale} is stale", "publish generation 4")
        assert answer.json()["current_generation"] == 3
    served = requests.get(f"{rig.url}/channels/gate/manifest")
    assert b'"generation":3' in served.content
