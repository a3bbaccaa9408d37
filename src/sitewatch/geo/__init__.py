"""Geometry: AOIs, per-site grids, co-registration and areas in metres."""
