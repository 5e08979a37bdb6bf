"""The same workloads in idiomatic PyTorch (autograd, torch.optim.SGD), when installed."""

from __future__ import annotations

from collections.abc import Callable

from benchmarks.workloads import Workload, initial_weights, make_data, shuffler


def make_epoch(w: Workload, threads: int) -> Callable[[], float]:
    import torch
    import torch.nn.functional as F  # noqa: N812 (PyTorch's own spelling)

    torch.set_num_threads(threads)
    X_np, T_np = make_data(w)
    W_np, b_np = initial_weights(w)
    X, T = torch.from_numpy(X_np), torch.from_numpy(T_np)
    labels = T.argmax(dim=1)
    W = [torch.tensor(m, requires_grad=True) for m in W_np]
    b = [torch.tensor(v, requires_grad=True) for v in b_np]
    trainable = w.trainable or tuple(range(1, w.layers + 1))
    params = [W[k - 1] for k in trainable] + ([b[k - 1] for k in trainable] if w.bias else [])
    optimizer = torch.optim.SGD(params, lr=w.eta)
    act = {
        "linear": lambda H: w.slope * H,
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": torch.relu,
    }
    rng = shuffler()
    n, B = w.samples, w.batch

    def epoch() -> float:
        order = torch.from_numpy(rng.permutation(n)) if n > B else None
        total = 0.0
        for start in range(0, n, B):
            rows = order[start : start + B] if order is not None else slice(None)
            x, t, y = X[rows], T[rows], labels[rows]
            A = x
            for k in range(w.layers):
                H = torch.addmm(b[k], A, W[k]) if w.bias else A @ W[k]
                logits = k == w.layers - 1 and w.loss == "cross_entropy"
                A = H if logits else act[w.activations[k]](H)
            if w.loss == "cross_entropy":
                loss = F.cross_entropy(A, y)  # on logits: softmax and log fused
            else:
                loss = 0.5 * ((A - t) ** 2).sum() / x.shape[0]
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item() * x.shape[0]
        return total / n

    return epoch
