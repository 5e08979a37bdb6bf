"""bp's command line: Typer commands and rich rendering only (no math here)."""
