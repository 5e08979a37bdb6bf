"""bp's engine: config model, data, weight names, forward/backward passes and training.

Nothing in this package prints or imports a terminal library; `cli/` renders.
"""

__version__ = "0.1.0"
