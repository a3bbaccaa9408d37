"""The ``sitewatch`` command. Errors of input become one line on stderr and exit status 2;
unexpected errors exit 1 (with a traceback under ``-v``)."""

from __future__ import annotations

import copy
import math
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from sitewatch.cli import db, gazetteer, history, model, scenes, series, sites, stac, watch, web
from sitewatch.cli.common import err, open_ws, out, print_json
from sitewatch.errors import SitewatchError
from sitewatch.version import __version__

app = typer.Typer(
    name="sitewatch", add_completion=False, no_args_is_help=True,
    pretty_exceptions_enable=False, rich_markup_mode=None,
    help="Watch industrial and military sites from space: scenes, change, evidence.",
)
app.add_typer(sites.app, name="sites")
app.add_typer(scenes.app, name="scenes")
app.add_typer(stac.app, name="stac")
app.add_typer(model.app, name="model")
app.add_typer(db.app, name="db")
app.add_typer(gazetteer.app, name="gazetteer")
app.add_typer(watch.app, name="watch")
app.add_typer(history.runs_app, name="runs")
app.command("review")(history.review)
app.command("show")(history.show)
app.command("changes")(history.changes)
app.command()(series.timeline)
app.command()(series.rank)
app.command("serve")(web.serve)
app.add_typer(web.users_app, name="users")
_VERBOSE = {"on": False}


def _version(value: bool) -> None:
    if value:
        out.print(f"sitewatch {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    verbose: Annotated[int, typer.Option(
        "--verbose", "-v", count=True,
        help="-v: log what sitewatch does and show tracebacks of internal errors; -v -v: "
             "the libraries' logs too (Alembic, rasterio, matplotlib, ...).")] = 0,
) -> None:
    """sitewatch: watchlist -> scenes -> chips -> detections -> evidence."""
    _VERBOSE["on"] = verbose > 0
    from sitewatch.cli.logs import configure_logging

    configure_logging(verbose)


@app.command()
def detect(
    before: Annotated[Path, typer.Argument(
        help="Earlier image (GeoTIFF, PNG, JPEG, BMP, ENVI), or a folder of Sentinel-2 band "
             "files of one acquisition (stacked on its B02 grid).")],
    after: Annotated[Path, typer.Argument(help="Later image or band folder of the same "
                                               "ground.")],
    out_path: Annotated[Path, typer.Option("--out", help="Mask GeoTIFF to write.")],
    method: Annotated[str, typer.Option(
        help="auto (the learned model for imagery of 5 m or finer, else cva), model or cva."
    )] = "auto",
    geojson: Annotated[Path | None, typer.Option(help="Also write change polygons.")] = None,
    structures: Annotated[Path | None, typer.Option(
        help="Also write the buildings of both dates as GeoJSON: new, extended, demolished, "
             "unchanged, cleared ground, with areas and relative sizes (learned model).")
    ] = None,
    gsd: Annotated[float | None, typer.Option(help="Pixel size in metres of plain images, "
                                               "to measure areas (without it the model "
                                               "estimates a scale from the buildings).")
                   ] = None,
    weights: Annotated[Path | None, typer.Option(
        help="Weights (.pt) or ONNX model for --method model.")] = None,
    target: Annotated[str | None, typer.Option(
        help="For the model: any (default: every change the model sees, earthworks and "
             "clearing too) or buildings (only where a building stands on either date).")
    ] = None,
) -> None:
    """Detect change between two images; write a 0/1/255 uint8 mask of BEFORE's size."""
    from sitewatch.api import detect_pair

    method, params = _model_params(method, weights, target)
    res = detect_pair(before, after, out_path, method=method, geojson=geojson, gsd_m=gsd,
                      params=params, structures=structures)
    changed = int((res.result.mask == 1).sum())
    valid = int((res.result.mask != 255).sum())
    out.print(f"{res.object_count} change object(s), {changed} of {valid} valid pixels changed "
              f"({100 * changed / max(valid, 1):.1f}%) by method {res.method}; mask written "
              f"to {out_path}", markup=False)
    estimated = res.result.parameters.get("pixel_size_estimated_m")
    if estimated:
        out.print(f"pixel size unknown: read as about {estimated:g} m imagery, as the sizes of "
                  "its buildings suggest (give --gsd to set it; without it no area is "
                  "measured)", markup=False)
    if structures is not None:
        from sitewatch.evidence.structures import document_lines

        for line in document_lines(res.structures, structures):
            out.print(line, markup=False)


