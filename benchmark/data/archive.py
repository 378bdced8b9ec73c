"""Fetch, verify and safely extract the UCSD archive (or any archive holding one top folder).

``fetch_archive`` takes an http(s) URL or a local path, checks the SHA-256, and extracts the
archive into a temporary folder beside the destination. Only a complete, validated extraction is
moved into place, together with a marker file that records the archive's digest, so a later call
with the same digest does nothing and a corrupt archive leaves nothing half-written.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import posixpath
import shutil
import stat
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from tqdm import tqdm

from benchmark.data._fs import replace_dir, sha256_file, staging_dir
from benchmark.data.errors import DataError

MARKER_NAME = ".archive.sha256"
"""File written inside the extracted top folder; holds the archive's SHA-256."""

_CHUNK = 1 << 20
_TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")


def fetch_archive(
    source: str,
    sha256: str | None,
    dest_dir: Path,
    *,
    expected_top: str = "UCSD_Anomaly_Dataset.v1p2",
    timeout_s: float = 60.0,
) -> Path:
    """Download (or open), verify and extract an archive; return ``dest_dir / expected_top``.

    Args:
        source: an ``http://`` or ``https://`` URL, or a local path (relative paths resolve
            against the current directory). ``.tar``, ``.tar.gz``/``.tgz`` and ``.zip`` are read.
        sha256: the archive's expected hex SHA-256, or ``None`` to skip the check.
        dest_dir: folder that receives ``expected_top`` (created when missing).
        expected_top: the single top-level folder the archive must contain.
        timeout_s: socket timeout of a download.

    Returns:
        The extracted ``dest_dir / expected_top``.

    Raises:
        DataError: missing file, failed download, wrong checksum, corrupt or truncated archive,
            an unsafe member (absolute path, ``..``, link leaving the archive, device file), or
            an archive without ``expected_top``. Nothing is left half-written at the destination.
    """
    dest_dir = Path(dest_dir)
    if sha256 is not None:
        sha256 = sha256.strip().lower()
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise DataError(f"sha256 {sha256!r} is not a 64-digit hex SHA-256; fix data.ucsd.sha256.")
    top = dest_dir / expected_top
    if sha256 is not None and _marker_digest(top) == sha256:
        return top
    dest_dir.mkdir(parents=True, exist_ok=True)
    if _is_url(source):
        with _downloaded(source, dest_dir, timeout_s) as (path, digest):
            return _verify_and_extract(path, source, digest, sha256, dest_dir, expected_top)
    path = Path(source).expanduser()
    if not path.is_file():
        raise DataError(
            f"{path.resolve()}: archive not found (data.ucsd.archive = {source!r}). "
            "Put the archive there or point data.ucsd.archive at it (a path or an http(s) URL)."
        )
    return _verify_and_extract(path, str(path), sha256_file(path), sha256, dest_dir, expected_top)


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def _marker_digest(top: Path) -> str | None:
    marker = top / MARKER_NAME
    if not (top.is_dir() and marker.is_file()):
        return None
    return marker.read_text().strip().lower() or None


def _verify_and_extract(
    path: Path, label: str, actual: str, expected: str | None, dest_dir: Path, expected_top: str
) -> Path:
    if expected is not None and actual != expected:
        raise DataError(
            f"{label}: SHA-256 mismatch: expected {expected}, got {actual}. The file is corrupt, "
            "truncated or a different archive: fetch it again, or, if you trust this file, set "
            "data.ucsd.sha256 to its digest."
        )
    top = dest_dir / expected_top
    if _marker_digest(top) == actual:
        return top
    with staging_dir(dest_dir / f"{expected_top}.extract") as tmp:
        _extract(path, label, tmp)
        extracted = tmp / expected_top
        if not extracted.is_dir():
            found = sorted(p.name for p in tmp.iterdir())
            raise DataError(
                f"{label}: the archive has no top folder '{expected_top}' (top-level entries: "
                f"{found[:10]}). Use the official UCSD_Anomaly_Dataset archive or repack it "
                f"with '{expected_top}/' at its root."
            )
        (extracted / MARKER_NAME).write_text(actual + "\n")
        replace_dir(extracted, top)
    return top


