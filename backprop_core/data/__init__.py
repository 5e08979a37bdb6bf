"""Data sources (inline, CSV, .npz, generators), targets and labels."""
