"""Imagery sources. ``local``: files on disk (GeoTIFF/COG, PNG/JPEG/BMP, ENVI)."""
