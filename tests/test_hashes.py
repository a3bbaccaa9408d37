"""A file's sha256 is computed once per file, not once per site that imports it."""

from __future__ import annotations

import hashlib
import os

from sitewatch.imagery import hashes


def test_digest_cached_by_path_size_and_mtime(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    calls = []
    real = hashes._digest
    monkeypatch.setattr(hashes, "_digest", lambda p: calls.append(p) or real(p))
    f = tmp_path / "scene.tif"
    f.write_bytes(b"x" * 5000)
    want = hashlib.sha256(b"x" * 5000).hexdigest()
    assert hashes.sha256_file(f) == want and hashes.sha256_file(f) == want
    assert len(calls) == 1
    f.write_bytes(b"y" * 5000)  # same size, new content and mtime
    os.utime(f, ns=(1, 2_000_000_000))
    assert hashes.sha256_file(f) == hashlib.sha256(b"y" * 5000).hexdigest()
    assert len(calls) == 2


def test_unwritable_cache_falls_back_to_hashing(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    f = tmp_path / "a.bin"
    f.write_bytes(b"abc")
    assert hashes.sha256_file(f) == hashlib.sha256(b"abc").hexdigest()
