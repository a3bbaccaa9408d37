"""Test helpers that are not fixtures: not part of the product."""
