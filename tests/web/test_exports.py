"""web/exports.py: each export in a fresh folder, old exports expire, all of them within a disk budget."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from web.exports import TTL_SECONDS, ExportsFull, export_folder


def _old_folder(root: Path, name: str, age: float, size: int) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "attention-weights.csv").write_bytes(b"x" * size)
    stamp = time.time() - age
    os.utime(folder, (stamp, stamp))
    return folder


def test_export_folder_expires_old_exports(tmp_path):
    expired = _old_folder(tmp_path, "expired", TTL_SECONDS + 60, 10)
    recent = _old_folder(tmp_path, "recent", TTL_SECONDS - 60, 10)
    fresh = export_folder(tmp_path)
    assert not expired.exists() and recent.exists()
    assert fresh.is_dir() and fresh.parent == tmp_path and list(fresh.iterdir()) == []


def test_export_folder_keeps_within_its_disk_budget(tmp_path):
    oldest = _old_folder(tmp_path, "oldest", 300, 100)
    older = _old_folder(tmp_path, "older", 200, 100)
    newer = _old_folder(tmp_path, "newer", 100, 100)
    export_folder(tmp_path, max_bytes=250)
    assert not oldest.exists() and older.exists() and newer.exists()  # the oldest went first, until within budget
    _old_folder(tmp_path, "young", 5, 300)  # younger than a minute: not removed, so the next export is refused
    with pytest.raises(ExportsFull, match="space for exports is full"):
        export_folder(tmp_path, max_bytes=250)
