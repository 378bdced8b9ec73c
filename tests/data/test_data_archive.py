"""fetch_archive: local and HTTP sources, checksums, safe and atomic extraction, idempotence."""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmark.data import DataError, fetch_archive
from benchmark.data.archive import MARKER_NAME

TOP = "UCSD_Anomaly_Dataset.v1p2"


def _add(tar: tarfile.TarFile, name: str, data: bytes = b"x", **kw: object) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for k, v in kw.items():
        setattr(info, k, v)
    tar.addfile(info, io.BytesIO(data) if info.isfile() else None)


def _tar(path: Path, members: list[tuple[str, bytes]], extra: list[tarfile.TarInfo] = ()) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members:
            _add(tar, name, data)
        for info in extra:
            tar.addfile(info)
    return path


def _good(path: Path, payload: bytes = b"frame") -> Path:
    return _tar(path, [(f"{TOP}/README.txt", b"readme"), (f"{TOP}/UCSDped2/Test/Test001/001.tif", payload)])


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _leftovers(dest: Path) -> list[str]:
    return sorted(p.name for p in dest.iterdir()) if dest.exists() else []


def test_local_archive_is_verified_extracted_and_marked(tmp_path: Path) -> None:
    archive = _good(tmp_path / "a.tar.gz")
    top = fetch_archive(str(archive), _sha(archive), tmp_path / "dest")
    assert top == tmp_path / "dest" / TOP
    assert (top / "UCSDped2/Test/Test001/001.tif").read_bytes() == b"frame"
    assert (top / MARKER_NAME).read_text().strip() == _sha(archive)
    assert _leftovers(tmp_path / "dest") == [TOP]


def test_relative_path_resolves_against_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _good(tmp_path / "a.tgz")
    monkeypatch.chdir(tmp_path)
    assert (fetch_archive("a.tgz", None, Path("dest")) / "README.txt").is_file()


def test_second_call_with_same_digest_skips(tmp_path: Path) -> None:
    archive = _good(tmp_path / "a.tar.gz")
    sha = _sha(archive)
    top = fetch_archive(str(archive), sha, tmp_path / "dest")
    (top / "README.txt").write_text("touched")  # a re-extraction would restore it
    archive.unlink()  # and the archive is not even needed when the marker matches
    assert fetch_archive(str(archive), sha, tmp_path / "dest") == top
    assert (top / "README.txt").read_text() == "touched"


def test_other_archive_replaces_previous_extraction(tmp_path: Path) -> None:
    first = _good(tmp_path / "a.tar.gz", b"one")
    fetch_archive(str(first), None, tmp_path / "dest")
    second = _good(tmp_path / "b.tar.gz", b"two")
    top = fetch_archive(str(second), _sha(second), tmp_path / "dest")
    assert (top / "UCSDped2/Test/Test001/001.tif").read_bytes() == b"two"
    assert _leftovers(tmp_path / "dest") == [TOP]


def test_wrong_checksum_names_file_and_both_digests(tmp_path: Path) -> None:
    archive = _good(tmp_path / "a.tar.gz")
    with pytest.raises(DataError) as err:
        fetch_archive(str(archive), "0" * 64, tmp_path / "dest")
    msg = str(err.value)
    assert "a.tar.gz" in msg and "0" * 64 in msg and _sha(archive) in msg and "sha256" in msg
    assert _leftovers(tmp_path / "dest") == []


def test_malformed_checksum_argument(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="64-digit"):
        fetch_archive(str(_good(tmp_path / "a.tar.gz")), "abc", tmp_path / "dest")


def test_truncated_archive_leaves_nothing(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "a.tar.gz", [(f"{TOP}/big.bin", bytes(range(256)) * 4000)])
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(DataError, match="corrupt or truncated") as err:
        fetch_archive(str(cut), None, tmp_path / "dest")
    assert "cut.tar.gz" in str(err.value)
    assert _leftovers(tmp_path / "dest") == []


def test_garbage_file_is_corrupt(tmp_path: Path) -> None:
    bad = tmp_path / "a.tar.gz"
    bad.write_bytes(b"not an archive at all" * 10)
    with pytest.raises(DataError, match="corrupt or truncated"):
        fetch_archive(str(bad), None, tmp_path / "dest")


def test_missing_archive_names_path(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="nope.tar.gz: archive not found"):
        fetch_archive(str(tmp_path / "nope.tar.gz"), None, tmp_path / "dest")