# ----------------------------------------------------------------------------------- download


@contextlib.contextmanager
def _downloaded(url: str, dest_dir: Path, timeout_s: float) -> Iterator[tuple[Path, str]]:
    """Stream ``url`` to a temporary file in ``dest_dir``; yield its path and SHA-256; then delete it."""
    fd, tmp_name = tempfile.mkstemp(prefix=".download.", suffix=".part", dir=dest_dir)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        try:
            with urllib.request.urlopen(url, timeout=timeout_s) as response, os.fdopen(fd, "wb") as out:
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                received = 0
                with tqdm(
                    total=total, unit="B", unit_scale=True, desc="download", leave=False, disable=None
                ) as bar:
                    for chunk in iter(lambda: response.read(_CHUNK), b""):
                        out.write(chunk)
                        digest.update(chunk)
                        received += len(chunk)
                        bar.update(len(chunk))
        except (urllib.error.URLError, OSError) as exc:
            raise DataError(
                f"{url}: download failed ({exc}). Check the URL and the network, "
                "or download the archive by hand and set data.ucsd.archive to its path."
            ) from exc
        if total is not None and received != total:
            raise DataError(f"{url}: download truncated ({received} of {total} bytes). Run the stage again.")
        yield tmp, digest.hexdigest()
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


# ----------------------------------------------------------------------------------- extraction


def _extract(path: Path, label: str, dest: Path) -> None:
    name = path.name.lower()
    use_zip = name.endswith(".zip") or (not name.endswith(_TAR_SUFFIXES) and zipfile.is_zipfile(path))
    try:
        if use_zip:
            _extract_zip(path, label, dest)
        else:
            _extract_tar(path, label, dest)
    except DataError:
        raise
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error, OSError) as exc:
        raise DataError(
            f"{label}: corrupt or truncated archive ({type(exc).__name__}: {exc}). "
            "Fetch it again (compare its SHA-256 with the published one)."
        ) from exc


def _check_member_name(name: str, label: str) -> str:
    """Normalised relative POSIX path of a member, or an error for absolute / escaping names."""
    if not name or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise DataError(f"{label}: unsafe member {name!r} (absolute path); refusing to extract.")
    parts = name.replace("\\", "/").split("/")
    if ".." in parts:
        raise DataError(f"{label}: unsafe member {name!r} ('..' in the path); refusing to extract.")
    return posixpath.normpath("/".join(parts))


def _checked_tar_members(tar: tarfile.TarFile, label: str) -> Iterator[tarfile.TarInfo]:
    for member in tar:
        name = _check_member_name(member.name, label)
        if member.isdev() or not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
            raise DataError(
                f"{label}: member {member.name!r} is a device or special file; refusing to extract."
            )
        if member.issym() or member.islnk():
            target = member.linkname
            if member.issym():
                target = posixpath.join(posixpath.dirname(name), target)
            if target.startswith("/") or posixpath.normpath(target).split("/")[0] == "..":
                raise DataError(
                    f"{label}: link {member.name!r} -> {member.linkname!r} points outside the archive; "
                    "refusing to extract."
                )
        yield member


def _extract_tar(path: Path, label: str, dest: Path) -> None:
    with tarfile.open(path, "r:*") as tar:
        # One streaming pass: every member is checked as it is reached, then extracted with the
        # standard library's 'data' filter as a second line of defence.
        tar.extractall(dest, members=_checked_tar_members(tar, label), filter="data")


def _extract_zip(path: Path, label: str, dest: Path) -> None:
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        for info in infos:
            _check_member_name(info.filename, label)
            kind = stat.S_IFMT(info.external_attr >> 16)  # 0 when the archiver recorded no type
            if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
                raise DataError(
                    f"{label}: member {info.filename!r} is a link or special file; refusing to extract."
                )
        for info in infos:
            target = dest / _check_member_name(info.filename, label)
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out, _CHUNK)
