"""bp's engine: config model, data, weight names, forward/backward passes and training.

Nothing in this package prints or imports a terminal library; `cli/` renders.
"""

__version__ = "0.1.0"

# The distribution pip installs (pyproject.toml's project.name): install hints name it.
DISTRIBUTION = "backprop-explained"


def pip_install(extra: str) -> str:
    """The command that installs one of pyproject.toml's optional extras."""
    return f"pip install '{DISTRIBUTION}[{extra}]'"