def test_archive_without_expected_top(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "a.tar.gz", [("other/README.txt", b"r")])
    with pytest.raises(DataError, match=f"no top folder '{TOP}'.*other"):
        fetch_archive(str(archive), None, tmp_path / "dest")
    assert _leftovers(tmp_path / "dest") == []


def _link(name: str, target: str, kind: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


@pytest.mark.parametrize(
    "members, extra, match",
    [
        ([(f"{TOP}/../../evil.txt", b"x")], [], r"'\.\.' in the path"),
        ([("/tmp/evil_abs.txt", b"x")], [], "absolute path"),
        ([(f"{TOP}/a", b"x")], [_link(f"{TOP}/link", "../../../evil", tarfile.SYMTYPE)], "points outside"),
        ([(f"{TOP}/a", b"x")], [_link(f"{TOP}/abs", "/etc/passwd", tarfile.SYMTYPE)], "points outside"),
        ([(f"{TOP}/a", b"x")], [_link(f"{TOP}/hard", "../outside", tarfile.LNKTYPE)], "points outside"),
        ([(f"{TOP}/a", b"x")], [_link(f"{TOP}/dev", "", tarfile.CHRTYPE)], "device or special"),
    ],
)
def test_unsafe_members_are_rejected(tmp_path: Path, members: list, extra: list, match: str) -> None:
    archive = _tar(tmp_path / "a.tar.gz", members, extra)
    dest = tmp_path / "deep" / "dest"
    with pytest.raises(DataError, match=match):
        fetch_archive(str(archive), None, dest)
    assert _leftovers(dest) == []
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "deep" / "evil.txt").exists()


def test_internal_symlink_is_allowed(tmp_path: Path) -> None:
    archive = _tar(
        tmp_path / "a.tar.gz", [(f"{TOP}/a.txt", b"x")], [_link(f"{TOP}/b.txt", "a.txt", tarfile.SYMTYPE)]
    )
    top = fetch_archive(str(archive), None, tmp_path / "dest")
    assert (top / "b.txt").read_bytes() == b"x"


def test_zip_archive_and_zip_traversal(tmp_path: Path) -> None:
    good = tmp_path / "a.zip"
    with zipfile.ZipFile(good, "w") as zf:
        zf.writestr(f"{TOP}/UCSDped2/x.txt", "zip")
    assert (fetch_archive(str(good), _sha(good), tmp_path / "d1") / "UCSDped2/x.txt").read_text() == "zip"
    bad = tmp_path / "b.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("../evil.txt", "zip")
    with pytest.raises(DataError, match=r"'\.\.'"):
        fetch_archive(str(bad), None, tmp_path / "d2")
    assert not (tmp_path / "evil.txt").exists()


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder served over HTTP on 127.0.0.1 (an ephemeral port), for the duration of the test."""
    served = tmp_path / "www"
    served.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep pytest output clean
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(served))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_download_over_http(http_root: tuple[Path, str], tmp_path: Path) -> None:
    served, url = http_root
    archive = _good(served / "ucsd.tar.gz")
    dest, sha = tmp_path / "dest", _sha(archive)
    top = fetch_archive(f"{url}/ucsd.tar.gz", sha, dest)
    assert (top / "UCSDped2/Test/Test001/001.tif").read_bytes() == b"frame"
    assert _leftovers(dest) == [TOP]  # the temporary download is gone
    # A second call with the same digest does not download again.
    archive.unlink()
    assert fetch_archive(f"{url}/ucsd.tar.gz", sha, dest) == top


def test_download_bad_checksum_and_missing_url(http_root: tuple[Path, str], tmp_path: Path) -> None:
    served, url = http_root
    _good(served / "ucsd.tar.gz")
    with pytest.raises(DataError, match="SHA-256 mismatch"):
        fetch_archive(f"{url}/ucsd.tar.gz", "1" * 64, tmp_path / "dest")
    with pytest.raises(DataError, match="download failed"):
        fetch_archive(f"{url}/missing.tar.gz", None, tmp_path / "dest")
    assert _leftovers(tmp_path / "dest") == []


def test_zip_symlink_is_rejected(tmp_path: Path) -> None:
    bad = tmp_path / "c.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        info = zipfile.ZipInfo(f"{TOP}/link")
        info.external_attr = (0o120777) << 16  # a symlink
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(DataError, match="link or special"):
        fetch_archive(str(bad), None, tmp_path / "dest")