@app.command()
def analyze(
    site: Annotated[str, typer.Argument(help="Site id, name or alias.")],
    before: Annotated[str | None, typer.Option(help="Use the latest scene on or before "
                                                "this date (default: the earliest).")] = None,
    after: Annotated[str | None, typer.Option(help="Use the earliest scene on or after "
                                               "this date (default: the latest).")] = None,
    method: Annotated[str, typer.Option(
        help="auto (the learned model for imagery of 5 m or finer, else cva), model or cva."
    )] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print the run as JSON.")] = False,
    weights: Annotated[Path | None, typer.Option(
        help="Weights (.pt) or ONNX model for --method model.")] = None,
    target: Annotated[str | None, typer.Option(
        help="For the model: any (default) or buildings.")] = None,
) -> None:
    """Chip, co-register and compare two scenes of a site; store the run and detections.
    Warnings about the result (co-registration, season, uncertain areas, coverage) are
    printed under the total, and flagged beside each detection they concern."""
    from sitewatch.cli.history import detection_line, flag_lines, run_json, total_text
    from sitewatch.cli.progress import progress

    method, params = _model_params(method, weights, target)
    ws = open_ws()
    with progress("analysing") as step:
        res = ws.analyze(site, before, after, method, params, progress=step)
    run = res.run
    if as_json:
        print_json(run_json(run, site) | {"created": res.created})
        return
    same = "" if res.created else " (the same inputs, parameters and versions as before: " \
        "nothing new)"
    out.print(f"run {run.ref}: {len(run.detections)} detection(s), {total_text(run)} "
              f"(scenes {run.before_scene_id} -> {run.after_scene_id}){same}", markup=False)
    for line in flag_lines(run):
        out.print(line, markup=False)
    for d in run.detections[:10]:
        out.print("  " + detection_line(d, run.flags), markup=False)
    if len(run.detections) > 10:
        out.print(f"  ... {len(run.detections) - 10} more: 'sitewatch show {run.ref}'",
                  markup=False)
    from sitewatch.evidence.structures import structure_lines

    for line in structure_lines(run):
        out.print(line, markup=False)


def _model_params(method: str, weights: Path | None, target: str | None = None
                  ) -> tuple[str, dict[str, str]]:
    """(method, parameters): --weights or --target mean the learned model."""
    if weights is None and target is None:
        return method, {}
    if method == "s2model" and target is None:  # the multispectral model takes --weights
        pass
    elif method not in {"model", "auto"}:
        raise SitewatchError("--weights and --target are for --method model (--weights "
                             "also for s2model)")
    params = {}
    if weights is not None:
        if weights.is_dir():
            raise SitewatchError(f"--weights {weights} is a folder: give a weights file "
                                 "(.pt) or an ONNX model (.onnx)")
        if not weights.is_file():
            raise SitewatchError(f"--weights {weights} does not exist")
        params["weights"] = str(weights.resolve())
    if target is not None:
        if target not in {"buildings", "any"}:
            raise SitewatchError(f"--target {target!r}: choose buildings or any")
        params["target"] = target
    return ("s2model" if method == "s2model" else "model"), params


@app.command()
def report(
    site: Annotated[str, typer.Argument(help="Site id, name or alias.")],
    out_path: Annotated[Path | None, typer.Option("--out", help="HTML file to write.")] = None,
    run: Annotated[str | None, typer.Option(help="Run id, e.g. R12 (default: the latest).")
                   ] = None,
    figure: Annotated[Path | None, typer.Option(
        help="Also (or only) write the before/after figure for print: FILE.png, FILE.svg "
             "or FILE.pdf (the format follows the extension).")] = None,
    dpi: Annotated[int, typer.Option(help="Resolution of --figure (PNG pixels, PDF/SVG "
                                          "images).")] = 300,
) -> None:
    """Write the site's self-contained HTML evidence report and/or its print figure."""
    open_ws().report(site, out_path, run, figure=figure, dpi=dpi)
    if out_path is not None:
        out.print(f"report written to {out_path}", markup=False)
    if figure is not None:
        out.print(f"figure written to {figure} ({dpi} dpi)", markup=False)


