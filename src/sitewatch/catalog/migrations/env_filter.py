"""What comparisons of the database with the models leave out."""

from __future__ import annotations


def include_object(obj: object, name: str | None, type_: str, reflected: bool,
                   compare_to: object) -> bool:
    """Leave PostGIS's own table and the geometry columns that migration 0005 keeps in sync
    by trigger (the ORM never names them) out of comparisons with the models."""
    if type_ == "table" and name == "spatial_ref_sys":
        return False
    if type_ == "column" and name == "geom":
        return False
    return not (type_ == "index" and bool(name) and str(name).endswith("_geom"))
