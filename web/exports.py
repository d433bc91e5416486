"""The exports' folder on the server's disk: each export gets a fresh folder, exports expire, and all of them
together stay within a disk budget."""

from __future__ import annotations

import shutil
import time
import uuid
from pathlib import Path

# An export lives this long, and all of them together take at most this much disk.
TTL_SECONDS = 600
MAX_BYTES = 200_000_000
FULL = "The server's space for exports is full right now. Try again in a minute."


class ExportsFull(Exception):
    """The disk budget is spent by exports younger than a minute."""


def export_folder(root: Path, *, ttl: float = TTL_SECONDS, max_bytes: int = MAX_BYTES) -> Path:
    """A fresh folder under ``root`` for one export. Exports older than ``ttl`` seconds are removed first,
    and while all of them together take more than ``max_bytes`` the oldest go; if the budget is still spent
    by exports younger than a minute, raise ExportsFull."""
    root.mkdir(parents=True, exist_ok=True)
    now = time.time()
    folders = []
    for folder in root.iterdir():
        try:
            age = now - folder.stat().st_mtime
            size = sum(f.stat().st_size for f in folder.iterdir())
        except OSError:
            continue  # another request removed it first
        if age > ttl:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            folders.append((age, size, folder))
    total = sum(size for _, size, _ in folders)
    for age, size, folder in sorted(folders, reverse=True):  # oldest first
        if total <= max_bytes:
            break
        if age < 60:
            raise ExportsFull(FULL)
        shutil.rmtree(folder, ignore_errors=True)
        total -= size
    fresh = root / uuid.uuid4().hex
    fresh.mkdir()
    return fresh
