"""Which tracked changes alert (a rule applied to the runs of a new scene), and what the
alert says: the change, its measurements, the scenes compared, its flags and links."""

from __future__ import annotations

from typing import Any

from sitewatch.model import (
    AlertFlag,
    AlertRule,
    AlertWhen,
    Change,
    Detection,
    Run,
    Scene,
    Site,
)
from sitewatch.monitor.baseline import BASELINE_RULE

Entry = tuple[int, int | None, dict[str, Any]]


def flags_of(d: Detection, run: Run, season_run: Run | None) -> list[str]:
    """The flags of a detection of ``run`` (new scene vs last clear scene)."""
    flags = []
    if season_run is not None and not any(x.change_id == d.change_id
                                          for x in season_run.detections):
        flags.append(AlertFlag.SEASONAL.value)
    if d.area_m2 is None:
        flags.append(AlertFlag.UNKNOWN_AREA.value)
    # a shift too large to apply means the scenes may not line up; "does not improve"
    # (already aligned) and "skipped" (too small to measure) are no sign of it
    status = str(run.parameters.get("coregistration", {}).get("after_status", ""))
    if status.startswith("rejected") and "exceeds" in status:
        flags.append(AlertFlag.MISREGISTRATION.value)
    return flags


def passes(rule: AlertRule, d: Detection, flags: list[str]) -> bool:
    """Whether a detection with ``flags`` passes the rule's kinds, area, score and flags."""
    if rule.change_types and d.change_type not in rule.change_types:
        return False
    if rule.min_area_m2 > 0 and (d.area_m2 is None or d.area_m2 < rule.min_area_m2):
        return False
    if d.score < rule.min_score:
        return False
    return not set(flags) & set(rule.ignore_flags)


def _scene_doc(s: Scene | None) -> dict[str, Any] | None:
    if s is None:
        return None
    p = s.props
    return {"scene_id": s.id, "date": s.acquired_text, "datetime_utc": p.get("datetime_utc"),
            "stac_item": p.get("stac_item"), "stac_collection": p.get("stac_collection"),
            "stac_self_href": p.get("stac_self_href"), "provider": s.provider,
            "credit": s.credit, "licence": s.licence,
            "clear_fraction": p.get("clear_fraction")}


def payload(site: Site, change: Change, d: Detection, run: Run, before: Scene, after: Scene,
            season: Scene | None, flags: list[str]) -> dict[str, Any]:
    """The alert's content (JSON-safe); the figure is added when it is delivered."""
    area = None if d.area_m2 is None else round(d.area_m2, 1)
    unc = None if d.area_uncertainty_m2 is None else round(d.area_uncertainty_m2, 1)
    lon = None if d.centroid_lon is None else round(d.centroid_lon, 6)
    lat = None if d.centroid_lat is None else round(d.centroid_lat, 6)
    return {
        "change": change.ref, "change_id": change.id, "detection": d.ref, "run": run.ref,
        "site": {"id": site.id, "name": site.name, "kind": site.kind, "country": site.country},
        "change_type": d.change_type, "area_m2": area, "area_uncertainty_m2": unc,
        "score": round(float(d.score), 4), "centroid_lon": lon, "centroid_lat": lat,
        "polygon": d.polygon, "first_seen": change.first_seen, "method": run.method,
        "before": _scene_doc(before), "after": _scene_doc(after),
        "season_baseline": _scene_doc(season), "flags": flags, "baseline_rule": BASELINE_RULE,
        # the result's own warnings (sitewatch.Flag), each in words, as the report states them
        "warnings": [{"code": f.value, "sentence": f.sentence}
                     for f in dict.fromkeys(run.flags + d.flags)],
        "links": {"report": f"sitewatch report {site.id} --run {run.ref} --out REPORT.html",
                  "show": f"sitewatch show {change.ref}",
                  "review": f"sitewatch review {change.ref} --confirm",
                  "stac_item": (after.props.get("stac_self_href") or None)},
    }


def decide(rule: AlertRule, site: Site, after: Scene, before: Scene, season: Scene | None,
           runs: list[Run], changes: dict[int, Change]) -> list[Entry]:
    """The alerts of a new scene: each change seen against the last clear scene (``runs[0]``)
    that passes ``rule``; nothing here when the rule waits for confirmation."""
    if rule.when is AlertWhen.CONFIRMED or not runs:
        return []
    run, season_run = runs[0], (runs[1] if len(runs) > 1 else None)
    out: list[Entry] = []
    for d in run.detections:
        if d.change_id is None:
            continue
        flags = flags_of(d, run, season_run)
        if passes(rule, d, flags):
            out.append((d.change_id, run.id,
                        payload(site, changes[d.change_id], d, run, before, after, season,
                                flags)))
    return out


def confirmed_entries(rule: AlertRule, site: Site, changes: list[Change], runs: dict[int, Run],
                      scenes: dict[int, Scene], alerted: set[int]) -> list[Entry]:
    """Alerts of changes an analyst confirmed, for a rule that waits for confirmation;
    judged on the change's latest detection. ``runs``/``scenes`` by id."""
    if rule.when is not AlertWhen.CONFIRMED:
        return []
    out: list[Entry] = []
    for c in changes:
        if c.status.value != "confirmed" or c.id in alerted:
            continue
        run = runs.get(c.last_run_id)
        if run is None:
            continue
        d = next((x for x in run.detections if x.change_id == c.id), None)
        if d is None:
            continue
        flags = [f for f in flags_of(d, run, None) if f != AlertFlag.SEASONAL.value]
        if passes(rule, d, flags):
            out.append((c.id, run.id, payload(site, c, d, run, scenes[run.before_scene_id],
                                              scenes[run.after_scene_id], None, flags)
                        | {"confirmed": True}))
    return out


def title(p: dict[str, Any]) -> str:
    """One line naming an alert: 'C17 built_up_gain at Votkinsk plant (1.2 ha, 2024-05-04)'."""
    area = p.get("area_m2")
    size = "area unknown" if area is None else (f"{area / 1e4:.2f} ha" if area >= 1e4
                                                else f"{area:.0f} m2")
    when = (p.get("after") or {}).get("date", "?")
    return f"{p['change']} {p['change_type']} at {p['site']['name']} ({size}, {when})"


__all__ = ["confirmed_entries", "decide", "flags_of", "passes", "payload",
           "title"]
