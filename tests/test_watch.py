"""The watch loop against real components on 127.0.0.1: ``rustac serve`` over COGs made from
the real Sentinel-2 chips, a real webhook receiver (http.server) and a real SMTP server
(aiosmtpd).

The imagery: the real 'adwp' chip (2020-04-29), the same chip re-encoded as a processing
baseline 04.00 product dated 2021-04-20 (no change), and a new scene dated 2021-06-08: the
chip again with a 240 m square of the real 'aeey' chip pasted into the site (a real change
from another real chip). The first STAC API serves the first two, the second all three.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import rasterio
from conftest import Result, one_error_line
from pyproj import Transformer
from support.localstac import (
    AssetServer,
    RustacServer,
    free_port,
    read_chips,
    write_collection,
    write_item,
)
from support.receivers import SmtpReceiver, WebhookReceiver

EXE = Path(sys.executable).parent / "sitewatch"
SECRET = "s3cret-for-tests"
SITE = ("-2.536886", "32.844513")  # 800 m AOI on 'adwp', under no cloud (real mask)
PATCH_PX = 24


@dataclass
class Stac:
    before: str  #: API serving the first two dates
    after: str  #: API serving all three (the new scene too)
    assets: AssetServer
    root: Path


def _paste_change(samples: Path) -> tuple[object, object]:
    """(adwp chip, adwp chip with a clear 24 x 24 px block of 'aeey' pasted at the site)."""
    chips = {c.chip: c for c in read_chips(samples)}
    base, other = chips["adwp"], chips["aeey"]
    x, y = Transformer.from_crs("EPSG:4326", base.crs, always_xy=True).transform(
        float(SITE[1]), float(SITE[0]))
    col, row = (int(v) for v in ~base.transform @ (x, y))
    r0, c0 = row - PATCH_PX // 2, col - PATCH_PX // 2
    clear = (other.label == 0) & other.valid
    h, w = clear.shape
    src = next((r, c) for r in range(0, h - PATCH_PX, 8) for c in range(0, w - PATCH_PX, 8)
               if clear[r:r + PATCH_PX, c:c + PATCH_PX].all())
    dn = {}
    for band, arr in base.dn.items():
        arr = arr.copy()
        arr[r0:r0 + PATCH_PX, c0:c0 + PATCH_PX] = other.dn[band][
            src[0]:src[0] + PATCH_PX, src[1]:src[1] + PATCH_PX]
        dn[band] = arr
    return base, dataclasses.replace(base, dn=dn)


@pytest.fixture(scope="module")
def stac(samples: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stac]:
    root = tmp_path_factory.mktemp("watchstac")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    chip, changed = _paste_change(samples)
    t0 = chip.acquired  # type: ignore[attr-defined]
    first = write_item(chip, root, base_url, t0, "02.14", True)  # type: ignore[arg-type]
    again = write_item(chip, root, base_url, datetime(2021, 4, 20, 8, 20, 47, tzinfo=t0.tzinfo),
                       "04.00", True, item_id="S2_Chifunfu_adwp_20210420_L2A")  # type: ignore[arg-type]
    new = write_item(changed, root, base_url, datetime(2021, 6, 8, 8, 20, 47, tzinfo=t0.tzinfo),
                     "04.00", True, item_id="S2_Chifunfu_adwp_20210608_L2A")  # type: ignore[arg-type]
    before = write_collection(root / "before", [first, again], "two dates")
    after = write_collection(root / "after", [first, again, new], "three dates")
    with AssetServer(root / "assets", port) as assets, \
            RustacServer(list(before)) as api1, RustacServer(list(after)) as api2:
        yield Stac(api1.url, api2.url, assets, root)


@pytest.fixture(scope="module")
def hook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(SECRET) as r:
        yield r


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpReceiver]:
    with SmtpReceiver() as r:
        yield r


@pytest.fixture
def receivers(hook: WebhookReceiver, smtp: SmtpReceiver) -> tuple[WebhookReceiver,
                                                                   SmtpReceiver]:
    hook.reset()
    smtp.reset()
    return hook, smtp


def _setup(cli: Callable[..., Result], url: str, hook: WebhookReceiver, smtp: SmtpReceiver,
           feeds: Path, *extra: str) -> None:
    assert cli("sites", "add", "plant", "--lat", SITE[0], "--lon", SITE[1],
               "--radius-m", "400").code == 0
    assert cli("watch", "source", "--url", url).code == 0
    for args in (("hook", "--webhook", hook.url, "--secret", SECRET, "--retries", "2",
                  "--backoff", "0.05", "--timeout", "1"),
                 ("mail", "--email", "analysts@example.org", "--smtp-host", "127.0.0.1",
                  "--smtp-port", str(smtp.port), "--retries", "1"),
                 ("atom", "--atom", str(feeds / "alerts.atom")),
                 ("geo", "--geojson", str(feeds / "alerts.geojson"))):
        res = cli("watch", "sink", "add", *args, *extra)
        assert res.code == 0, res.err


def _run(cli: Callable[..., Result], *args: str) -> dict:
    res = cli("watch", "run", "--json", *args)
    assert res.code == 0, res.err
    doc: dict = json.loads(res.out)
    doc["stderr"] = res.err
    return doc


def test_new_scene_alerts_once_on_each_sink(cli: Callable[..., Result], stac: Stac,
                                            receivers: tuple[WebhookReceiver, SmtpReceiver],
                                            tmp_path: Path) -> None:
    hook, smtp = receivers
    _setup(cli, stac.before, hook, smtp, tmp_path)
    first = _run(cli)
    assert (first["new_scenes"], first["runs"], first["alerts"]) == (2, 1, 0)
    assert "last clear scene" in first["baseline_rule"]
    assert hook.attempts == [] and smtp.messages == []

    # a new scene appears: one alert on each sink
    assert cli("watch", "source", "--url", stac.after).code == 0
    res = _run(cli)
    assert res["new_scenes"] == 1 and res["runs"] == 2  # last clear + a year earlier
    assert res["alerts"] == 4 and res["delivered"] == 4 and res["failures"] == []
    assert len(hook.unique) == 1 and len(hook.attempts) == 1
    hit = next(iter(hook.unique.values()))
    assert hook.signed(hit)
    doc = hit.doc
    alert = doc["alert"]
    assert doc["type"] == "sitewatch.alert" and doc["key"] == hit.headers["Idempotency-Key"]
    assert alert["change"] == "C1" and alert["site"]["name"] == "plant"
    assert alert["after"]["stac_item"] == "S2_Chifunfu_adwp_20210608_L2A"
    assert alert["before"]["date"] == "2021-04-20"
    assert alert["season_baseline"]["date"] == "2020-04-29" and alert["flags"] == []
    # the pasted square is 240 x 240 m = 57,600 m2; auto runs s2model on these 10 m chips
    # (trained on urban change, it flags about a sixth of this land-cover patch; cva most)
    assert 5_000 < alert["area_m2"] < 90_000
    assert doc["figure"]["png_base64"].startswith("iVBORw0KGgo")  # a PNG
    assert len(smtp.unique) == 1
    msg = next(iter(smtp.unique.values()))
    assert "C1" in msg["Subject"] and msg["To"] == "analysts@example.org"
    assert [p.get_content_type() for p in msg.walk()].count("image/png") == 1
    atom = (tmp_path / "alerts.atom").read_text()
    assert atom.count("<entry>") == 1 and "urn:sitewatch:alert:" in atom
    geo = json.loads((tmp_path / "alerts.geojson").read_text())
    assert len(geo["features"]) == 1 and geo["features"][0]["geometry"]["type"] == "Polygon"

    # the same pass again: nothing new anywhere
    again = _run(cli)
    assert (again["new_scenes"], again["runs"], again["alerts"], again["delivered"]) == (
        0, 0, 0, 0)
    assert len(hook.attempts) == 1 and len(smtp.messages) == 1
    assert json.loads((tmp_path / "alerts.geojson").read_text()) == geo

    status = cli("watch", "status", "--json")
    st = json.loads(status.out)
    site = st["sites"][0]
    assert site["last_seen"].startswith("2021-06-08T08:20:47") and site["last_error"] is None
    assert st["outbox"]["hook"] == {"pending": 0, "delivered": 1, "failing": []}
    assert st["sinks"][0]["options"]["secret"] == "***"
    assert [p["status"] for p in st["passes"]] == ["finished"] * 3
    text = cli("watch", "status").out
    assert "plant: last seen 2021-06-08" in text and "sink hook (webhook)" in text


def test_failing_sinks_and_sources_are_recorded_and_retried(
        cli: Callable[..., Result], stac: Stac, receivers: tuple[WebhookReceiver,
                                                                 SmtpReceiver],
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hook, smtp = receivers
    _setup(cli, stac.after, hook, smtp, tmp_path)
    # a second site whose only source cannot be reached
    assert cli("sites", "add", "elsewhere", "--lat", SITE[0], "--lon", SITE[1],
               "--radius-m", "300").code == 0
    down = f"http://127.0.0.1:{free_port()}"
    assert cli("watch", "source", "--site", "elsewhere", "--url", down).code == 0
    # and a third whose source answers junk
    assert cli("sites", "add", "junk", "--lat", SITE[0], "--lon", SITE[1],
               "--radius-m", "200").code == 0
    assert cli("watch", "source", "--site", "junk", "--url",
               stac.assets.url + "/garbage").code == 0
    with monkeypatch.context() as m:
        m.setenv("SITEWATCH_HTTP_RETRIES", "0")
        hook.fail_next = 100  # HTTP 500 on every try
        smtp.refuse_next = 100  # 550 on every message
        res = _run(cli)
    assert res["alerts"] == 4 and res["delivered"] == 2  # the two feed files
    failed = [ln for ln in res["stderr"].splitlines() if ln.startswith("sitewatch: failed:")]
    assert len(failed) == 4, failed
    assert any("site elsewhere" in ln and "cannot reach" in ln for ln in failed)
    assert any("site junk" in ln and "STAC" in ln for ln in failed)
    assert any("sink hook" in ln and "HTTP 500" in ln for ln in failed)
    assert any("sink mail" in ln and "550" in ln for ln in failed)
    assert len(hook.attempts) == 2 and hook.unique == {}  # two tries with back-off
    st = json.loads(cli("watch", "status", "--json").out)
    assert "cannot reach" in next(s for s in st["sites"] if s["site"] == "elsewhere"
                                  )["last_error"]
    assert st["outbox"]["hook"]["pending"] == 1 and st["outbox"]["mail"]["pending"] == 1

    # next pass: the webhook times out, the mail goes through
    hook.fail_next, hook.delay_s, smtp.refuse_next = 0, 1.5, 0
    res = _run(cli, "--site", "plant")
    assert res["delivered"] == 1 and len(smtp.unique) == 1
    assert any("sink hook" in ln and "Timeout" in ln for ln in res["stderr"].splitlines())
    assert hook.unique == {}  # the receiver answered too late: not counted

    # and the pass after: delivered once
    hook.delay_s = 0.0
    res = _run(cli, "--site", "plant")
    assert res["delivered"] == 1 and res["failures"] == []
    assert len(hook.unique) == 1 and len(smtp.unique) == 1
    assert _run(cli, "--site", "plant")["delivered"] == 0


def _alerts_seen(hook: WebhookReceiver, smtp: SmtpReceiver, feeds: Path) -> dict:
    def core(a: dict) -> dict:
        keep = ("change", "detection", "run", "change_type", "area_m2", "score", "flags",
                "first_seen")
        return {k: a[k] for k in keep} | {"after": a["after"]["stac_item"]}

    return {"hook": sorted((k, json.dumps(core(h.doc["alert"]))) for k, h in
                           hook.unique.items()),
            "mail": sorted((k, m["Subject"]) for k, m in smtp.unique.items()),
            "geo": [f["id"] for f in json.loads((feeds / "alerts.geojson").read_text())
                    ["features"]],
            "atom": (feeds / "alerts.atom").read_text().count("<entry>")}


def _subprocess_pass(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(EXE), "watch", "run"], env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture(scope="module")
def reference(stac: Stac, hook: WebhookReceiver, smtp: SmtpReceiver,
              tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The alerts of one uninterrupted pass over all three dates (a fresh workspace)."""
    from conftest import Result as R  # noqa: F401 - the cli fixture is function-scoped

    from sitewatch.cli.main import main

    feeds = tmp_path_factory.mktemp("ref")
    old = {k: os.environ.get(k) for k in ("SITEWATCH_HOME", "SITEWATCH_DB")}
    admin = os.environ.get("SITEWATCH_TEST_PG")
    os.environ["SITEWATCH_HOME"] = str(feeds / "ws")
    url = None
    if admin:
        from support.postgres import fresh_database_url

        url = fresh_database_url(admin, "watch_reference", migrate=True)
        os.environ["SITEWATCH_DB"] = url
    else:
        os.environ.pop("SITEWATCH_DB", None)
    hook.reset()
    smtp.reset()

    def cli(*args: object) -> Result:
        return Result(main([str(a) for a in args]), "", "")

    try:
        _setup(cli, stac.after, hook, smtp, feeds)
        assert cli("watch", "run").code == 0
        seen = _alerts_seen(hook, smtp, feeds)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        if admin and url:
            from support.postgres import drop_database

            drop_database(admin, url)
    assert len(seen["hook"]) == 1 and seen["atom"] == 1
    return seen


