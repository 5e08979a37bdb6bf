"""Printing the results as Markdown tables (pasteable into the README)."""

from __future__ import annotations

import statistics
from typing import Any

from benchmarks.workloads import Workload

NAMES = {
    "numpy": "plain NumPy loop",
    "bp": "bp",
    "bp-scalar": "bp, scalar path",
    "torch": "PyTorch",
}


def _print(*lines: str) -> None:
    print(*lines, sep="\n", flush=True)


def machine(m: dict[str, Any]) -> None:
    kernel = m.get("kernel") or "(install threadpoolctl to see the kernel)"
    _print(
        "## Machine",
        f"- CPU: {m['cpu']}, {m['cores']} cores; Python {m['python']}",
        f"- NumPy {m['numpy']}, BLAS {m['blas']}, kernel {kernel}, "
        f"{m.get('blas_threads', '?')} BLAS threads; OPENBLAS_* set: {m['openblas_env'] or 'none'}",
        f"- PyTorch: {m['torch'] or 'not installed'}",
        "",
    )


def peak(p: dict[str, Any], size: int) -> None:
    cells = [f"{_gflops(r):.1f} GFLOP/s {d}" for d, r in p.items()]
    _print(f"matmul peak ({size}³, NumPy): " + ", ".join(cells), "")


def _gflops(r: dict[str, Any]) -> float:
    return float(r["flops"] / statistics.median(r["times"]) / 1e9)


def workload(w: Workload, row: dict[str, Any], peaks: dict[str, Any]) -> None:
    steps = w.epochs * w.steps_per_epoch
    peak_gflops = _gflops(peaks[w.dtype])
    base = statistics.median(row["numpy"]["times"])
    torch = statistics.median(row["torch"]["times"]) if "torch" in row else None
    lines = [
        f"### {w.title} ({w.name}: {w.samples} samples, {steps} updates per repetition, "
        f"{len(row['numpy']['times'])} repetitions)",
        "",
        "| variant | per update | samples/s | GFLOP/s | of peak | time vs NumPy loop "
        "| time vs PyTorch | peak memory | memory / (data + params) | last loss |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for variant, r in row.items():
        t = statistics.median(r["times"])
        samples = w.epochs * w.samples / t
        gflops = w.flops_per_sample * samples / 1e9
        needed = r["data_mb"] + r["params_mb"]
        lines.append(
            f"| {NAMES[variant]} | {_duration(t / steps)} | {samples:,.0f} | {gflops:.2f} "
            f"| {gflops / peak_gflops:.0%} | {t / base:.2f}x "
            f"| {'-' if torch is None else f'{t / torch:.2f}x'} | {r['peak_mb']:.0f} MB "
            f"| {r['peak_mb'] / needed:.2f} | {r['loss']:.6g} |"
        )
    _print(*lines, "")


def _duration(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    return f"{seconds * 1e3:.2f} ms"


def _reference_command(reference: str) -> str:
    """`python -c "..."`, after the VAR=value settings a reference starts with."""
    words = reference.split(" ")
    settings = [w for w in words[: words.index("import")] if "=" in w]
    code = " ".join(words[len(settings) :])
    return " ".join([*settings, f'python -c "{code}"'])


def startup(s: dict[str, Any]) -> None:
    lines = [
        f"### Start-up (medians of {s['repeats']} interleaved runs; CPU = user + system)",
        "",
        "| command | wall | CPU | reference | CPU vs reference (median of pairs) |",
        "| --- | ---: | ---: | --- | ---: |",
    ]
    rows = s["rows"]
    for name, r in rows.items():
        if "reference" not in r:
            continue
        ref = r["reference"]
        lines.append(
            f"| `{name}` | {r['wall'] * 1e3:.0f} ms | {r['cpu'] * 1e3:.0f} ms "
            f"| `{_reference_command(ref)}` ({rows[ref]['cpu'] * 1e3:.0f} ms) | {r['ratio']:.2f}x |"
        )
    for name, modules in s["imports"].items():
        lines.append("")
        found = ", ".join(modules) or "none of numpy, pydantic, yaml, backprop_core.engine, rich"
        lines.append(f"`{name}` imports: {found}")
    _print(*lines, "")


def csv(r: dict[str, Any]) -> None:
    lines = [
        f"### Reading a CSV file of {r['numbers']:,} numbers ({r['file_mb']:.0f} MB; "
        f"its float64 array {r['array_mb']:.0f} MB)",
        "",
        "| reader | time | time per GB of CSV | peak memory (above start, children added) "
        "| vs float64 array | peak per GB of CSV |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, x in r["readers"].items():
        t, peak = statistics.median(x["seconds"]), max(x["peak_mb"])
        per_gb = 1024 / r["file_mb"]
        lines.append(
            f"| {name} | {t:.2f} s | {t * per_gb:.1f} s | {peak:.0f} MB "
            f"| {peak / r['array_mb']:.2f}x | {peak * per_gb / 1024:.2f} GB |"
        )
    _print(*lines, "")


def npz(r: dict[str, Any]) -> None:
    needed = r["data_mb"] + r["params_mb"]
    _print(
        f"### Training one epoch from a float32 .npz file ({r['rows']:,} rows, 784-256-128-10)",
        "",
        f"Whole-process peak memory {r['peak_mb']:.0f} MB for {needed:.0f} MB of data and "
        f"parameters ({r['peak_mb'] / needed:.2f}x), {r['seconds']:.1f} s from config to trained.",
        "",
    )


def checks(results: list[tuple[str, bool, str]]) -> None:
    lines = ["### Targets", "", "| target | measured | verdict |", "| --- | --- | --- |"]
    for target, met, measured in results:
        lines.append(f"| {target} | {measured} | {'met' if met else '**missed**'} |")
    _print(*lines, "")


def rendering(r: dict[str, Any], epochs: int) -> None:
    lines = [
        f"### Rendering cost, `bp train --epochs {epochs}` on a terminal",
        "",
        "| config | table + bar | --quiet | rendering share |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, t in r.items():
        share = (t["shown"] - t["quiet"]) / t["shown"]
        shown, quiet = t["shown"] * 1e3, t["quiet"] * 1e3
        lines.append(f"| {name} | {shown:.0f} ms | {quiet:.0f} ms | {share:.1%} |")
    _print(*lines, "")


def width(rows: dict[str, dict[str, Any]], widths: dict[str, int]) -> None:
    """Time per epoch by width, reused buffers against arrays made afresh."""
    first = next(iter(rows))
    base = statistics.median(rows[first]["bp"]["times"])
    lines = [
        "### Width: time per epoch, one hidden layer (bp, reused buffers vs made afresh)",
        "",
        "| width | bp | vs narrowest | linear would be | arrays made afresh | reuse speed-up |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, row in rows.items():
        t = statistics.median(row["bp"]["times"])
        fresh = statistics.median(row["bp-fresh"]["times"])
        lines.append(
            f"| {widths[name]} | {_duration(t)} | {t / base:.2f}x "
            f"| {widths[name] / widths[first]:.0f}x | {_duration(fresh)} | {fresh / t:.2f}x |"
        )
    _print(*lines, "")
