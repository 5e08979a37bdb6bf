"""The fixed parts of the training script `bp export --to pytorch` writes.

`pytorch` fills the ``$`` placeholders (settings, data, weights, the forward
pass, the loss and the update rule) with text; everything else is here, as the
script's reader sees it. It needs only torch and numpy.
"""

from __future__ import annotations

HEADER = '''\
"""Train "$name" with PyTorch exactly as bp trains it.

Written by `bp export --to pytorch` (bp $bp_version) from $source.
Same network and starting weights, same data and batch order, same loss
(bp's conventions) and update rule, same frozen weights and precision: the
per-epoch losses equal `bp train`'s to rounding.

    python $script                          # one process
    torchrun --nproc_per_node 2 $script     # several (CPU, gloo): the data split between them

Prints one JSON document (losses per epoch, final_loss, as `bp train --json`)
from the first process and saves the trained weights as a bp checkpoint
($checkpoint beside this script, or --save PATH), so `bp explain` and
`bp predict` work on what PyTorch trained.
"""

from __future__ import annotations

$imports
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

HERE = Path(__file__).resolve().parent
DTYPE, NP_DTYPE = torch.$precision, np.$precision

SEED = $seed
SHUFFLE_STREAM = [SEED, $shuffle_stream]  # numpy's seed for bp's row orders
EPOCHS = $epochs
BATCH_SIZE = $batch_size  # rows per update; None: the whole data set
SHUFFLE = $shuffle  # a new row order each epoch, drawn as bp draws it
STOP_AT_LOSS = $stop_at_loss
'''

DATA_COMMON = '''

def training_data() -> tuple[np.ndarray, np.ndarray]:
    """Inputs and targets of the training rows, held-out rows removed and inputs scaled."""
    X, T = read_data()
    if TRAINING_ROWS is not None:
        X, T = X[TRAINING_ROWS], T[TRAINING_ROWS]
    if MEAN is not None:
        X = (X - np.array(MEAN)) / np.array(STD)
    return np.ascontiguousarray(X, dtype=NP_DTYPE), np.ascontiguousarray(T, dtype=NP_DTYPE)
'''

CSV_READER = '''

def read_data() -> tuple[np.ndarray, np.ndarray]:
    """DATA_FILE's columns, read as bp reads them ('#' lines before the header are comments)."""
    text = DATA_FILE.read_text(encoding="utf-8-sig")
    rows = [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text, newline=""))]
    rows = [row for row in rows if any(row)]
    while rows[0][0].startswith("#"):
        rows.pop(0)
    header, body = rows[0], rows[1:]

    def column(name: str) -> list[str]:
        return [row[header.index(name)] for row in body]

    X = np.array([[float(v) for v in column(name)] for name in INPUT_COLUMNS]).T
    if CLASSES is None:
        T = np.array([[float(v) for v in column(name)] for name in TARGET_COLUMNS]).T
    else:
        codes = np.array([CLASSES.index(label) for label in column(TARGET_COLUMNS[0])])
        T = np.eye(len(CLASSES))[codes] if OUTPUTS > 1 else codes[:, None].astype(np.float64)
    return X, T
'''

NPZ_READER = '''

def read_data() -> tuple[np.ndarray, np.ndarray]:
    """The arrays X (inputs) and T (targets) of DATA_FILE."""
    with np.load(DATA_FILE) as arrays:
        X, T = arrays["X"].astype(np.float64), arrays["T"].astype(np.float64)
    return X, T.reshape(len(T), -1)
'''

INLINE_READER = """

def read_data() -> tuple[np.ndarray, np.ndarray]:
    return np.array(INPUTS, dtype=np.float64), np.array(TARGETS, dtype=np.float64)
"""

NETWORK = '''

class Network(torch.nn.Module):
    """$layout.

    H(k) = A(k-1) @ W(k) + b(k), A(k) = phi_k(H(k)); W(k) is (inputs, units).
    """

    def __init__(self) -> None:
        super().__init__()
        for name, value in WEIGHTS.items():
            self.register_parameter(name, torch.nn.Parameter(torch.tensor(value, dtype=DTYPE)))
        for name in FROZEN:
            getattr(self, name).requires_grad_(False)

    def forward(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The output layer's pre-activation H and its output Y."""
$forward
        return H, Y


def loss_sum(H: torch.Tensor, Y: torch.Tensor, T: torch.Tensor) -> torch.Tensor:
    """$loss_doc, summed over the rows (bp reports the mean over the batch)."""
    return $loss_expression
'''

UPDATE = '''

class Update:
    """$rule_doc"""

    def __init__(self, params: list[torch.nn.Parameter]) -> None:
        self.params = params
$update_init

    @torch.no_grad()
    def step(self) -> None:
$update_step
'''

