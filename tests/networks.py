"""Small networks shared by the drawing and page tests."""

# A 2-2-2 network with biases (the well-known worked example's numbers): the
# drawing where a bias label used to be printed over another edge's.
NET_222 = """\
network:
  inputs: 2
  layers:
    - units: 2
      activation: sigmoid
      weights: [[0.15, 0.25], [0.2, 0.3]]
      biases: [0.35, 0.35]
    - units: 2
      activation: sigmoid
      weights: [[0.4, 0.5], [0.45, 0.55]]
      biases: [0.6, 0.6]
loss: sse
data:
  inputs: [[0.05, 0.1]]
  targets: [[0.01, 0.99]]
"""
