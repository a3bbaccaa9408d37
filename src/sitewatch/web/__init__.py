"""The review workspace in a browser: ``create_app(workspace)`` (``sitewatch serve``)."""

from sitewatch.web.app import create_app

__all__ = ["create_app"]