UPDATE_RULES = {
    "sgd": (
        "bp's sgd: w <- w - eta * g.",
        "        self.eta = $eta",
        """\
        for w in self.params:
            w -= self.eta * w.grad""",
    ),
    "momentum": (
        "bp's momentum: v <- mu * v - eta * g;  w <- w + v (v starts at 0).",
        """\
        self.eta, self.mu = $eta, $momentum
        self.v = [torch.zeros_like(w) for w in params]""",
        """\
        for w, v in zip(self.params, self.v, strict=True):
            v *= self.mu
            v -= self.eta * w.grad
            w += v""",
    ),
    "adam": (
        "bp's adam: both bias corrections folded into one step size, epsilon added to sqrt(v)\n"
        "    (torch.optim.Adam divides by sqrt(v / (1 - beta2^t)) + epsilon instead).",
        """\
        self.eta, self.beta1, self.beta2, self.epsilon = $eta, $beta1, $beta2, $epsilon
        self.t = 0
        self.m = [torch.zeros_like(w) for w in params]
        self.v = [torch.zeros_like(w) for w in params]""",
        """\
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        step = self.eta * math.sqrt(1.0 - b2**self.t) / (1.0 - b1**self.t)
        for w, m, v in zip(self.params, self.m, self.v, strict=True):
            g = w.grad
            m *= b1
            m += (1.0 - b1) * g
            v *= b2
            v += (1.0 - b2) * g * g
            w -= step * m / (torch.sqrt(v) + self.epsilon)""",
    ),
}

TRAINING = '''

def train(epochs: int) -> dict:
    """bp's training loop: per-epoch losses (each batch's loss taken before its update)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if world > 1:
        dist.init_process_group("gloo")
    X_all, T_all = (torch.from_numpy(a) for a in training_data())
    n = len(X_all)
    B = n if BATCH_SIZE is None else min(BATCH_SIZE, n)
    network = Network()
    trained = [p for p in network.parameters() if p.requires_grad]
    model = DistributedDataParallel(network) if world > 1 and trained else network
    masks = {getattr(network, name): torch.tensor(m, dtype=DTYPE) for name, m in MASKS.items()}
    update = Update(trained)
    shuffler = np.random.default_rng(SHUFFLE_STREAM)
    losses: list[float] = []
    status = "completed"
    for _ in range(epochs):
        order = shuffler.permutation(n) if SHUFFLE and n > B else np.arange(n)
        total = 0.0
        for start in range(0, n, B):
            rows = order[start : start + B]
            # Each process takes its share of the batch; scaling its sum by
            # world / len(rows) makes DDP's average of gradients the batch mean.
            mine = torch.from_numpy(np.array_split(rows, world)[rank])
            H, Y = model(X_all[mine])
            batch = loss_sum(H, Y, T_all[mine])
            for p in trained:
                p.grad = None
            if trained:
                (batch * (world / len(rows))).backward()
            batch = batch.detach()
            if world > 1:
                dist.all_reduce(batch)
            total += float(batch)
            if not math.isfinite(total):
                status = "diverged"
                break
            for p, mask in masks.items():
                p.grad *= mask  # partly frozen: those weights' steps are 0
            update.step()
        losses.append(total / n)
        if status == "diverged" or (STOP_AT_LOSS is not None and losses[-1] <= STOP_AT_LOSS):
            status = "stopped_early" if status != "diverged" else status
            break
    with torch.no_grad():
        H, Y = network(X_all)
        final = float(loss_sum(H, Y, T_all)) / n if status != "diverged" else losses[-1]
    if world > 1:
        dist.destroy_process_group()
    return {"network": network, "rank": rank, "status": status, "losses": losses, "final": final}
'''

CHECKPOINT = '''

def to_yaml(value: object, indent: str = "") -> str:
    """JSON laid out as YAML; floats keep a '.' so that YAML 1.1 reads 1.0e-05 as a number."""
    inner = indent + "  "
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(str(k))}: {to_yaml(v, inner)}" for k, v in value.items()]
        return "{\\n" + ",\\n".join(items) + "\\n" + indent + "}" if items else "{}"
    if isinstance(value, list):
        if not any(isinstance(v, (dict, list)) for v in value):
            return "[" + ", ".join(to_yaml(v) for v in value) + "]"
        return "[\\n" + ",\\n".join(inner + to_yaml(v, inner) for v in value) + "\\n" + indent + "]"
    if isinstance(value, float) and math.isfinite(value):
        text = repr(value)
        return text.replace("e", ".0e") if "e" in text and "." not in text else text
    return json.dumps(value)


def save_checkpoint(path: Path, network: Network, result: dict) -> None:
    """CHECKPOINT with the trained weights and a `trained` record, as `bp train --save` writes."""
    doc = copy.deepcopy(CHECKPOINT)
    for k, layer in enumerate(doc["network"]["layers"], start=1):
        layer["weights"] = getattr(network, f"W{k}").detach().double().tolist()
        if layer.get("bias", True):
            layer["biases"] = getattr(network, f"b{k}").detach().double().tolist()
    final = result["final"]
    doc["trained"] = {
        "epochs": EPOCHS_BEFORE + len(result["losses"]),
        "final_loss": final if math.isfinite(final) else None,
        "status": result["status"],
        "bp_version": BP_VERSION,
        "note": f"trained by PyTorch {torch.__version__} ({Path(__file__).name})",
    }
    text = f"# Saved by {Path(__file__).name}: the config with its PyTorch-trained weights.\\n"
    path.write_text(text + to_yaml(doc) + "\\n")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--save", type=Path, default=HERE / $checkpoint_literal)
    args = parser.parse_args(argv)
    result = train(args.epochs)
    summary = {
        "name": NAME,
        "status": result["status"],
        "epochs_run": len(result["losses"]),
        "losses": [v if math.isfinite(v) else None for v in result["losses"]],
        "final_loss": result["final"] if math.isfinite(result["final"]) else None,
        "checkpoint": str(args.save),
    }
    if result["rank"] == 0:
        if result["status"] != "diverged":
            save_checkpoint(args.save, result["network"], result)
        print(json.dumps(summary, indent=2))
    return summary


if __name__ == "__main__":
    main()
'''
