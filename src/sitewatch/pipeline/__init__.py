"""Workflows over the other layers: watchlist, chips, analyses, demo."""
