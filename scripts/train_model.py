"""The default weights' recipe (``make model``): train ChangeNet on the shared samples,
holding LEVIR-CD out, then score it on LEVIR-CD (held out) and DSIFN-CD.

Training data: xBD Joplin pairs (real building loss, both temporal orders; building
masks for both dates) and SpaceNet footprints, as real pairs and as synthetic changes of
real buildings; DSIFN-CD images only as scenes to paste buildings into (its labels are
not used for training).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from sitewatch.config import samples_dir
from sitewatch.learn.infer import default_weights
from sitewatch.learn.train import Recipe, evaluate, train


def main() -> int:
    s = samples_dir()
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else default_weights()
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 2500
    meta = train([s / "xbd", s / "georef-rasters" / "spacenet-solaris"], out,
                 Recipe(steps=steps, batch=8), backgrounds=[s / "dsifn-cd"],
                 log=lambda line: print(line, flush=True))
    print(json.dumps(meta, indent=2))
    for name, folder in (("LEVIR-CD (held out)", s / "levir-cd" / "tiles256"),
                         ("DSIFN-CD (land-cover change; its images were paste targets)",
                          s / "dsifn-cd")):
        print(name, json.dumps(evaluate([folder], out)["pooled"]), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
