"""Model tarballs as the model server publishes them: where, and their ETag (sha256)."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import BinaryIO, Dict, Tuple

CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    """The ETag of a model file: the sha256 of its bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def replace_atomically(source: Path, target: Path) -> None:
    """Copy `source` over `target` so a reader sees the old file or the new one, whole."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".publishing-", dir=target.parent)
    os.close(handle)
    try:
        shutil.copyfile(source, temporary)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class EtagCache:
    """sha256 of a file, recomputed only when its inode, size or mtime change."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: Dict[Tuple[int, int, int, int], str] = {}

    def etag(self, path: Path) -> str:
        """The ETag of the file now at `path` (FileNotFoundError if none)."""
        with open(path, "rb") as file:
            return self.etag_of(file)

    def etag_of(self, file: BinaryIO) -> str:
        """The ETag of an open file (leaves it at its start)."""
        stat = os.fstat(file.fileno())
        key = (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)
        with self._lock:
            known = self._known.get(key)
        if known is None:
            digest = hashlib.sha256()
            file.seek(0)
            for chunk in iter(lambda: file.read(CHUNK), b""):
                digest.update(chunk)
            known = digest.hexdigest()
            with self._lock:
                self._known[key] = known
        file.seek(0)
        return known
