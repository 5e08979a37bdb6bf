"""Pure functions from core results to rich renderables or strings."""
