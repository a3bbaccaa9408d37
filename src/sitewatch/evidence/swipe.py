"""The report's swipe view: the two dates stacked, a draggable divider between them.

No network and no library: two inline PNGs, a range input (keyboard: arrow keys, Home,
End, Page Up/Down) that moves the divider, an inline SVG of the change outlines, a few
lines of CSS and one small inline script allowed by its hash in the report's CSP.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from shapely.geometry.base import BaseGeometry

from sitewatch.evidence.figure import FigureSpec, panel_png

SCRIPT = """(function(){
var v=document.querySelectorAll('.swipe');
for(var i=0;i<v.length;i++){(function(box){
var r=box.querySelector('input[type=range]');
function set(){box.style.setProperty('--pos',r.value+'%');
r.setAttribute('aria-valuetext',r.value+'% before, '+(100-r.value)+'% after');}
r.addEventListener('input',set);set();
var o=box.querySelector('input[type=checkbox]');
if(o){o.addEventListener('change',function(){box.classList.toggle('bare',!o.checked);});}
})(v[i]);}
})();"""

#: the Content-Security-Policy source that allows exactly this script
SCRIPT_CSP = "'sha256-" + base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode() + "'"

CSS = """.swipe{position:relative;--pos:50%;max-width:100%;margin:.5em 0 1.5em}
.swipe .stage{position:relative;line-height:0}
.swipe img{width:100%;height:auto;display:block;image-rendering:pixelated;border:0}
.swipe .before{position:absolute;inset:0;clip-path:inset(0 calc(100% - var(--pos)) 0 0)}
.swipe svg{position:absolute;inset:0;width:100%;height:100%;pointer-events:none}
.swipe svg path{vector-effect:non-scaling-stroke}
.swipe.bare svg{display:none}
.swipe .bar{position:absolute;top:0;bottom:0;left:var(--pos);width:2px;margin-left:-1px;
background:#fff;box-shadow:0 0 0 1px #000;pointer-events:none}
.swipe input[type=range]{position:absolute;inset:0;width:100%;height:100%;margin:0;
opacity:0;cursor:ew-resize}
.swipe input[type=range]:focus-visible~.bar{background:#ffd400;width:4px;margin-left:-2px}
.swipe .tag{position:absolute;top:.4em;padding:.1em .4em;font:12px/1.4 system-ui,sans-serif;
background:rgba(255,255,255,.85);pointer-events:none}
.swipe .tag.l{left:.4em}.swipe .tag.r{right:.4em}"""


@dataclass(frozen=True)
class SwipeView:
    """The two images (PNG, one pixel per grid pixel, ``width`` x ``height``) and the change
    outlines as SVG path data in the same pixels."""

    before_png: bytes
    after_png: bytes
    width: int
    height: int
    outlines: tuple[str, ...]
    aoi: str = ""


def _path(g: BaseGeometry) -> str:
    parts = []
    for p in getattr(g, "geoms", [g]):
        if not hasattr(p, "exterior"):
            continue
        for ring in (p.exterior, *p.interiors):
            pts = list(ring.coords)
            if pts:
                parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in pts) + "Z")
    return "".join(parts)


def swipe_view(spec: FigureSpec) -> SwipeView:
    h, w = spec.before.data.shape[1:]
    return SwipeView(panel_png(spec.before), panel_png(spec.after), int(w), int(h),
                     tuple(_path(m.geom_px) for m in spec.marks),
                     _path(spec.aoi_px) if spec.aoi_px is not None else "")


def swipe_html(view: SwipeView, before_label: str, after_label: str) -> str:
    """The swipe block; ``before_label``/``after_label`` must already be HTML-escaped."""
    b64 = base64.b64encode
    outlines = "".join(f'<path d="{d}"/>' for d in view.outlines if d)
    aoi = f'<path d="{view.aoi}" stroke="#ffd400"/>' if view.aoi else ""
    return f"""<div class="swipe">
<div class="stage">
<img class="after" alt="After: {after_label}" width="{view.width}" height="{view.height}"
 src="data:image/png;base64,{b64(view.after_png).decode("ascii")}">
<img class="before" alt="Before: {before_label}" width="{view.width}" height="{view.height}"
 src="data:image/png;base64,{b64(view.before_png).decode("ascii")}">
<svg viewBox="0 0 {view.width} {view.height}" preserveAspectRatio="none" aria-hidden="true"
 fill="none" stroke="#e4002b" stroke-width="1.5">{aoi}{outlines}</svg>
<span class="tag l">Before: {before_label}</span><span class="tag r">After: {after_label}</span>
<input type="range" min="0" max="100" value="50" step="1"
 aria-label="Divider between the before image (left) and the after image (right)">
<span class="bar"></span>
</div>
<label><input type="checkbox" checked> show the change outlines</label>
</div>
<script>{SCRIPT}</script>"""
