"""Evidence: annotated figures, HTML reports and GIS exports."""
