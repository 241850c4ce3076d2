"""Content-addressed blobs (an OCI image layout's ``blobs/sha256``), atomic writes and file locks.

A blob becomes visible only after its bytes were hashed and matched the expected digest: it is
written to a private temporary file beside its final place, fsynced and renamed.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator

from composer.errors import ImageError, LayerError

CHUNK = 1 << 20
ALGORITHM = "sha256"


def digest_of(data: bytes) -> str:
    """``sha256:<hex>`` of ``data``."""
    return f"{ALGORITHM}:{hashlib.sha256(data).hexdigest()}"


def check_digest(digest: str) -> str:
    """The hex part of a ``sha256:<64 hex>`` digest; ImageError when malformed (never a path)."""
    algorithm, _, hexpart = digest.partition(":")
    if algorithm != ALGORITHM or len(hexpart) != 64 or not all(c in "0123456789abcdef" for c in hexpart):
        raise ImageError(f"invalid digest {digest!r}", hint="expected sha256:<64 lowercase hex digits>")
    return hexpart


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so readers see the old or the new content, never a mix."""
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        _unlink_quietly(Path(tmp))
        raise


def atomic_write_json(path: Path, value: object) -> None:
    """``atomic_write`` of ``value`` as compact JSON."""
    atomic_write(path, json.dumps(value, separators=(",", ":")).encode())


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``path`` (created if missing) for the duration of the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _unlink_quietly(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


class BlobWriter:
    """A blob being written: hash as bytes arrive, ``commit`` verifies and publishes it."""

    def __init__(self, store: "BlobStore") -> None:
        import tempfile

        self._store = store
        self._hash = hashlib.sha256()
        fd, name = tempfile.mkstemp(dir=store.tmp_dir, prefix="blob-")
        self.path = Path(name)
        self._file = os.fdopen(fd, "wb")
        self.size = 0

    def write(self, data: bytes) -> None:
        self._hash.update(data)
        self._file.write(data)
        self.size += len(data)

    @property
    def digest(self) -> str:
        return f"{ALGORITHM}:{self._hash.hexdigest()}"

    def reset(self) -> None:
        """Start again from zero bytes (a retry that cannot resume)."""
        self._file.seek(0)
        self._file.truncate()
        self._hash = hashlib.sha256()
        self.size = 0

    def commit(self, expected: str | None = None) -> str:
        """Verify against ``expected`` (if given), publish, return the digest.

        Not fsynced: readers never see a partial blob (rename), and syncing every layer would
        flush all the pull's unpacked files too; the small index files are synced instead.
        """
        self._file.close()
        digest = self.digest
        if expected is not None and digest != expected:
            self.abort()
            raise LayerError(f"digest mismatch: expected {expected}, got {digest}",
                             hint="the registry or archive served corrupt data; nothing was stored")
        final = self._store.path(digest)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.path, final)
        return digest

    def abort(self) -> None:
        """Drop the partial blob."""
        if not self._file.closed:
            self._file.close()
        _unlink_quietly(self.path)

    def __enter__(self) -> "BlobWriter":
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is not None:
            self.abort()


class BlobStore:
    """The ``blobs/sha256`` directory of a store root, plus its temporary area."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp_dir = root / "tmp"

    def path(self, digest: str) -> Path:
        return self.root / "blobs" / ALGORITHM / check_digest(digest)

    def exists(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def size(self, digest: str) -> int:
        return self.path(digest).stat().st_size

    def read(self, digest: str) -> bytes:
        try:
            return self.path(digest).read_bytes()
        except FileNotFoundError:
            raise ImageError(f"blob {digest} is missing from the store",
                             hint="pull or load the image again") from None

    def open(self, digest: str) -> BinaryIO:
        return open(self.path(digest), "rb")

    def writer(self) -> BlobWriter:
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        return BlobWriter(self)

    def put(self, data: bytes, expected: str | None = None) -> str:
        """Store ``data`` (verified against ``expected``) and return its digest."""
        digest = digest_of(data)
        if expected is not None and digest != expected:
            raise LayerError(f"digest mismatch: expected {expected}, got {digest}")
        if not self.exists(digest):
            self.tmp_dir.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path(digest), data)
        return digest

    def ingest(self, stream: BinaryIO, expected: str | None = None) -> str:
        """Copy ``stream`` into the store (verified against ``expected``); return the digest."""
        with self.writer() as writer:
            while chunk := stream.read(CHUNK):
                writer.write(chunk)
            return writer.commit(expected)

    def lock(self, name: str):
        """A file lock named ``name`` (a digest or a word) under ``locks/``."""
        return file_lock(self.root / "locks" / name.replace(":", "-"))

    def blob_lock(self, digest: str):
        """The file lock held while the blob ``digest`` is being fetched."""
        return self.lock("blob-" + check_digest(digest))

    def remove(self, digest: str) -> None:
        _unlink_quietly(self.path(digest))