@pytest.mark.parametrize("step", ["fetched", "committed", "sent"])
def test_sigkill_mid_pass_then_rerun_sends_the_same_alerts(
        cli: Callable[..., Result], stac: Stac, reference: dict,
        receivers: tuple[WebhookReceiver, SmtpReceiver], tmp_path: Path, step: str) -> None:
    hook, smtp = receivers
    _setup(cli, stac.after, hook, smtp, tmp_path)
    env = dict(os.environ) | {"SITEWATCH_TEST_KILL_AFTER": step}
    killed = _subprocess_pass(env)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    env.pop("SITEWATCH_TEST_KILL_AFTER")
    again = _subprocess_pass(env)
    assert again.returncode == 0, again.stderr
    assert _alerts_seen(hook, smtp, tmp_path) == reference
    if step == "sent":  # sent, killed before marked: sent again, dropped by its key
        assert len(hook.attempts) == 2 and len(hook.unique) == 1
    else:
        assert len(hook.attempts) == 1
    st = json.loads(cli("watch", "status", "--json").out)
    assert [p["status"] for p in st["passes"]] == ["finished", "interrupted"]
    assert _run(cli)["delivered"] == 0  # and nothing more, ever


def test_rule_kinds_area_and_confirmation(cli: Callable[..., Result], stac: Stac,
                                          receivers: tuple[WebhookReceiver, SmtpReceiver],
                                          tmp_path: Path) -> None:
    hook, smtp = receivers
    _setup(cli, stac.after, hook, smtp, tmp_path)
    assert cli("watch", "rule", "--min-area", "1000000").code == 0  # global: 1 km2
    assert _run(cli)["alerts"] == 0
    # a site rule wins over the global one: alert once an analyst confirms
    assert cli("watch", "rule", "--site", "plant", "--when", "confirmed").code == 0
    assert _run(cli)["alerts"] == 0
    assert cli("review", "C1", "--confirm", "--by", "ana").code == 0
    res = _run(cli)
    assert res["alerts"] == 4 and res["delivered"] == 4
    assert next(iter(hook.unique.values())).doc["alert"]["confirmed"] is True
    assert _run(cli)["alerts"] == 0


