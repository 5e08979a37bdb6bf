"""One self-contained HTML page: the stylesheet and script inline, nothing fetched.

Both pages (`bp explain --format html`, `bp show --format html`) are built here:
no CDN, no web font, no image file, so a page opens offline and can be mailed
as one file. The layout is one column on a phone and puts the drawing beside
the steps from 900 px up; the print stylesheet shows every step and no controls.
"""

from __future__ import annotations

from html import escape

STYLE = """
:root { color-scheme: light; --ink: #222; --muted: #666; --rule: #ddd; --hot: #d62728; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 16px/1.5 system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif; }
header, main, footer { max-width: 1240px; margin: 0 auto; padding: 0 16px; }
h1 { font-size: 1.35rem; margin: 1rem 0 0.25rem; overflow-wrap: anywhere; }
h2, h3 { font-size: 1.1rem; margin: 1.2rem 0 0.4rem; border-bottom: 1px solid var(--rule); }
h2.weight { font-size: 1.2rem; border: none; }
code, kbd { font-family: 'DejaVu Sans Mono', Menlo, Consolas, monospace; font-size: 0.9em; }
.command { overflow-x: auto; white-space: nowrap; background: #f6f6f6; padding: 4px 8px;
  border-radius: 4px; }
.facts { color: var(--muted); margin: 0.4rem 0; padding-left: 1.2rem; }
.figure { margin: 0.5rem 0; overflow-x: auto; }
.figure svg { display: block; width: 100%; height: auto; max-height: 75vh; }
ol.legend { columns: 11em; column-gap: 1.5em; font-size: 0.85em; margin: 0.4rem 0;
  padding-left: 2.6em; }
.eq { overflow-x: auto; overflow-y: hidden; padding: 6px 0; }
.eq .line { padding: 0.2rem 0; white-space: nowrap; }
.eq math { math-style: normal; font-size: 1.15em;
  font-family: 'Latin Modern Math', 'STIX Two Math', 'Cambria Math', math; }
.step { margin: 0.3rem 0; padding: 0.35rem 0.6rem; border-left: 3px solid transparent; }
.step .samples, .note { color: var(--muted); font-size: 0.92em; margin: 0.2rem 0;
  overflow-wrap: anywhere; }
.summary { font-weight: 600; margin: 1rem 0 2rem; overflow-wrap: anywhere; }
.controls { display: none; }
table.weights { border-collapse: collapse; font-variant-numeric: tabular-nums; }
table.weights th, table.weights td { padding: 2px 10px; border-bottom: 1px solid var(--rule);
  text-align: left; }
table.weights td.num { text-align: right; }
.table-wrap { overflow-x: auto; }
/* With the script: one step at a time, the controls at hand. */
.js .derivation, .js .step, .js .steps > section > .heading,
.js .steps > section > .note { display: none; }
.js .derivation.current, .js .steps > section.current > .note { display: block; }
.js .step.current { display: block; border-left-color: var(--hot); background: #fff8f0; }
.js .steps > section.current > .heading { display: block; }
.js .controls { display: flex; gap: 8px; align-items: center; flex-wrap: wrap;
  padding: 8px 0; border-bottom: 1px solid var(--rule); }
.controls button { font: inherit; padding: 4px 14px; min-width: 44px; min-height: 36px; }
.controls .counter { font-variant-numeric: tabular-nums; min-width: 6.5em; }
.controls .hint { color: var(--muted); font-size: 0.85em; }
@media (max-width: 480px) { .controls .hint { display: none; } }
@media (min-width: 900px) {
  .stage { display: grid; grid-template-columns: minmax(0, 11fr) minmax(0, 9fr); gap: 24px;
    align-items: start; }
  .stage .figure { position: sticky; top: 8px; }
}
@media print {
  .controls { display: none !important; }
  .js .derivation, .js .step, .js .steps > section > .heading,
  .js .steps > section > .note { display: block; }
  .js .step.current { background: none; border-left-color: transparent; }
  .stage { display: block; }
  .figure svg { max-height: none; }
  .step { break-inside: avoid; }
}
"""


def page(title: str, body: str, script: str = "") -> str:
    """A complete HTML document; `script` runs after the body is parsed."""
    tail = f"<script>{script}</script>\n" if script else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        # Nothing may leave the page: no fetch, no image, no font from elsewhere.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n{body}\n{tail}</body>\n</html>\n"
    )
