"""The way out of bp: a trained network to PyTorch (a training script) and ONNX, and back.

`pytorch` writes a self-contained script that trains the network as bp does
(same data, batch order, loss and update rules) and saves a bp checkpoint;
`onnx_export` builds the network as an ONNX graph for inference;
`onnx_import` turns a plain ONNX network back into a bp config. `operators` reads
how each activation and loss is written from its engine record. torch is never
imported here (the script is text); onnx only inside the functions that need it.
"""
