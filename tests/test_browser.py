"""The HTML pages in a real browser: Playwright driving the system's chromium, headless.

One browser for the whole session (it is the slow part); each test opens a fresh
page. `.ci/run` installs Debian's chromium when missing, so in CI these tests run;
elsewhere they are skipped when no chromium is found. Screenshots of the reference
example go to the test's temporary folder, to look at when a run fails.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from networks import NET_222
from typer.testing import CliRunner

from cli.app import app

CHROMIUM = os.environ.get("BP_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# SPEC §2, as the page's steps write them (each step's <math> alttexts, joined).
REFERENCE = [
    "x1 = 2",
    "H1 = x1 * xh1 = 2 * 2 = 4",
    "A1 = phi(H1) = 2 * 4 = 8",
    "H21 = A1 * hh1 = 8 * 0.75 = 6",
    "A21 = phi(H21) = 2 * 6 = 12",
    "H22 = A1 * hh2 = 8 * 0.25 = 2",
    "A22 = phi(H22) = 2 * 2 = 4",
    "Y_in = A21 * hy1 + A22 * hy2 = 12 * 0.25 + 4 * 0.5 = 5",
    "Y = phi(Y_in) = 2 * 5 = 10",
    "T = 2",
    "Y - T = 10 - 2 = 8",
    "dy/dA21 = dy/dY_in * dY_in/dA21 = phi'(Y_in) * hy1 = 2 * 0.25 = 0.5",
    "dy/dA22 = dy/dY_in * dY_in/dA22 = phi'(Y_in) * hy2 = 2 * 0.5 = 1",
    "dA21/dA1 = dA21/dH21 * dH21/dA1 = phi'(H21) * hh1 = 2 * 0.75 = 1.5",
    "dA22/dA1 = dA22/dH22 * dH22/dA1 = phi'(H22) * hh2 = 2 * 0.25 = 0.5",
    "dA1/dxh1 = dA1/dH1 * dH1/dxh1 = phi'(H1) * x1 = 2 * 2 = 4",
    "dL/dxh1 = dL/dy * [dy/dA21 * dA21/dA1 * dA1/dxh1 + dy/dA22 * dA22/dA1 * dA1/dxh1]"
    " = 8 * [0.5 * 1.5 * 4 + 1 * 0.5 * 4] = 40",
    "delta(3) = phi'(Y_in) * (Y - T) = 2 * 8 = 16",
    "delta_1(2) = phi'(H21) * hy1 * delta(3) = 2 * 0.25 * 16 = 8",
    "delta_2(2) = phi'(H22) * hy2 * delta(3) = 2 * 0.5 * 16 = 16",
    "delta(1) = phi'(H1) * [hh1 * delta_1(2) + hh2 * delta_2(2)] = 2 * [0.75 * 8 + 0.25 * 16] = 20",
    "dL/dxh1 = delta(1) * x1 = 20 * 2 = 40",
    "xh1_new = xh1 - eta * dL/dxh1 = 2 - 0.03 * 40 = 0.8",
    "Y = phi(Y_in) = 2 * 2 = 4",
    "Y - T = 4 - 2 = 2",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"no chromium at {CHROMIUM}: .ci/run installs it")
        pytest.skip("chromium is not installed (set BP_CHROMIUM to its path)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _write(folder: Path, name: str, args: list[str]) -> Path:
    path = folder / name
    result = CliRunner().invoke(app, [*args, "-o", str(path)])
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture(scope="session")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pages")
    (folder / "net222.yaml").write_text(NET_222)
    return {
        "xh1": _write(folder, "xh1.html", ["explain", "-w", "xh1", "-f", "html"]),
        "net222": _write(
            folder,
            "net222.html",
            ["explain", str(folder / "net222.yaml"), "-w", "xh11", "-f", "html"],
        ),
        "iris": _write(folder, "iris.html", ["show", "configs/iris.yaml", "-f", "html"]),
        "two": _write(
            folder,
            "two.html",
            ["explain", str(folder / "net222.yaml"), "-w", "xh11", "-w", "hy21", "-f", "html"],
        ),
    }


class Opened:
    """A page with every request and console message recorded."""

    def __init__(self, browser: Any, path: Path, width: int, fragment: str = "") -> None:
        self.context = browser.new_context(viewport={"width": width, "height": 800})
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.url = path.as_uri()
        self.page.goto(self.url + fragment)

    def counter(self) -> str:
        return self.page.inner_text(".derivation.current .counter")

    def lit(self) -> list[str]:
        return self.page.eval_on_selector_all(".bp-net .focus", "els => els.map(e => e.id)")

    def overflow(self) -> int:
        return self.page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def opened(browser: Any) -> Iterator[Any]:
    made: list[Opened] = []

    def open_(path: Path, width: int = 1200, fragment: str = "") -> Opened:
        made.append(Opened(browser, path, width, fragment))
        return made[-1]

    yield open_
    for o in made:
        o.close()


def test_reference_page_offline_stepping_and_screenshots(opened, pages, tmp_path: Path) -> None:
    o = opened(pages["xh1"])
    assert o.requests == [o.url]  # the file itself, nothing else
    assert o.errors == []
    total = len(REFERENCE) and o.page.locator(".steps .step").count()
    assert o.counter() == f"step 1 of {total}"
    assert o.lit() == ["n0_1"]  # x1 = 2
    o.page.screenshot(path=str(tmp_path / "xh1-1200-step1.png"))
    o.page.keyboard.press("ArrowRight")
    assert o.counter() == f"step 2 of {total}"
    assert o.lit() == ["e1_1_1", "n0_1", "n1_1"]  # H1 = x1 * xh1: the edge and both ends
    assert o.page.evaluate("location.hash") == "#step-2"
    o.page.click(".derivation.current .next")
    assert o.counter() == f"step 3 of {total}" and o.lit() == ["n1_1"]
    o.page.keyboard.press("End")
    assert o.counter() == f"step {total} of {total}"
    o.page.keyboard.press("ArrowRight")  # stays at the last step
    assert o.counter() == f"step {total} of {total}"
    o.page.keyboard.press("Home")
    assert o.counter() == f"step 1 of {total}"
    o.page.keyboard.press("ArrowLeft")
    assert o.counter() == f"step 1 of {total}"
    # Only the current step shows; its math has a size.
    visible = o.page.eval_on_selector_all(
        ".steps .step", "els => els.filter(e => e.offsetParent !== null).map(e => e.id)"
    )
    assert visible == ["step-1"]
    assert o.errors == []


def test_url_fragment_restores_the_step(opened, pages, tmp_path: Path) -> None:
    o = opened(pages["xh1"], fragment="#step-21")
    total = o.page.locator(".steps .step").count()
    assert o.counter() == f"step 21 of {total}"
    assert o.page.get_attribute("#step-21", "class") == "step current"
    # dL/dxh1 = dL/dy * [...]: every edge on xh1's paths lights up.
    assert o.lit() == [
        "e1_1_1", "e2_1_1", "e2_1_2", "e3_1_1", "e3_2_1", "n0_1", "n1_1", "n2_1", "n2_2", "n3_1"
    ]  # fmt: skip
    o.page.screenshot(path=str(tmp_path / "xh1-1200-step21.png"))
    o.page.evaluate("location.hash = '#step-5'")
    o.page.wait_for_function("document.querySelector('.counter').textContent.startsWith('step 5 ')")
    assert o.errors == []


def test_every_number_of_spec_2_is_on_the_page(opened, pages) -> None:
    o = opened(pages["xh1"])
    o.page.emulate_media(media="print")
    found = o.page.eval_on_selector_all(
        ".steps .step",
        "els => els.map(e => Array.from(e.querySelectorAll('math'))"
        ".map(m => m.getAttribute('alttext')).join(' '))",
    )
    positions = [found.index(line) if line in found else -1 for line in REFERENCE]
    assert -1 not in positions, [line for line in REFERENCE if line not in found]
    assert positions == sorted(positions)  # in the derivation's order
    # The rendered math shows the same numbers (· for *): H1=x1·xh1=2·2=4.
    texts = o.page.eval_on_selector_all(".steps .step", "els => els.map(e => e.textContent)")
    for line in REFERENCE:
        numbers = re.findall(r"\d+(?:\.\d+)?", line.split(" = ", 1)[-1].split("=", 1)[-1])
        shown = re.findall(r"\d+(?:\.\d+)?", texts[found.index(line)])
        assert shown[-len(numbers) :] == numbers, line


def test_math_has_size_and_nothing_overflows(opened, pages, tmp_path: Path) -> None:
    for name in ("xh1", "net222", "iris"):
        o = opened(pages[name])
        for width in (1200, 360):
            o.page.set_viewport_size({"width": width, "height": 800})
            assert o.overflow() <= 0, (name, width)
            sizes = o.page.eval_on_selector_all(
                "math",
                "els => els.filter(e => e.closest('.step').offsetParent !== null)"
                ".map(e => [e.getBoundingClientRect().width, e.getBoundingClientRect().height])",
            )
            assert all(w > 0 and h > 0 for w, h in sizes), (name, width)
            if name == "xh1":
                o.page.screenshot(path=str(tmp_path / f"xh1-{width}.png"), full_page=width < 400)
        o.page.emulate_media(media="print")
        assert o.overflow() <= 0, (name, "print")
        assert o.errors == []


def test_print_shows_every_step_and_no_controls(opened, pages) -> None:
    o = opened(pages["xh1"])
    assert o.page.is_visible(".controls")
    o.page.emulate_media(media="print")
    assert not o.page.is_visible(".controls")
    total = o.page.locator(".steps .step").count()
    shown = o.page.eval_on_selector_all(
        ".steps .step", "els => els.filter(e => e.offsetParent !== null).length"
    )
    assert shown == total
    sizes = o.page.eval_on_selector_all(
        "math",
        "els => els.map(e => e.getBoundingClientRect().width * e.getBoundingClientRect().height)",
    )
    assert len(sizes) >= len(REFERENCE) and min(sizes) > 0


def test_without_script_the_page_is_the_whole_derivation(browser, pages) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 800})
    try:
        page = context.new_page()
        page.goto(pages["xh1"].as_uri())
        total = page.locator(".steps .step").count()
        shown = page.eval_on_selector_all(
            ".steps .step", "els => els.filter(e => e.offsetParent !== null).length"
        )
        assert shown == total > 30
        assert not page.is_visible(".controls")
    finally:
        context.close()


def boxes(o: Opened) -> tuple[list[list[float]], list[list[float]]]:
    """Client rects of the drawing's label texts and of its node circles."""
    rect = (
        "e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; }"
    )
    labels = o.page.eval_on_selector_all(
        ".bp-net text.label, .bp-net text.caption", f"els => els.map({rect})"
    )
    circles = o.page.eval_on_selector_all(".bp-net circle", f"els => els.map({rect})")
    return labels, circles


