"""One step for one site, load -> compute -> save: watchlist, imports, STAC fetch, chips,
analyses, reports, training export, timelines, rank, articles, and pairs of files."""
