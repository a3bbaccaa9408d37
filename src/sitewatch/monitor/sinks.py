"""Delivering the outbox: a webhook (JSON, HMAC-SHA256 signature, retries with back-off),
e-mail over SMTP with the figure attached, and Atom and GeoJSON feed files.

Each alert goes out with its idempotency key (``Idempotency-Key`` header, ``Message-ID``,
feed entry id): an alert is marked delivered only after the sink accepted it, so a crash
in between sends it again with the same key and the receiver drops the repeat. A digest
is one message for a batch of alerts, the batch fixed in the catalog before it is sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import smtplib
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sitewatch.catalog import Store
from sitewatch.config import Layout
from sitewatch.fileio import atomic_path
from sitewatch.model import Alert, AlertStatus, Sink, SinkKind
from sitewatch.monitor.faults import checkpoint
from sitewatch.monitor.figure import alert_figure
from sitewatch.monitor.rules import title
from sitewatch.version import __version__

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Sitewatch-Signature"
KEY_HEADER = "Idempotency-Key"


class DeliveryError(Exception):
    """A sink did not accept an alert (kept in the outbox, tried again next pass);
    ``final``: trying again at once would not help (e.g. HTTP 400)."""

    def __init__(self, message: str, final: bool = False) -> None:
        super().__init__(message)
        self.final = final


@dataclass(frozen=True)
class Delivery:
    delivered: int
    failures: list[str]


def sign(secret: str, body: bytes) -> str:
    """The signature header value: ``sha256=`` + hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _secret(sink: Sink) -> str | None:
    env = sink.options.get("secret_env")
    if env:
        return os.environ.get(str(env))
    value = sink.options.get("secret")
    return None if value is None else str(value)


def _retrying(sink: Sink, attempt: Callable[[], None]) -> None:
    tries = int(sink.options.get("retries", 3))
    backoff = float(sink.options.get("backoff_s", 1.0))
    for i in range(tries):
        try:
            attempt()
            return
        except DeliveryError as exc:
            if i == tries - 1 or exc.final:
                raise
            time.sleep(backoff * 2 ** i)


def _figure_doc(fig: Path | None) -> dict[str, Any] | None:
    if fig is None:
        return None
    return {"path": str(fig), "media_type": "image/png",
            "png_base64": base64.b64encode(fig.read_bytes()).decode()}


def post_webhook(sink: Sink, key: str, doc: dict[str, Any]) -> None:
    import requests

    body = json.dumps(doc, sort_keys=True, default=str).encode()
    headers = {"Content-Type": "application/json", KEY_HEADER: key,
               "User-Agent": f"sitewatch/{__version__}", "X-Sitewatch-Event": doc["type"]}
    secret = _secret(sink)
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, body)
    timeout = float(sink.options.get("timeout_s", 10))

    def attempt() -> None:
        try:
            r = requests.post(sink.target, data=body, headers=headers, timeout=timeout)
        except requests.RequestException as exc:
            raise DeliveryError(f"{type(exc).__name__}: {str(exc)[:200]}") from exc
        if r.status_code >= 300:
            raise DeliveryError(f"HTTP {r.status_code} from {sink.target}",
                                final=400 <= r.status_code < 500
                                and r.status_code not in (408, 429))

    _retrying(sink, attempt)


def send_email(sink: Sink, key: str, subject: str, text: str, figures: Sequence[Path]) -> None:
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = str(sink.options.get("sender", "sitewatch@localhost"))
    msg["To"] = sink.target
    msg["Message-ID"] = f"<{key}@sitewatch>"
    msg["X-Sitewatch-Idempotency-Key"] = key
    msg.set_content(text)
    for fig in figures:
        msg.add_attachment(fig.read_bytes(), maintype="image", subtype="png",
                           filename=fig.name)
    host = str(sink.options.get("host", "localhost"))
    port = int(sink.options.get("port", 25))
    timeout = float(sink.options.get("timeout_s", 10))

    def attempt() -> None:
        try:
            with smtplib.SMTP(host, port, timeout=timeout) as smtp:
                if sink.options.get("starttls"):
                    smtp.starttls()
                user = sink.options.get("user")
                if user:
                    smtp.login(str(user), os.environ.get(str(sink.options.get(
                        "password_env", "SITEWATCH_SMTP_PASSWORD")), ""))
                smtp.send_message(msg)
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP {host}:{port}: {type(exc).__name__}: "
                                f"{str(exc)[:200]}") from exc

    _retrying(sink, attempt)