def overlap(a: list[float], b: list[float], slack: float = 0.5) -> bool:
    return (
        a[0] + slack < b[2] and b[0] + slack < a[2] and a[1] + slack < b[3] and b[1] + slack < a[3]
    )


@pytest.mark.parametrize("name", ["net222", "iris"])
def test_rendered_labels_do_not_overlap(opened, pages, name: str, tmp_path: Path) -> None:
    o = opened(pages[name])
    labels, circles = boxes(o)
    assert len(labels) >= 12
    for a, b in itertools.combinations(labels, 2):
        assert not overlap(a, b), (a, b)
    for a, c in itertools.product(labels, circles):
        assert not overlap(a, c), (a, c)
    o.page.locator("svg.bp-net").screenshot(path=str(tmp_path / f"{name}.png"))


def test_several_weights_step_through_one_page(opened, pages) -> None:
    o = opened(pages["two"])
    total = o.page.locator(".steps .step").count()
    assert o.counter() == f"step 1 of {total}"
    assert o.page.eval_on_selector(".derivation.current", "e => e.id") == "weight-w1_1_1"
    o.page.click("a[href='#weight-w2_2_1']")  # the summary table's link: that weight's first step
    o.page.wait_for_function("document.querySelector('.derivation.current').id === 'weight-w2_2_1'")
    first = o.page.eval_on_selector("#weight-w2_2_1 .step", "e => e.id")
    assert o.page.evaluate("location.hash") == f"#{first}"
    o.page.keyboard.press("ArrowLeft")  # back into the first weight's last step
    assert o.page.eval_on_selector(".derivation.current", "e => e.id") == "weight-w1_1_1"
    assert all(i.startswith("d1-") for i in o.lit())
    assert o.errors == []
