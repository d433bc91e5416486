"""web/exports.py: each export in a fresh folder, old exports expire, each client within its share, all of them
within the disk budget, the new export's own size counted before it is written."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from web.exports import TTL_SECONDS, ExportsFull, client_folder_name, save_export, used_bytes


def _old_export(root: Path, client: str, age: float, size: int) -> Path:
    (path,) = save_export(root, client, {"attention-weights.csv": b"x" * size}, max_bytes=10**9, share=10**9)
    stamp = time.time() - age
    os.utime(path.parent, (stamp, stamp))
    return path.parent


def test_an_export_is_written_in_a_fresh_folder_of_its_client(tmp_path):
    paths = save_export(tmp_path, "1.2.3.4", {"a.json": b"{}", "b.csv": b"1"})
    assert [path.read_bytes() for path in paths] == [b"{}", b"1"]
    assert paths[0].parent.parent == tmp_path / client_folder_name("1.2.3.4")
    assert "1.2.3.4" not in str(paths[0]), "no address on disk"


def test_expired_exports_are_removed(tmp_path):
    expired = _old_export(tmp_path, "a", TTL_SECONDS + 60, 10)
    recent = _old_export(tmp_path, "a", TTL_SECONDS - 60, 10)
    save_export(tmp_path, "b", {"x.csv": b"1"})
    assert not expired.exists() and recent.exists()


def test_a_client_over_its_share_loses_its_own_oldest_export_first(tmp_path):
    victim = _old_export(tmp_path, "victim", 5, 100)
    oldest = _old_export(tmp_path, "greedy", 30, 100)
    newer = _old_export(tmp_path, "greedy", 10, 100)
    save_export(tmp_path, "greedy", {"x.csv": b"y" * 100}, share=250, max_bytes=1000)
    assert not oldest.exists() and newer.exists() and victim.exists()


def test_the_new_exports_size_counts_and_the_budget_is_never_exceeded(tmp_path):
    """On main, 209.8 MB sat on disk against a 200 MB budget: the new export's size was not counted."""
    for client in ("a", "b"):
        _old_export(tmp_path, client, 5, 400)
    with pytest.raises(ExportsFull, match="space for exports is full"):
        save_export(tmp_path, "c", {"x.csv": b"y" * 300}, share=500, max_bytes=1000)
    assert used_bytes(tmp_path) == 800
    save_export(tmp_path, "c", {"x.csv": b"y" * 200}, share=500, max_bytes=1000)
    assert used_bytes(tmp_path) == 1000


def test_a_full_budget_takes_other_clients_exports_once_downloadable(tmp_path):
    old = _old_export(tmp_path, "a", 120, 600)
    young = _old_export(tmp_path, "b", 5, 300)
    save_export(tmp_path, "c", {"x.csv": b"y" * 300}, share=500, max_bytes=1000)
    assert not old.exists() and young.exists() and used_bytes(tmp_path) == 600


def test_one_client_exporting_in_a_loop_never_fills_the_budget_for_others(tmp_path):
    for _ in range(30):
        save_export(tmp_path, "greedy", {"x.json": b"y" * 66}, share=250, max_bytes=1000)
        assert used_bytes(tmp_path) <= 250
    save_export(tmp_path, "victim", {"x.json": b"y" * 66}, share=250, max_bytes=1000)


def test_an_export_larger_than_a_share_is_refused(tmp_path):
    with pytest.raises(ExportsFull, match="over one visitor's share"):
        save_export(tmp_path, "a", {"x.csv": b"y" * 300}, share=250)
    assert used_bytes(tmp_path) == 0
