"""`bp explain --format html`: the derivation as a page you step through on the drawing.

One self-contained file (cli/render/html_page.py): the network as inline SVG with
the explained weight marked and the edges off its paths dimmed, every step of the
derivation as MathML with its numbers. With the script, ←/→ (or the buttons) walk
the steps in order, Home/End jump to the ends, each step lights up the nodes and
edges it uses, and the URL fragment (``#step-12``) keeps the step, so a link opens
at it. Without the script, or printed, the page is the whole derivation, in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from backprop_core.explain.expr import render_text
from backprop_core.explain.focus import Focus
from cli.render.explain_text import sample_values, summary, title
from cli.render.html_page import page
from cli.render.mathml import math, mathml, number
from cli.render.numbers import num

ONE_LINE = 64  # characters of plain formula above which each "= ..." gets its own line

SCRIPT = """
(function () {
  var root = document.documentElement;
  root.classList.add('js');
  var steps = Array.prototype.slice.call(document.querySelectorAll('.steps .step'));
  var counters = document.querySelectorAll('.controls .counter');
  var current = -1;
  function indexOf(hash) {
    // A step's id, or a weight's article (the summary table's links): its first step.
    var target = document.getElementById(decodeURIComponent((hash || '').replace(/^#/, '')));
    if (target && target.tagName === 'ARTICLE') target = target.querySelector('.step');
    return steps.indexOf(target);
  }
  function show(i) {
    i = Math.max(0, Math.min(steps.length - 1, i));
    if (!steps.length) return;
    if (current >= 0) {
      steps[current].classList.remove('current');
      steps[current].parentNode.classList.remove('current');
      steps[current].closest('article').classList.remove('current');
    }
    var lit = document.querySelectorAll('.bp-net .focus');
    for (var k = 0; k < lit.length; k++) lit[k].classList.remove('focus');
    current = i;
    var step = steps[i];
    step.classList.add('current');
    step.parentNode.classList.add('current');
    step.closest('article').classList.add('current');
    (step.getAttribute('data-focus') || '').split(' ').forEach(function (id) {
      var el = id && document.getElementById(id);
      if (el) el.classList.add('focus');
    });
    for (var c = 0; c < counters.length; c++) {
      counters[c].textContent = 'step ' + (i + 1) + ' of ' + steps.length;
    }
    if (location.hash !== '#' + step.id) {
      try { history.replaceState(null, '', '#' + step.id); } catch (e) { /* some file: URLs */ }
    }
  }
  function on(name, to) {
    var buttons = document.querySelectorAll('.controls .' + name);
    for (var b = 0; b < buttons.length; b++) {
      buttons[b].addEventListener('click', function () { show(to()); });
    }
  }
  on('first', function () { return 0; });
  on('prev', function () { return current - 1; });
  on('next', function () { return current + 1; });
  on('last', function () { return steps.length - 1; });
  document.addEventListener('keydown', function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    var last = steps.length - 1;
    var to = { ArrowRight: current + 1, ArrowLeft: current - 1, Home: 0, End: last }[event.key];
    if (to === undefined) return;
    event.preventDefault();
    show(to);
  });
  window.addEventListener('hashchange', function () {
    var i = indexOf(location.hash);
    if (i >= 0 && i !== current) show(i);
  });
  // A printout is the whole derivation: no step lit on the drawing.
  window.addEventListener('beforeprint', function () {
    var lit = document.querySelectorAll('.bp-net .focus');
    for (var k = 0; k < lit.length; k++) lit[k].classList.remove('focus');
  });
  window.addEventListener('afterprint', function () { show(current); });
  var start = indexOf(location.hash);
  show(start >= 0 ? start : 0);
})();
"""


def step_html(step: Any, position: int, focus: Focus, prefix: str = "") -> str:
    """One step, ``lhs = formula = numbers = value``, as MathML from its expression
    trees; a long one gets a line per ``= ...``; per-sample values below."""
    value = step.value_text
    trees = [e for e in (step.explains, step.formula, step.numbers) if e is not None]
    parts = [*(mathml(e) for e in trees), number(value)]
    texts = [*(render_text(e) for e in trees), value]
    # Parts packed into lines of up to ONE_LINE characters of plain text, each
    # line after the first opening with "=": a long step never runs off a phone.
    groups: list[tuple[list[str], list[str]]] = [([mathml(step.lhs)], [step.symbol])]
    used = len(step.symbol)
    for index, (part, text) in enumerate(zip(parts, texts, strict=True)):
        if index and used + 3 + len(text) > ONE_LINE:
            groups.append((["<mrow></mrow>"], [""]))
            used = 0
        groups[-1][0].append(part)
        groups[-1][1].append(text)
        used += 3 + len(text)
    lines = [math(ml, " = ".join(tx).lstrip()) for ml, tx in groups]
    # Inline math, one per line, in display style: left-aligned, full-size fractions.
    body = "".join(f'<div class="line">{line}</div>' for line in lines)
    lit = " ".join(prefix + i for i in focus.ids())
    out = [
        f'<div class="step" id="step-{position}" data-focus="{lit}">',
        f'<div class="eq">{body}</div>',
    ]
    if step.samples is not None:
        per = sample_values(step.samples)
        out.append(f'<p class="samples">per sample: {escape(per)}; mean {escape(value)}</p>')
    if step.table is not None:
        out.append(sample_table(step.table))
    out.append("</div>")
    return "\n".join(out)


def sample_table(table: Any) -> str:
    """A path's factors and product per sample, then their means."""
    head = "".join(f"<th>{math([mathml(c)], render_text(c))}</th>" for c in table.columns)
    out = [
        '<div class="table-wrap"><table class="weights">',
        f"<thead><tr><th>sample</th>{head}</tr></thead><tbody>",
    ]
    for index, values in table.rows:
        cells = "".join(f'<td class="num">{num(v)}</td>' for v in values)
        out.append(f'<tr><td class="num">{index}</td>{cells}</tr>')
    if table.skipped:
        out.append(f'<tr><td colspan="{len(table.columns) + 1}">... {table.skipped} more</td></tr>')
    mean = "".join(f'<td class="num"><b>{num(v)}</b></td>' for v in table.mean)
    out.append(f"<tr><td><b>mean</b></td>{mean}</tr></tbody></table></div>")
    return "".join(out)


CONTROLS = """\
<div class="controls" role="group" aria-label="step through the derivation">
<button type="button" class="first" aria-label="first step">⇤</button>
<button type="button" class="prev" aria-label="previous step">←</button>
<span class="counter" aria-live="polite">{total} steps</span>
<button type="button" class="next" aria-label="next step">→</button>
<button type="button" class="last" aria-label="last step">⇥</button>
<span class="hint">keys: ← → Home End</span>
</div>"""


def derivation(
    x: Any, drawing: str | None, focus: list[list[Focus]], first: int, total: int, index: int
) -> tuple[list[str], int]:
    """One weight's derivation as an <article>: facts, drawing, controls and steps.
    Steps are numbered on from `first`; returns the lines and the next number.
    `index` > 0 (several weights on the page) prefixes the drawing's ids."""
    prefix = f"d{index}-" if index else ""
    heading = "h3" if index else "h2"
    out = [f'<article class="derivation" id="weight-{escape(x.canonical)}">']
    if index:
        out.append(f'<h2 class="weight">{escape(title(x))}</h2>')
    out.append('<ul class="facts">' + "".join(f"<li>{escape(d)}</li>" for d in x.description))
    out.append("</ul>")
    out.append('<div class="stage">')
    if drawing:
        caption = (
            f"Blue: {x.alias}, the weight explained. Red: the paths from it to the output, "
            "one chain-rule term each. Grey: edges off those paths. "
            "Orange: what the current step uses."
        )
        out += [
            '<figure class="figure">',
            drawing,
            f'<figcaption class="note">{escape(caption)}</figcaption>',
            "</figure>",
        ]
    # The controls come first: on a phone they stay in reach above the step.
    out += ['<div class="steps">', CONTROLS.format(total=total)]
    number = first
    for section, found in zip(x.sections, focus, strict=True):
        if not section.steps and not section.notes:
            continue
        out.append(f'<section id="sec-{prefix}{escape(section.key)}">')
        out.append(f'<{heading} class="heading">{escape(section.title)}</{heading}>')
        for step, f in zip(section.steps, found, strict=True):
            out.append(step_html(step, number, f, prefix))
            number += 1
        out += [f'<p class="note">{escape(note)}</p>' for note in section.notes]
        out.append("</section>")
    out += ["</div>", "</div>", f'<p class="summary">{escape(summary(x))}</p>', "</article>"]
    return out, number


def summary_rows(xs: Sequence[Any]) -> list[str]:
    """Several weights: one row each (value, gradient, update), linking to its derivation."""
    out = ['<div class="table-wrap"><table class="weights">']
    out.append(
        "<thead><tr><th>weight</th><th>name</th><th>value</th><th>dL/dw</th>"
        "<th>new value</th></tr></thead><tbody>"
    )
    for x in xs:
        cells = [
            f'<td><a href="#weight-{escape(x.canonical)}">{escape(x.alias)}</a></td>',
            f"<td>{escape(x.canonical)}</td>",
            *(f'<td class="num">{num(v)}</td>' for v in (x.value, x.grad, x.new_value)),
        ]
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table></div>")
    return out


def render(
    xs: Sequence[Any],
    command: str,
    drawings: Sequence[str | None],
    focus: Sequence[list[list[Focus]]],
) -> str:
    """The page for one or several explained weights. `drawings`: per weight, the
    network as inline SVG with that weight's paths (None when too large to draw);
    `focus`: per weight, per section, per step, what the step uses on the drawing."""
    heading = title(xs[0]) if len(xs) == 1 else f"dL/dw for {len(xs)} weights, step by step"
    body = [
        "<header>",
        f"<h1>{escape(heading)}</h1>",
        f'<p class="command"><code>{escape(command)}</code></p>',
    ]
    if len(xs) > 1:
        body += summary_rows(xs)
    body += ["</header>", "<main>"]
    total = sum(len(section.steps) for x in xs for section in x.sections)
    number = 1
    for index, (x, drawing, found) in enumerate(zip(xs, drawings, focus, strict=True)):
        lines, number = derivation(x, drawing, found, number, total, index if len(xs) > 1 else 0)
        body += lines
    body.append("</main>")
    return page(heading, "\n".join(body), SCRIPT)