@app.command()
def export(
    site: Annotated[str, typer.Argument(help="Site id, name or alias.")],
    out_path: Annotated[Path | None, typer.Option(
        "--out", help="File to write; its extension says the format: .geojson/.json, .gpkg "
                      "(detections, AOI, footprints, QGIS styles), .kml, .fgb or .csv.")
                        ] = None,
    fmt: Annotated[str | None, typer.Option(
        "--format", help="geojson, gpkg, kml, fgb or csv: optional, must match --out.")
                   ] = None,
    stac: Annotated[Path | None, typer.Option(
        help="Folder to write a STAC item of the run into, with the change mask (COG) and "
             "the detections (GeoJSON, GeoPackage) as its assets.")] = None,
    run: Annotated[str | None, typer.Option(help="Run id, e.g. R12 (default: the latest).")
                   ] = None,
) -> None:
    """Export a site's run in WGS84 (the format follows the file extension), or as a STAC
    item with its assets."""
    if stac is not None:
        if out_path is not None or fmt is not None:
            raise SitewatchError("give --out FILE or --stac DIR, not both: a STAC export "
                                 "writes its own GeoJSON and GeoPackage assets")
        item = open_ws().export_stac(site, stac, run)
        out.print(f"STAC item written to {item}", markup=False)
        return
    if out_path is None:
        raise SitewatchError("give --out FILE (.geojson, .gpkg, .kml, .fgb, .csv) or "
                             "--stac DIR")
    path = open_ws().export(site, fmt, out_path, run)
    out.print(f"{path.suffix.lstrip('.')} written to {path}", markup=False)


