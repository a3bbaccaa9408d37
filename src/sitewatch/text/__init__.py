"""From articles to a watchlist: text ingestion, an offline gazetteer, facility extraction."""
