"""The derivation of one weight's gradient as ordered steps (no rendering)."""