@app.command()
def extract(
    article: Annotated[Path, typer.Argument(help="Article: text, Markdown, HTML or PDF file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
    date: Annotated[str | None, typer.Option(
        help="The article's date (YYYY-MM-DD), to resolve 'last month' or 'in July', when "
             "the article does not state it.")] = None,
    text_out: Annotated[Path | None, typer.Option(
        help="Write the text that offsets refer to (for HTML, Markdown and PDF).")] = None,
) -> None:
    """Candidate sites in an article: facility, kind, place, coordinates, quotes, dates."""
    from sitewatch.api import extract_sites
    from sitewatch.model.dates import ObsDate

    published = None
    if date is not None:
        when = ObsDate.from_user(date, "--date")
        if when.precision != "day" or when.start is None:
            raise SitewatchError(f"--date {date!r} must be a day, YYYY-MM-DD")
        published = when.start
    art, cands = extract_sites(article, published)
    if text_out is not None:
        from sitewatch.imagery.write import atomic_path

        with atomic_path(text_out) as tmp:
            tmp.write_text(art.text, encoding="utf-8")
    if as_json:
        print_json(cands)
        return
    pub = art.published.isoformat() if art.published else "not stated"
    out.print(f"{art.path.name}: {art.title or '(untitled)'}; dated {pub}; "
              f"{len(cands)} candidate site(s)", markup=False)
    for c in cands:
        where = (f"lat, lon {c['lat']:.4f}, {c['lon']:.4f} ±{c['radius_m'] / 1000:.0f} km"
                 if c["lat"] is not None else "not placed")
        how = f" (by {c['placement']})" if c.get("placement") else ""
        out.print(f"- {c['name']} [{c['kind']}] {c['place'] or '?'}, {c['country'] or '?'}: "
                  f"{where}{how}; confidence {c['confidence']}", markup=False)
        for doubt in c.get("doubts", []):
            out.print(f"    doubted: {doubt}", markup=False)
        for e in c["evidence"][:2]:
            out.print(f"    \"{e['quote'][:150]}\" [{e['start']}:{e['end']}]", markup=False)
        for claim in c["imagery"]:
            out.print(f"    imagery: {', '.join(claim['providers'])}"
                      + (f", {'/'.join(claim['months'])}" if claim["months"] else ""),
                      markup=False)


@app.command()
def demo() -> None:
    """Build a demo workspace from the real sample data, analyse it and write reports."""
    from sitewatch.cli.progress import progress
    from sitewatch.config import samples_dir
    from sitewatch.demo import run_demo

    samples = samples_dir()
    ws = open_ws()
    with progress("demo") as step:
        for line in run_demo(ws, samples, step):
            out.print(line, markup=False)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the command and turn errors into exit statuses."""
    args = argv if argv is not None else sys.argv[1:]
    command = typer.main.get_command(_pruned(app, args))
    _refuse_non_finite(command)
    try:
        # without standalone mode, click returns (not raises) the code of a typer.Exit
        code = command.main(args=args, prog_name="sitewatch", standalone_mode=False)
        if isinstance(code, int) and not isinstance(code, bool) and code:
            return code
    except SitewatchError as exc:
        err.print(f"sitewatch: error: {exc}", markup=False)
        return 2
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        err.print("sitewatch: aborted", markup=False)
        return 1
    except Exception as exc:
        usage = _usage_error(exc)
        if usage is None:
            return _internal(exc)
        code, message = usage
        (out if code == 0 else err).print(message, markup=False)
        return code
    return 0


def _pruned(full: typer.Typer, args: list[str]) -> typer.Typer:
    """``full`` with only the command or group that ``args`` name (their first word that
    is not a root option), or ``full`` itself when they name none (``--help``, a typo).

    Typer converts every command's parameters before running one; for the 80-odd
    commands that costs more than all the work of ``sites list``. Help, usage errors and
    behaviour of the command run are the same: it is the same command.
    """
    at = next((i for i, a in enumerate(args) if not a.startswith("-")), len(args))
    word = args[at] if at < len(args) else None
    if "--help" in args[:at]:  # the root's eager --help lists every command
        return _listing(full)
    if word is None:
        return _listing(full) if not args else full
    commands = [c for c in full.registered_commands
                if (c.name or typer.main.get_command_name(c.callback.__name__
                                                          if c.callback else "")) == word]
    groups = [g for g in full.registered_groups if g.name == word]
    if not commands and not groups:
        return full
    return _like(full, commands, groups)


def _like(full: typer.Typer, commands: list[Any], groups: list[Any]) -> typer.Typer:
    """A Typer with ``full``'s settings and callback and these commands and groups."""
    small = typer.Typer()
    for attr in ("_add_completion", "rich_markup_mode", "rich_help_panel", "suggest_commands",
                 "pretty_exceptions_enable", "pretty_exceptions_show_locals",
                 "pretty_exceptions_short", "info", "registered_callback"):
        setattr(small, attr, getattr(full, attr))
    small.registered_commands, small.registered_groups = commands, groups
    return small


def _listing(full: typer.Typer) -> typer.Typer:
    """``full`` as its own help lists it: every command and group by name and help, none
    of their parameters (the top-level help prints no parameter of a subcommand; a test
    checks the text is the same)."""
    def stub(info: Any) -> Any:
        def listed() -> None:
            """"""

        fn = info.callback
        listed.__name__, listed.__doc__ = fn.__name__, fn.__doc__
        short = copy.copy(info)
        short.callback = listed
        return short

    groups = []
    for g in full.registered_groups:
        short = copy.copy(g)
        if g.typer_instance is not None:
            short.typer_instance = _like(g.typer_instance, [], [])
        groups.append(short)
    return _like(full, [stub(c) for c in full.registered_commands if c.callback], groups)


def _refuse_non_finite(command: Any) -> None:
    """Every option and argument of every command refuses NaN and infinities (which
    Python's ``float`` accepts from 'nan', 'inf', '1e999'): a usage error naming the option,
    exit status 2, before the command runs."""
    for sub in getattr(command, "commands", {}).values():
        _refuse_non_finite(sub)
    for param in command.params:
        param.callback = _finite_check(param.callback)


def _finite_check(callback: Any) -> Any:
    def check(ctx: Any, param: Any, value: Any) -> Any:
        items = value if isinstance(value, list | tuple) else (value,)
        for v in items:
            if isinstance(v, float) and not math.isfinite(v):
                raise typer.BadParameter(f"{v} is not a finite number: give a number such "
                                         "as 1.5", ctx=ctx, param=param)
        return value if callback is None else callback(ctx, param, value)

    return check


def _usage_error(exc: Exception) -> tuple[int, str] | None:
    """Exit status and text of a command-line parsing error (Typer/Click), else None."""
    if type(exc).__name__ == "NoArgsIsHelpError":
        ctx = getattr(exc, "ctx", None)
        return 0, ctx.get_help() if ctx is not None else ""
    if not (hasattr(exc, "format_message") and hasattr(exc, "exit_code")):
        return None
    ctx = getattr(exc, "ctx", None)
    hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    return 2, f"sitewatch: error: {exc.format_message()}{hint}"


def _internal(exc: Exception) -> int:
    """An internal error: say so in one line, with the traceback under -v."""
    if _VERBOSE["on"]:
        raise exc
    err.print(f"sitewatch: internal error: {_one_line(exc)} "
              "(run with -v for the traceback)", markup=False)
    return 1


def _one_line(exc: Exception) -> str:
    """An unexpected error in one line; a database error never shows its SQL statement or
    its parameters (user text), only the driver's first line."""
    if not type(exc).__module__.startswith("sqlalchemy"):
        return f"{type(exc).__name__}: {exc}"
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).split("[SQL:")[0].strip()
    reason = text.splitlines()[0][:200] if text else "no reason given"
    return (f"the catalog refused the command ({type(exc).__name__}: {reason}); "
            "try again")


if __name__ == "__main__":
    sys.exit(main())