def _text(p: dict[str, Any], fig: Path | None) -> str:
    after, before = p.get("after") or {}, p.get("before") or {}
    lines = [title(p), "",
             f"site: {p['site']['name']} (id {p['site']['id']})",
             f"change: {p['change']} ({p['change_type']}), detection {p['detection']}, "
             f"run {p['run']}, score {p['score']}",
             f"area: {p['area_m2']} m2 ± {p['area_uncertainty_m2']}",
             f"where: lat {p['centroid_lat']}, lon {p['centroid_lon']}",
             f"after: {after.get('date')} {after.get('stac_item') or ''}",
             f"before: {before.get('date')} {before.get('stac_item') or ''}"]
    if p.get("season_baseline"):
        lines.append(f"same season a year earlier: {p['season_baseline'].get('date')}")
    if p.get("flags"):
        lines.append(f"flags: {', '.join(p['flags'])}")
    lines += [f"credit: {after.get('credit')}", f"baseline: {p['baseline_rule']}",
              f"review: {p['links']['review']}", f"report: {p['links']['report']}"]
    if fig is not None:
        lines.append(f"figure: {fig.name} (attached)")
    return "\n".join(lines) + "\n"


# --- feeds -----------------------------------------------------------------------------------
def _stamp(t: datetime | None) -> str:
    t = t or datetime.now(UTC)
    return (t if t.tzinfo else t.replace(tzinfo=UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_atom(sink: Sink, alerts: Sequence[Alert], figures: dict[int, Path | None]) -> None:
    ns = "http://www.w3.org/2005/Atom"
    ET.register_namespace("", ns)
    ET.register_namespace("georss", "http://www.georss.org/georss")
    feed = ET.Element(f"{{{ns}}}feed")
    ET.SubElement(feed, f"{{{ns}}}id").text = f"urn:sitewatch:feed:{sink.name}"
    ET.SubElement(feed, f"{{{ns}}}title").text = f"sitewatch alerts ({sink.name})"
    ET.SubElement(feed, f"{{{ns}}}updated").text = _stamp(
        max((a.created_at for a in alerts if a.created_at), default=None))
    ET.SubElement(ET.SubElement(feed, f"{{{ns}}}author"), f"{{{ns}}}name").text = "sitewatch"
    for a in sorted(alerts, key=lambda x: -x.id):
        e = ET.SubElement(feed, f"{{{ns}}}entry")
        ET.SubElement(e, f"{{{ns}}}id").text = f"urn:sitewatch:alert:{a.key}"
        ET.SubElement(e, f"{{{ns}}}title").text = title(a.payload)
        ET.SubElement(e, f"{{{ns}}}updated").text = _stamp(a.created_at)
        ET.SubElement(e, f"{{{ns}}}summary").text = _text(a.payload, figures.get(a.id))
        fig = figures.get(a.id)
        if fig is not None:
            ET.SubElement(e, f"{{{ns}}}link", rel="enclosure", type="image/png",
                          href=fig.resolve().as_uri())
        if a.payload.get("centroid_lat") is not None:
            ET.SubElement(e, "{http://www.georss.org/georss}point").text = (
                f"{a.payload['centroid_lat']} {a.payload['centroid_lon']}")
    _write(Path(sink.target), ET.tostring(feed, encoding="utf-8", xml_declaration=True))


def write_geojson(sink: Sink, alerts: Sequence[Alert], figures: dict[int, Path | None]) -> None:
    feats = []
    for a in sorted(alerts, key=lambda x: x.id):
        props = {k: v for k, v in a.payload.items() if k != "polygon"}
        fig = figures.get(a.id)
        props |= {"key": a.key, "created_at": _stamp(a.created_at),
                  "figure": None if fig is None else str(fig)}
        feats.append({"type": "Feature", "id": a.key, "geometry": a.payload["polygon"],
                      "properties": props})
    doc = {"type": "FeatureCollection", "name": f"sitewatch alerts ({sink.name})",
           "features": feats}
    _write(Path(sink.target), json.dumps(doc, indent=1, default=str).encode())


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


# --- the outbox ------------------------------------------------------------------------------
def deliver_outbox(store: Store, lay: Layout, pass_id: int) -> Delivery:
    """Send every pending alert of every sink (new ones and earlier failures)."""
    delivered, failures = 0, []
    for sink in store.sinks():
        pending = store.alerts(sink.id, AlertStatus.PENDING)
        if not pending:
            continue
        figures = {a.id: alert_figure(store, lay, a) for a in pending}
        if sink.kind in (SinkKind.ATOM, SinkKind.GEOJSON):
            every = store.alerts(sink.id)
            figures |= {a.id: alert_figure(store, lay, a) for a in every if a.id not in figures}
            try:
                (write_atom if sink.kind is SinkKind.ATOM else write_geojson)(sink, every,
                                                                               figures)
            except OSError as exc:
                failures.append(_fail(store, sink, pending, f"cannot write {sink.target}: "
                                      f"{exc.strerror or exc}"))
                continue
            checkpoint("sent")
            store.mark_delivered([a.id for a in pending])
            delivered += len(pending)
            continue
        for batch in _batches(store, sink, pending, pass_id):
            try:
                _send(sink, batch, figures)
            except DeliveryError as exc:
                failures.append(_fail(store, sink, batch, str(exc)))
                continue
            checkpoint("sent")
            store.mark_delivered([a.id for a in batch])
            delivered += len(batch)
    return Delivery(delivered, failures)


def _batches(store: Store, sink: Sink, pending: list[Alert], pass_id: int) -> list[list[Alert]]:
    if not sink.digest:
        return [[a] for a in pending]
    fresh = [a.id for a in pending if a.batch is None]
    if fresh:
        store.batch_alerts(fresh, f"digest-P{pass_id}-S{sink.id}")
        pending = store.alerts(sink.id, AlertStatus.PENDING)
    groups: dict[str, list[Alert]] = {}
    for a in pending:
        groups.setdefault(a.batch or a.key, []).append(a)
    return list(groups.values())


def _send(sink: Sink, batch: list[Alert], figures: dict[int, Path | None]) -> None:
    figs = [f for f in (figures.get(a.id) for a in batch) if f is not None]
    if len(batch) == 1 and not sink.digest:
        a = batch[0]
        fig = figures.get(a.id)
        if sink.kind is SinkKind.WEBHOOK:
            post_webhook(sink, a.key, {"type": "sitewatch.alert", "key": a.key,
                                       "alert": a.payload, "figure": _figure_doc(fig)})
        else:
            send_email(sink, a.key, f"[sitewatch] {title(a.payload)}", _text(a.payload, fig),
                       figs)
        return
    key = batch[0].batch or batch[0].key
    if sink.kind is SinkKind.WEBHOOK:
        post_webhook(sink, key, {"type": "sitewatch.digest", "key": key, "alerts": [
            {"key": a.key, "alert": a.payload, "figure": _figure_doc(figures.get(a.id))}
            for a in batch]})
    else:
        text = "\n\n".join(_text(a.payload, figures.get(a.id)) for a in batch)
        send_email(sink, key, f"[sitewatch] {len(batch)} new change(s)", text, figs)


def _fail(store: Store, sink: Sink, alerts: list[Alert], error: str) -> str:
    store.mark_failed([a.id for a in alerts], error)
    refs = ", ".join(a.payload.get("change", "?") for a in alerts)
    tries = max(a.attempts for a in alerts) + 1
    return (f"sink {sink.name} ({sink.kind.value}): {refs} not delivered (attempt {tries}): "
            f"{error}; kept in the outbox, retried next pass")
