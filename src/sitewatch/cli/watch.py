"""``sitewatch watch``: passes over the watchlist, on demand or on a schedule, and the
rules, sources and sinks of its alerts."""

from __future__ import annotations

import contextlib
import dataclasses
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sitewatch.cli.common import err, open_ws, out, print_json
from sitewatch.errors import ConfigError, InputValueError

if TYPE_CHECKING:
    from sitewatch.api import Workspace

app = typer.Typer(help="Keep every site current: passes that fetch new scenes, analyse them "
                       "and alert once per tracked change.", no_args_is_help=True)
sink_app = typer.Typer(help="Where alerts go: webhook, e-mail, Atom or GeoJSON feed.",
                       no_args_is_help=True)
app.add_typer(sink_app, name="sink")

Sites = Annotated[list[str] | None, typer.Option("--site", help="Site id, name or alias "
                                                 "(repeat; default: every active site).")]
Workers = Annotated[int, typer.Option(help="Sites in parallel in a local process pool.")]
Dask = Annotated[str | None, typer.Option(
    help="Dask scheduler address (tcp://host:8786), or 'local' for a LocalCluster; "
         "default SITEWATCH_DASK.")]
Scope = Annotated[str | None, typer.Option("--site", help="Set it for this site (default: "
                                           "the global setting).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _open() -> Workspace:
    """The workspace; a catalog that cannot be opened means the pass cannot run (exit 1)."""
    try:
        return open_ws()
    except ConfigError as exc:
        err.print(f"sitewatch: error: {exc}", markup=False)
        raise typer.Exit(1) from exc


def _pass(ws: Workspace, sites: list[str], workers: int, dask: str | None,
          as_json: bool = False) -> Any:
    def progress(o: Any) -> None:
        if not as_json:
            state = "" if o.finished else "  (stopped: retried next pass)"
            out.print(f"site {o.site}: {o.new_scenes} new scene(s), {o.runs} run(s), "
                      f"{o.alerts} alert(s) queued{state}", markup=False)

    try:
        res = ws.watch_run(sites, workers=workers, dask=dask, progress=progress)
    except ConfigError as exc:
        err.print(f"sitewatch: error: {exc}", markup=False)
        raise typer.Exit(1) from exc
    for line in res.failures:
        err.print(f"sitewatch: failed: {line}", markup=False)
    r = res.record
    if as_json:
        print_json({"pass": r.id, "status": r.status, "executor": r.executor,
                    "sites": r.sites, "new_scenes": r.new_scenes, "runs": r.runs,
                    "alerts": r.alerts, "delivered": r.delivered, "failures": res.failures,
                    "seconds": round(res.seconds, 2), "baseline_rule": res.baseline_rule,
                    "outcomes": [dataclasses.asdict(o) for o in res.outcomes]})
    else:
        out.print(f"baseline: {res.baseline_rule}", markup=False)
        if not ws.watch_sinks():
            out.print("note: no sinks ('sitewatch watch sink add'): changes are tracked but "
                      "nobody is told, and a sink added later hears only of later changes",
                      markup=False)
        out.print(f"pass {r.id}: {r.sites} site(s) in {res.seconds:.1f} s "
                  f"({res.sites_per_hour:,.0f} sites/hour, {r.executor}); {r.new_scenes} new "
                  f"scene(s), {r.runs} run(s), {r.alerts} alert(s) queued, {r.delivered} "
                  f"delivered, {len(res.failures)} failure(s)", markup=False)
    return res


@app.command("run")
def run_(sites: Sites = None, workers: Workers = 1, dask: Dask = None,
         as_json: AsJson = False) -> None:
    """One pass: new scenes from the STAC sources, analysis against the baselines, alerts.
    Exit 0 when the pass finished (failures are listed on stderr and retried next pass),
    1 when it could not run."""
    _pass(_open(), sites or [], workers, dask, as_json)


def parse_every(text: str) -> timedelta:
    """``6h``, ``30m``, ``1d``, ``90s`` or ``1h30m`` as a timedelta."""
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([dhms])", text.strip().lower())
    if not parts or re.sub(r"[\d.\sdhms]", "", text.lower()):
        raise InputValueError(f"--every {text!r}: give a period such as 6h, 30m or 1d")
    unit = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    seconds = sum(float(n) * unit[u] for n, u in parts)
    if seconds < 1:
        raise InputValueError(f"--every {text!r} is shorter than a second")
    return timedelta(seconds=seconds)


def trigger(every: str | None, cron: str | None) -> Any:
    """The APScheduler trigger of ``--every`` or ``--cron`` (refused when invalid)."""
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    if (every is None) == (cron is None):
        raise InputValueError("give one of --every PERIOD or --cron 'MIN HOUR DOM MON DOW'")
    if every is not None:
        return IntervalTrigger(seconds=parse_every(every).total_seconds(), timezone=UTC)
    try:
        return CronTrigger.from_crontab(str(cron), timezone=UTC)
    except ValueError as exc:
        raise InputValueError(f"--cron {cron!r} is not a cron expression ({exc}): e.g. "
                              "'0 */6 * * *'") from exc


@app.command()
def schedule(
    every: Annotated[str | None, typer.Option(help="Period between passes: 6h, 30m, 1d.")
                     ] = None,
    cron: Annotated[str | None, typer.Option(help="Cron expression, UTC: '0 */6 * * *'.")
                    ] = None,
    sites: Sites = None, workers: Workers = 1, dask: Dask = None,
    max_passes: Annotated[int | None, typer.Option(help="Stop after this many passes.")
                          ] = None,
) -> None:
    """Run passes in the foreground on a schedule (the first at once); Ctrl-C stops."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    trig = trigger(every, cron)
    ws = _open()
    sched = BlockingScheduler(timezone=UTC)
    done = {"n": 0}

    def job() -> None:
        _pass(ws, sites or [], workers, dask)
        done["n"] += 1
        jobs = sched.get_jobs()
        nxt = jobs[0].next_run_time if jobs else None
        if max_passes is not None and done["n"] >= max_passes:
            nxt = None
        ws.set_next_pass(nxt)
        if nxt is not None:
            out.print(f"next pass: {nxt.isoformat(timespec='seconds')}", markup=False)
        if max_passes is not None and done["n"] >= max_passes:
            sched.shutdown(wait=False)

    sched.add_job(job, trig, next_run_time=datetime.now(UTC), max_instances=1,
                  coalesce=True, misfire_grace_time=None, id="watch-pass")
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        sched.start()


def _when(t: datetime | None) -> str:
    return "-" if t is None else t.isoformat(timespec="seconds")


@app.command()
def status(as_json: AsJson = False) -> None:
    """Each site's last seen scene, last and next pass and last error; sinks and outbox."""
    st = _open().watch_status()
    if as_json:
        print_json(_iso({"sites": [{"site": x["site"].name, "site_id": x["site"].id,
                               **dataclasses.asdict(x["state"]),
                               "rule": dataclasses.asdict(x["rule"]),
                               "sources": [dataclasses.asdict(s) for s in x["sources"]]}
                              for x in st["sites"]],
                    "sinks": [dataclasses.asdict(k) | {"options": _masked(k.options)}
                              for k in st["sinks"]],
                    "outbox": st["outbox"],
                    "passes": [dataclasses.asdict(p) for p in st["passes"]]}))
        return
    for x in st["sites"]:
        s, state = x["site"], x["state"]
        out.print(f"{s.id:>4} {s.name}: last seen {_when(state.last_seen)}, last pass "
                  f"{_when(state.last_pass_at)}, next pass {_when(state.next_pass_at)}"
                  + (f"; last error: {state.last_error}" if state.last_error else ""),
                  markup=False)
    for k in st["sinks"]:
        box = st["outbox"][k.name]
        fail = f"; last error: {box['failing'][0]}" if box["failing"] and box["pending"] \
            else ""
        out.print(f"sink {k.name} ({k.kind.value}{', digest' if k.digest else ''}) -> "
                  f"{k.target}: {box['delivered']} delivered, {box['pending']} pending{fail}",
                  markup=False)
    for p in st["passes"]:
        out.print(f"pass {p.id} {p.status}: {_when(p.started_at)} - {_when(p.finished_at)}, "
                  f"{p.sites} site(s), {p.alerts} alert(s), {p.delivered} delivered, "
                  f"{len(p.failures)} failure(s)", markup=False)


def _iso(obj: Any) -> Any:
    """``obj`` with datetimes in ISO 8601 (for --json)."""
    if isinstance(obj, datetime):
        return obj.isoformat()
    if isinstance(obj, dict):
        return {k: _iso(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_iso(v) for v in obj]
    return obj


def _masked(options: dict[str, Any]) -> dict[str, Any]:
    return {k: ("***" if k in ("secret", "password") else v) for k, v in options.items()}


@app.command()
def rule(
    site: Scope = None,
    kind: Annotated[list[str] | None, typer.Option(
        "--kind", help="Change kind that alerts (repeat; default: every kind): change, "
                       "vegetation_loss, built_up_gain, vegetation_gain.")] = None,
    min_area: Annotated[float, typer.Option("--min-area", help="Smallest area, m2.")] = 0.0,
    min_score: Annotated[float, typer.Option(help="Smallest detection score.")] = 0.0,
    ignore: Annotated[list[str] | None, typer.Option(
        "--ignore", help="Flag that silences an alert (repeat): seasonal, unknown-area, "
                         "misregistration. Default: seasonal.")] = None,
    no_ignore: Annotated[bool, typer.Option("--no-ignore", help="Silence no flag.")] = False,
    when: Annotated[str, typer.Option(help="immediate, or confirmed (after an analyst's "
                                           "'sitewatch review --confirm').")] = "immediate",
    clear: Annotated[bool, typer.Option("--clear", help="Remove the rule (the site then "
                                        "follows the global rule).")] = False,
) -> None:
    """Set which changes alert, for one site or globally; invalid rules are refused."""
    ws = _open()
    if clear:
        gone = ws.clear_watch_rule(site)
        out.print("rule removed" if gone else "no rule to remove", markup=False)
        return
    if no_ignore and ignore:
        raise InputValueError("give --ignore FLAG or --no-ignore, not both")
    flags = [] if no_ignore else ignore
    r = ws.set_watch_rule(site, change_types=kind or [], min_area_m2=min_area,
                          min_score=min_score, ignore_flags=flags, when=when)
    scope = "global" if r.site_id is None else f"site {ws.site(r.site_id).name}"
    out.print(f"rule ({scope}): kinds {', '.join(r.change_types) or 'all'}, area >= "
              f"{r.min_area_m2:g} m2, score >= {r.min_score:g}, ignoring "
              f"{', '.join(r.ignore_flags) or 'nothing'}, {r.when.value}", markup=False)


@app.command()
def source(
    site: Scope = None,
    collection: Annotated[list[str] | None, typer.Option(
        help="STAC collection (repeat): sentinel-2-l2a, landsat-c2-l2.")] = None,
    provider: Annotated[str, typer.Option(help="earth-search or planetary-computer.")
                        ] = "earth-search",
    url: Annotated[str | None, typer.Option(help="Another STAC API root URL.")] = None,
    max_cloud: Annotated[float | None, typer.Option(help="Largest cloud cover, %.")] = None,
    min_clear: Annotated[float, typer.Option(help="Smallest clear share of the AOI.")] = 0.3,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the sources.")] = False,
) -> None:
    """Set where new scenes come from, for one site or globally (default: Sentinel-2 L2A
    of Earth Search)."""
    ws = _open()
    if clear:
        ws.set_watch_sources(site, [])
        out.print("sources removed", markup=False)
        return
    made = ws.set_watch_sources(site, [
        {"provider": provider, "collection": c, "url": url, "max_cloud": max_cloud,
         "min_clear": min_clear} for c in (collection or ["sentinel-2-l2a"])])
    for s in made:
        out.print(f"source: {s.collection} of {s.url or s.provider}"
                  + (f", cloud <= {s.max_cloud:g}%" if s.max_cloud is not None else "")
                  + f", AOI clear >= {s.min_clear:.0%}", markup=False)


@sink_app.command("add")
def sink_add(
    name: Annotated[str, typer.Argument(help="A name for the sink.")],
    webhook: Annotated[str | None, typer.Option(help="POST alerts as JSON to this URL.")
                       ] = None,
    email: Annotated[str | None, typer.Option(help="E-mail alerts to this address.")] = None,
    atom: Annotated[str | None, typer.Option(help="Keep this Atom feed file.")] = None,
    geojson: Annotated[str | None, typer.Option(help="Keep this GeoJSON feed file.")] = None,
    site: Scope = None,
    digest: Annotated[bool, typer.Option(help="One message per pass, not per alert.")
                      ] = False,
    secret_env: Annotated[str | None, typer.Option(
        help="Environment variable holding the webhook's HMAC-SHA256 secret.")] = None,
    secret: Annotated[str | None, typer.Option(help="The webhook secret itself (stored "
                                               "in the catalog; prefer --secret-env).")
                      ] = None,
    smtp_host: Annotated[str, typer.Option(help="SMTP server.")] = "localhost",
    smtp_port: Annotated[int, typer.Option(help="SMTP port.")] = 25,
    sender: Annotated[str, typer.Option(help="From address.")] = "sitewatch@localhost",
    starttls: Annotated[bool, typer.Option(help="STARTTLS before sending.")] = False,
    timeout: Annotated[float | None, typer.Option(help="Seconds to wait per try.")] = None,
    retries: Annotated[int | None, typer.Option(help="Tries per pass (back-off doubles).")
                       ] = None,
    backoff: Annotated[float | None, typer.Option(help="First back-off, seconds.")] = None,
) -> None:
    """Add a sink of alerts, for every site or one."""
    given = [(k, v) for k, v in (("webhook", webhook), ("email", email), ("atom", atom),
                                 ("geojson", geojson)) if v is not None]
    if len(given) != 1:
        raise InputValueError("give one of --webhook URL, --email ADDRESS, --atom FILE or "
                              "--geojson FILE")
    kind, target = given[0]
    opts: dict[str, Any] = {}
    if kind == "webhook":
        opts |= {k: v for k, v in (("secret_env", secret_env), ("secret", secret)) if v}
    if kind == "email":
        opts |= {"host": smtp_host, "port": smtp_port, "sender": sender, "starttls": starttls}
    opts |= {k: v for k, v in (("timeout_s", timeout), ("retries", retries),
                               ("backoff_s", backoff)) if v is not None}
    ws = _open()
    s = ws.add_sink(name, kind, target, site=site, digest=digest, options=opts)
    out.print(f"sink {s.name}: {s.kind.value} -> {s.target}"
              + (" (digest)" if s.digest else ""), markup=False)


@sink_app.command("remove")
def sink_remove(name: Annotated[str, typer.Argument(help="The sink's name.")]) -> None:
    """Remove a sink (and its outbox)."""
    s = _open().remove_sink(name)
    out.print(f"sink {s.name} removed", markup=False)


@app.command()
def alerts(as_json: AsJson = False) -> None:
    """The outbox: every alert, its sink, status and attempts."""
    ws = _open()
    names = {k.id: k.name for k in ws.watch_sinks()}
    found = ws.watch_alerts()
    if as_json:
        print_json(_iso([dataclasses.asdict(a) | {"sink": names.get(a.sink_id)}
                         for a in found]))
        return
    for a in found:
        out.print(f"{a.payload.get('change')} -> {names.get(a.sink_id)}: {a.status.value} "
                  f"after {a.attempts} attempt(s)"
                  + (f"; last error: {a.last_error}" if a.last_error else ""), markup=False)