def test_digest_groups_a_pass(cli: Callable[..., Result], stac: Stac,
                              receivers: tuple[WebhookReceiver, SmtpReceiver],
                              tmp_path: Path) -> None:
    hook, smtp = receivers
    assert cli("sites", "add", "twin", "--lat", SITE[0], "--lon", SITE[1],
               "--radius-m", "300").code == 0
    _setup(cli, stac.after, hook, smtp, tmp_path, "--digest")
    res = _run(cli)
    assert res["alerts"] == 8 and res["delivered"] == 8
    assert len(hook.unique) == 1 and len(smtp.unique) == 1
    doc = next(iter(hook.unique.values())).doc
    assert doc["type"] == "sitewatch.digest" and len(doc["alerts"]) == 2
    msg = next(iter(smtp.unique.values()))
    assert [p.get_content_type() for p in msg.walk()].count("image/png") == 2
    assert len(json.loads((tmp_path / "alerts.geojson").read_text())["features"]) == 2


def test_a_pass_that_cannot_run_exits_1(cli: Callable[..., Result],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITEWATCH_DB", f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}"
                                       "/nothing")
    res = cli("watch", "run")
    lines = [ln for ln in res.err.splitlines() if ln.startswith("sitewatch:")]
    assert res.code == 1 and len(lines) == 1 and "cannot reach the catalog" in lines[0]
    assert "Traceback" not in res.err


