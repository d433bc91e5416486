"""The exports' folder on the server's disk, shared fairly: each export gets a fresh folder, exports expire, each
client has a share of the disk budget, and the budget is never exceeded (the new export's own size included).

Layout: ``root/<client>/<export>/<files>``, where ``<client>`` is a hash of the client's address (no address on
disk). A client over its share loses its own oldest exports first; a full budget takes other clients' exports
only once they are a minute old (time to download them), and otherwise refuses the new one.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TTL_SECONDS = 600  # an export lives this long
MAX_BYTES = 200_000_000  # all exports together
CLIENT_SHARE_BYTES = 25_000_000  # one client's exports together: four 256 x 768 exports (5.7 MB each)
KEEP_SECONDS = 60  # another client's export is never removed before this age
FULL = "The server's space for exports is full right now. Try again in a minute."

_lock = threading.Lock()  # exports are written from Gradio's worker threads


class ExportsFull(Exception):
    """The export does not fit: in the budget, or in one client's share."""


@dataclass(frozen=True)
class _Stored:
    folder: Path
    owner: str
    age: float
    size: int


def client_folder_name(client: str) -> str:
    """The folder of one client's exports: a hash of its address.

    >>> client_folder_name("127.0.0.1") == client_folder_name("127.0.0.1") != client_folder_name("127.0.0.2")
    True
    """
    return hashlib.sha256(client.encode()).hexdigest()[:16]


def client_of(request: Any) -> str:
    """The client a handler's ``gr.Request`` counts against, by the guard's rule (peer, or trusted proxies)."""
    from web.guard.identity import proxy_hops_from_env, request_client

    peer = getattr(getattr(request, "client", None), "host", None)
    headers = getattr(request, "headers", None) or {}
    return request_client(peer, {"x-forwarded-for": headers.get("x-forwarded-for", "")}, proxy_hops_from_env())


def save_export(
    root: Path,
    client: str,
    files: Mapping[str, bytes],
    *,
    ttl: float = TTL_SECONDS,
    max_bytes: int = MAX_BYTES,
    share: int = CLIENT_SHARE_BYTES,
) -> list[Path]:
    """Write ``files`` (name -> bytes) into a fresh folder of ``client`` under ``root``; return their paths.

    Raises ExportsFull when the export is larger than a share, or when the budget stays spent by other
    clients' exports younger than ``KEEP_SECONDS``.
    """
    size = sum(len(data) for data in files.values())
    if size > share:
        raise ExportsFull(f"This export is {size / 1e6:.1f} MB, over one visitor's share of {share / 1e6:g} MB.")
    owner = client_folder_name(client)
    with _lock:
        stored = _scan(root, ttl)
        mine = sorted((item for item in stored if item.owner == owner), key=lambda item: -item.age)
        own_total = sum(item.size for item in mine)
        for item in mine:  # the client's own oldest exports make room in its share
            if own_total + size <= share:
                break
            shutil.rmtree(item.folder, ignore_errors=True)
            own_total -= item.size
            stored.remove(item)
        total = sum(item.size for item in stored)
        for item in sorted(stored, key=lambda item: -item.age):  # then the oldest of all, once downloadable
            if total + size <= max_bytes:
                break
            if item.age < KEEP_SECONDS:
                break
            shutil.rmtree(item.folder, ignore_errors=True)
            total -= item.size
        if total + size > max_bytes:
            raise ExportsFull(FULL)
        folder = root / owner / uuid.uuid4().hex
        folder.mkdir(parents=True)
        paths = []
        for name, data in files.items():
            path = folder / Path(name).name
            path.write_bytes(data)
            paths.append(path)
        return paths


def used_bytes(root: Path) -> int:
    """All exports' bytes on disk now."""
    return sum(path.stat().st_size for path in root.rglob("*") if path.is_file()) if root.exists() else 0


def _scan(root: Path, ttl: float) -> list[_Stored]:
    """The live exports under ``root``, removing expired ones (and empty client folders)."""
    now = time.time()
    stored: list[_Stored] = []
    if not root.exists():
        return stored
    for owner_folder in root.iterdir():
        if not owner_folder.is_dir():
            continue
        for folder in owner_folder.iterdir():
            try:
                age = now - folder.stat().st_mtime
                size = sum(path.stat().st_size for path in folder.iterdir())
            except OSError:
                continue  # removed meanwhile
            if age > ttl:
                shutil.rmtree(folder, ignore_errors=True)
            else:
                stored.append(_Stored(folder, owner_folder.name, age, size))
        try:
            owner_folder.rmdir()  # only when empty
        except OSError:
            pass
    return stored
