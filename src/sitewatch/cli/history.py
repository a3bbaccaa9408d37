"""``sitewatch runs list``, ``show``, ``changes`` and ``review``: the history of analyses and
the analysts' judgement of what they found."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sitewatch.cli.common import change_label, open_ws, out, print_json
from sitewatch.errors import InputValueError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sitewatch.model import Change, Detection, Flag, Review, Run

runs_app = typer.Typer(help="The runs (analyses) of a site; runs are never deleted.",
                       no_args_is_help=True)


def _num(value: float | None, fmt: str = ",.0f") -> str:
    return "unknown" if value is None else format(value, fmt)


def detection_line(d: Detection, said: Sequence[Flag] = ()) -> str:
    """One detection in a line, with its flags but those ``said`` already (the run's)."""
    area = ("area unknown" if d.area_m2 is None else
            f"{d.area_m2:10,.0f} ± {_num(d.area_uncertainty_m2)} m²")
    where = ("" if d.centroid_lat is None or d.centroid_lon is None
             else f"  at lat, lon {d.centroid_lat:.6f}, {d.centroid_lon:.6f}")
    own = [f.value for f in d.flags if f not in said]
    flags = f"  ! {', '.join(own)}" if own else ""
    return (f"{d.ref:>6s} {d.change_ref or '':>6s} {change_label(d.change_type):19s} {area}  score "
            f"{d.score:.2f}{where}  [{d.review_status.value}]{flags}")


def total_text(run: Run) -> str:
    """The run's changed area as the CLI states it: the one total (Run.changed_area_m2)."""
    total, unc = run.changed_area_m2, run.changed_area_uncertainty_m2
    if total is None:
        return "area unknown"
    return f"{total:,.0f} ± {_num(unc)} m² changed" if run.detections else "0 m² changed"


def flag_lines(run: Run) -> list[str]:
    """The run's warnings, one line each, then what the flags beside detections mean."""
    lines = [f"  warning: {f.sentence} [{f.value}]" for f in run.flags]
    from sitewatch.model import Flag

    seen = {f for d in run.detections for f in d.flags} - set(run.flags)
    marked = [f for f in Flag if f in seen]
    lines += [f"  ! {f.value}: {f.sentence}" for f in marked]
    return lines


def detection_json(d: Detection) -> dict[str, Any]:
    return {"id": d.ref, "change_id": d.change_ref, "run_id": f"R{d.run_id}",
            "change_type": d.change_type, "area_m2": d.area_m2,
            "area_uncertainty_m2": d.area_uncertainty_m2, "score": d.score,
            "centroid_lon": d.centroid_lon, "centroid_lat": d.centroid_lat,
            "review": d.review_status.value, "flags": [f.value for f in d.flags],
            "polygon": d.polygon}


def run_json(run: Run, site: str | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": run.ref, "run_id": run.id, "site_id": run.site_id}
    if site is not None:
        doc["site"] = site
    return doc | {"method": run.method, "status": run.status.value, "run_key": run.run_key,
                  "before_scene_id": run.before_scene_id, "after_scene_id": run.after_scene_id,
                  "started_at": run.started_at, "finished_at": run.finished_at,
                  "parameters": run.parameters, "versions": run.versions,
                  "summary": run.summary, "timings_s": run.timings_s,
                  "changed_area_m2": run.changed_area_m2,
                  "changed_area_uncertainty_m2": run.changed_area_uncertainty_m2,
                  "flags": [f.value for f in run.flags],
                  "detections": [detection_json(d) for d in run.detections]}


def review_json(r: Review) -> dict[str, Any]:
    return {"id": r.id, "change_id": f"C{r.change_id}",
            "detection_id": None if r.detection_id is None else f"D{r.detection_id}",
            "from": r.from_status.value, "to": r.to_status.value,
            "reason": r.reason.value if r.reason else None, "note": r.note, "by": r.by,
            "at": r.at}


def change_json(c: Change) -> dict[str, Any]:
    return {"id": c.ref, "site_id": c.site_id, "change_type": c.change_type,
            "status": c.status.value, "first_seen": c.first_seen, "last_seen": c.last_seen,
            "first_run": f"R{c.first_run_id}", "last_run": f"R{c.last_run_id}",
            "runs": [f"R{i}" for i in c.run_ids], "detections": [f"D{i}" for i in
                                                                 c.detection_ids],
            "reviews": [review_json(r) for r in c.reviews], "polygon": c.polygon}


def review_line(r: Review) -> str:
    why = f" ({r.reason.value})" if r.reason else ""
    note = f": {r.note}" if r.note else ""
    return (f"{r.at:%Y-%m-%d %H:%M} UTC  {r.by}: {r.from_status.value} -> "
            f"{r.to_status.value}{why}{note}")


@runs_app.command("list")
def runs_list(
    site: Annotated[str, typer.Argument(help="Site id, name or alias.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List a site's runs, latest first."""
    ws = open_ws()
    s = ws.site(site)
    runs = ws.runs(s.id)
    if as_json:
        print_json([run_json(r, s.name) for r in runs])
        return
    if not runs:
        out.print(f"site {s.name!r} has no runs: run 'sitewatch analyze'", markup=False)
    for r in runs:
        out.print(f"{r.ref:>6s}  {r.finished_at:%Y-%m-%d %H:%M} UTC  {r.method:6s} scenes "
                  f"{r.before_scene_id} -> {r.after_scene_id}  {len(r.detections)} "
                  f"detection(s), {total_text(r)}"
                  + (f"  ! {', '.join(f.value for f in r.flags)}" if r.flags else ""),
                  markup=False)


def show(
    ref: Annotated[str, typer.Argument(help="A run (R12), detection (D345) or tracked "
                                            "change (C17).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show a run, a detection or a tracked change with its review history."""
    from sitewatch.model import Change, Detection, Run

    ws = open_ws()
    obj = ws.show(ref)
    if isinstance(obj, Run):
        if as_json:
            print_json(run_json(obj))
            return
        out.print(f"run {obj.ref} of site {obj.site_id}: method {obj.method}, scenes "
                  f"{obj.before_scene_id} -> {obj.after_scene_id}, finished "
                  f"{obj.finished_at:%Y-%m-%d %H:%M} UTC; key {obj.run_key[:16]}; "
                  f"{total_text(obj)}", markup=False)
        for line in flag_lines(obj):
            out.print(line, markup=False)
        for d in obj.detections:
            out.print("  " + detection_line(d, obj.flags), markup=False)
        from sitewatch.evidence.structures import structure_lines

        for line in structure_lines(obj, limit=100):
            out.print(line, markup=False)
        return
    if isinstance(obj, Detection):
        if as_json:
            print_json(detection_json(obj))
            return
        out.print(f"detection of run R{obj.run_id}: " + detection_line(obj), markup=False)
        if obj.change_ref:
            out.print(f"tracked as change {obj.change_ref}: 'sitewatch show {obj.change_ref}'",
                      markup=False)
        return
    assert isinstance(obj, Change)
    if as_json:
        print_json(change_json(obj))
        return
    out.print(f"change {obj.ref} of site {obj.site_id}: {change_label(obj.change_type)}, "
              f"{obj.status.value};"
              f" first seen {obj.first_seen} (R{obj.first_run_id}), last seen {obj.last_seen} "
              f"(R{obj.last_run_id}); detections "
              + ", ".join(f"D{i}" for i in obj.detection_ids), markup=False)
    for r in obj.reviews:
        out.print("  " + review_line(r), markup=False)


def changes(
    site: Annotated[str | None, typer.Argument(help="Site id, name or alias (default: all).")
                    ] = None,
    status: Annotated[str | None, typer.Option(
        help="unreviewed, confirmed or rejected.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List tracked changes (each judged once for all the runs that saw it)."""
    from sitewatch.model import ReviewStatus

    st = None
    if status is not None:
        try:
            st = ReviewStatus(status.strip().lower())
        except ValueError:
            raise InputValueError(f"--status {status!r}: choose unreviewed, confirmed or "
                                  "rejected") from None
    found = open_ws().changes(site, st)
    if as_json:
        print_json([change_json(c) for c in found])
        return
    for c in found:
        out.print(f"{c.ref:>6s}  site {c.site_id}  {change_label(c.change_type):19s} "
                  f"{c.status.value:10s} "
                  f"first {c.first_seen}  last {c.last_seen}  {len(c.run_ids)} run(s)",
                  markup=False)
    if not found:
        out.print("no tracked changes", markup=False)


def review(
    ref: Annotated[str, typer.Argument(
        help="Detection (D345) or tracked change (C17) to judge; or 'export-training DIR' "
             "to write the reviewed changes as training pairs.")],
    folder: Annotated[Path | None, typer.Argument(help="With export-training: the folder.",
                                                  show_default=False)] = None,
    confirm: Annotated[bool, typer.Option("--confirm", help="It is a real change.")] = False,
    reject: Annotated[bool, typer.Option("--reject", help="It is not (give --reason).")
                      ] = False,
    reset: Annotated[bool, typer.Option("--reset", help="Back to unreviewed.")] = False,
    reason: Annotated[str | None, typer.Option(
        help="With --reject: seasonal, cloud-or-shadow, misregistration, temporary-object "
             "(vehicles), already-known, not-a-change or other.")] = None,
    note: Annotated[str | None, typer.Option(help="Free text kept in the audit log.")] = None,
    by: Annotated[str | None, typer.Option(
        help="Who judges (default: SITEWATCH_USER or the login name).")] = None,
    size: Annotated[int, typer.Option(help="With export-training: tile size in px.")] = 256,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Judge a tracked change once for every run that saw it; each decision is appended to
    the audit log (who, when, from, to, why)."""
    if ref == "export-training":
        if folder is None:
            raise InputValueError("give the folder: sitewatch review export-training DIR")
        res = open_ws().export_training(folder, size)
        out.print(f"{res.tiles} training tile(s) written to {res.folder} ({res.confirmed} "
                  f"confirmed, {res.rejected} rejected); train with 'sitewatch model train "
                  f"--data {res.folder}'", markup=False)
        for s in res.skipped:
            out.print(f"skipped {s}", markup=False)
        return
    if folder is not None:
        raise InputValueError(f"unexpected argument {str(folder)!r}: give one ID")
    chosen = [k for k, v in (("confirm", confirm), ("reject", reject), ("reset", reset)) if v]
    if len(chosen) != 1:
        raise InputValueError("give one of --confirm, --reject --reason R, or --reset")
    if reason is not None and chosen[0] != "reject":
        raise InputValueError("--reason is for --reject")
    if chosen[0] == "reject" and reason is None:
        raise InputValueError("--reject needs --reason: seasonal, cloud-or-shadow, "
                              "misregistration, temporary-object, already-known, "
                              "not-a-change or other")
    rec = open_ws().review(ref, chosen[0], reason, note, by)  # type: ignore[arg-type]
    if as_json:
        print_json(review_json(rec))
        return
    out.print(f"change C{rec.change_id}: {rec.from_status.value} -> {rec.to_status.value}"
              + (f" ({rec.reason.value})" if rec.reason else "") + f" by {rec.by}",
              markup=False)