def test_invalid_settings_are_refused_when_set(cli: Callable[..., Result]) -> None:
    assert cli("sites", "add", "plant", "--lat", SITE[0], "--lon", SITE[1]).code == 0
    for args, word in ((("rule", "--kind", "ufo"), "change kind"),
                       (("rule", "--min-area", "-5"), "min area"),
                       (("rule", "--ignore", "clouds"), "flag"),
                       (("rule", "--when", "later"), "--when"),
                       (("rule", "--site", "nowhere"), "no site"),
                       (("source", "--url", "ftp://x"), "http"),
                       (("source", "--provider", "nope"), "provider"),
                       (("source", "--max-cloud", "150"), "max-cloud"),
                       (("sink", "add", "h", "--webhook", "ftp://x"), "URL"),
                       (("sink", "add", "m", "--email", "nobody"), "e-mail"),
                       (("sink", "add", "m"), "give one of"),
                       (("schedule", "--every", "6x"), "--every"),
                       (("schedule", "--cron", "not a cron"), "--cron"),
                       (("schedule",), "give one of")):
        assert word in one_error_line(cli("watch", *args)), args
    assert cli("watch", "sink", "add", "h", "--webhook", "http://127.0.0.1:9/x").code == 0
    assert "already exists" in one_error_line(cli("watch", "sink", "add", "h", "--webhook",
                                                  "http://127.0.0.1:9/y"))
    assert json.loads(cli("watch", "status", "--json").out)["sites"][0]["rule"][
        "min_area_m2"] == 0
    assert cli("watch", "rule", "--site", "plant", "--min-area", "500").code == 0
    assert json.loads(cli("watch", "status", "--json").out)["sites"][0]["rule"][
        "min_area_m2"] == 500
    assert "rule removed" in cli("watch", "rule", "--site", "plant", "--clear").out
    assert "no rule" in cli("watch", "rule", "--site", "plant", "--clear").out


