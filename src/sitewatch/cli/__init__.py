"""Typer commands: thin wrappers that parse, validate and call one library function."""
