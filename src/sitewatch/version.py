"""The version of sitewatch: one literal, which pyproject.toml reads at build time (so that
``sitewatch --version`` needs no package metadata lookup)."""

__version__ = "0.1.0"
