"""The numerical engine: network, activations, losses, optimizers, weight names, gradient check.

Imports only numpy and ``backprop_core.errors``.
"""