def test_schedule_runs_passes_in_the_foreground(cli: Callable[..., Result], stac: Stac,
                                                receivers: tuple[WebhookReceiver,
                                                                 SmtpReceiver],
                                                tmp_path: Path) -> None:
    hook, smtp = receivers
    _setup(cli, stac.after, hook, smtp, tmp_path)
    res = cli("watch", "schedule", "--every", "1s", "--max-passes", "2")
    assert res.code == 0, res.err
    assert res.out.count("pass ") >= 2 and "next pass:" in res.out
    assert len(hook.unique) == 1 and len(hook.attempts) == 1
    st = json.loads(cli("watch", "status", "--json").out)
    assert len(st["passes"]) == 2


@pytest.mark.slow
def test_process_pool_and_dask_local_cluster(cli: Callable[..., Result], stac: Stac,
                                             receivers: tuple[WebhookReceiver, SmtpReceiver],
                                             tmp_path: Path) -> None:
    hook, smtp = receivers
    assert cli("sites", "add", "twin", "--lat", SITE[0], "--lon", SITE[1],
               "--radius-m", "300").code == 0
    _setup(cli, stac.before, hook, smtp, tmp_path)
    res = _run(cli, "--workers", "2")
    assert res["executor"] == "local pool of 2" and res["new_scenes"] == 4
    assert cli("watch", "source", "--url", stac.after).code == 0
    res = _run(cli, "--dask", "local", "--workers", "1")
    assert res["executor"] == "dask local" and res["new_scenes"] == 2
    assert res["alerts"] == 8 and res["delivered"] == 8 and len(hook.unique) == 2
    with rasterio.open(next((Path(os.environ["SITEWATCH_HOME"]) / "stac").rglob("*.tif"))
                       ) as ds:
        assert np.isfinite(ds.read()).any()


def _scene(sid: int, day: str, clear: float = 1.0) -> object:
    from sitewatch.model import ObsDate, Provenance, Scene

    return Scene(id=sid, site_id=1, provenance=Provenance("S2", ObsDate.parse(day), "c",
                                                          "src", f"{sid:064d}"),
                 path="x.tif", driver="GTiff", crs="EPSG:32736", bounds=(0, 0, 1, 1),
                 width=1, height=1, band_names=("red",), dtype="float32", gsd_m=10.0,
                 properties={"clear_fraction": clear, "datetime_utc": f"{day}T08:00:00Z",
                             "stac_item": f"item{sid}"})


def test_baseline_rule_last_clear_and_same_season_a_year_earlier() -> None:
    from sitewatch.monitor.baseline import choose_baselines
    from sitewatch.monitor.site import new_scenes, scene_time

    a, cloudy, b = _scene(1, "2020-04-29"), _scene(2, "2020-06-01", 0.4), _scene(3, "2021-04-20")
    new, later = _scene(4, "2021-06-08"), _scene(5, "2021-05-20")
    scenes = [a, cloudy, b, later, new]
    # the cloudy scene is nearest a year back, but not clear: the 40-day-off one is taken
    assert choose_baselines(scenes, new) == (later, a)  # type: ignore[arg-type]
    assert choose_baselines(scenes, b) == (a, None)  # type: ignore[arg-type]
    assert choose_baselines(scenes, a) == (None, None)  # type: ignore[arg-type]
    seen = scene_time(new)  # type: ignore[arg-type]
    assert seen is not None
    # a late arrival (dated before last_seen, never analysed) is analysed; an analysed one
    # and the first scene (no baseline) are not
    got = new_scenes(scenes, seen, analysed={3, 4})  # type: ignore[arg-type]
    assert [s.id for _, s in got] == [5]
    assert new_scenes(scenes, seen, analysed={3, 4, 5}) == []  # type: ignore[arg-type]
    assert [s.id for _, s in new_scenes(scenes, None, set())] == [1, 2, 3, 5, 4]  # type: ignore[arg-type]
