"""The watch loop: passes over the watchlist that fetch new scenes from STAC sources,
analyse them against a stated baseline, track what changed and alert, exactly once, through
an outbox in the catalog. Sits between :mod:`sitewatch.api` and :mod:`sitewatch.pipeline`.

- :mod:`.baseline`: which earlier scenes a new scene is compared with.
- :mod:`.rules`: which tracked changes alert, and the alert's content.
- :mod:`.sinks`: webhook (HMAC-SHA256), e-mail (SMTP), Atom and GeoJSON feed files.
- :mod:`.site`: the work of one site in a pass (runs in a worker process).
- :mod:`.passes`: a pass: plan, run per site (process pool or Dask), deliver the outbox.
"""

from sitewatch.monitor.baseline import BASELINE_RULE, choose_baselines
from sitewatch.monitor.passes import PassResult, run_pass

__all__ = ["BASELINE_RULE", "PassResult", "choose_baselines", "run_pass"]
