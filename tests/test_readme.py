"""The README's Python session, run as written on the real sample data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _session() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Python API"):]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found, "the README's Python API section has no python block"
    return found.group(1)


def test_readme_python_session_runs(samples: Path, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SITEWATCH_SAMPLES", str(samples))
    monkeypatch.chdir(tmp_path)
    exec(compile(_session(), str(README), "exec"), {"__name__": "readme"})
    printed = capsys.readouterr().out
    assert re.search(r"^R\d+ cva \d+ detections$", printed, re.M), printed
    assert re.search(r"^D\d+ C\d+ ", printed, re.M), printed
    assert "('analyst', 'unreviewed', 'confirmed')" in printed
    report = (tmp_path / "austin.html").read_text(encoding="utf-8")
    assert "confirmed" in report and re.search(r">D\d+<", report)
    assert (tmp_path / "austin.geojson").is_file() and (tmp_path / "mask.tif").is_file()
    labels = sorted((tmp_path / "training" / "label").glob("*.png"))
    assert labels and (tmp_path / "training" / "manifest.json").is_file()
