"""Tools for developing and testing sitewatch: a local STAC API of real imagery."""
