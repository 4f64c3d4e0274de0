"""report.md and index.html over the completed stages of an output directory.

Both list every completed stage in report order: a summary first (what was
run, on which data, how long, the claims table when a stage wrote
``claims.json``), a list of the stages, one section per stage with its
figures and captions, and the key numbers last, grouped by stage. The HTML
pages are self-contained: no script, style sheet, font or image is loaded
from outside the output directory, and equations are presentation MathML
(rendered natively by current browsers) with their TeX kept alongside.
report.md writes equations as ``$...$`` for code hosts that render them.
"""

from __future__ import annotations

import html
import json
import re
import time
from html.entities import html5
from pathlib import Path

import sympy as sp
from sympy.printing.mathml import MathMLPresentationPrinter

from meanfield import __version__

VERDICTS = ("supported", "partly", "contradicted")
CLAIM_COLUMNS = ("claim", "authors", "ours", "verdict", "rule")
STYLE = """
body{font-family:system-ui,sans-serif;line-height:1.45;max-width:1050px;margin:auto;padding:1em 1.5em;color:#222}
h1{font-size:1.7em}h2{margin-top:2em;border-bottom:1px solid #ccc;padding-bottom:.2em}
table{border-collapse:collapse;margin:.8em 0}td,th{border:1px solid #ccc;padding:3px 8px;vertical-align:top}
th{background:#f3f3f3;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.group th{background:#e6ecf5}code{font-size:.9em}
figure{margin:1.5em 0}figure img{max-width:100%;height:auto}figcaption{font-style:italic;color:#333}
blockquote{margin:.5em 0;padding:.2em .8em;border-left:3px solid #aac;color:#333}
.supported{background:#e3f4e1}.partly{background:#fff3cd}.contradicted{background:#f8d7da}
nav ol{columns:2}math[display=block]{margin:.4em 0 .2em 1em;font-size:1.15em}
details{margin:0 0 1em 1em;color:#555}details pre{white-space:pre-wrap;background:#f6f6f6;padding:.4em}
.step{margin-top:1.2em}.warning{background:#fff3cd;padding:.4em .8em}
"""


# -- equations ---------------------------------------------------------------------------------

_ACCENTS = {"bar": "\u00af", "hat": "^", "tilde": "~", "dot": "\u02d9", "vec": "\u2192"}


class _Printer(MathMLPresentationPrinter):
    """sympy's presentation MathML with e and i as letters and the accents sympy's LaTeX printer reads (Ubar)."""

    def _print_Exp1(self, e):
        return self._letter("e")

    def _print_ImaginaryUnit(self, e):
        return self._letter("i")

    def _letter(self, text, tag="mi"):
        x = self.dom.createElement(tag)
        x.appendChild(self.dom.createTextNode(text))
        return x

    def _print_Function(self, e):
        """name(args) with the thin space before an operator name that TeX's \\operatorname gives."""
        mrow = super()._print_Function(e)
        if len(self.mathml_tag(e)) > 1:
            space = self.dom.createElement("mspace")
            space.setAttribute("width", "0.17em")
            mrow.insertBefore(space, mrow.firstChild)
        mrow.insertBefore(self._letter("\u2061", "mo"), mrow.lastChild)
        return mrow

    def _print_Piecewise(self, e):
        """A left brace over rows 'value, if condition' ('otherwise' for the final True)."""
        table = self.dom.createElement("mtable")
        table.setAttribute("columnalign", "left left")
        for value, cond in e.args:
            row = self.dom.createElement("mtr")
            for cell in (self._print(value), self._letter("otherwise", "mtext") if cond == sp.true else self._print(cond)):
                td = self.dom.createElement("mtd")
                td.appendChild(cell)
                row.appendChild(td)
            table.appendChild(row)
        mrow = self.dom.createElement("mrow")
        mrow.appendChild(self._letter("{", "mo"))
        mrow.appendChild(table)
        return mrow

    def _print_Order(self, e):
        """O(expr), as sympy's LaTeX printer writes an order term at 0."""
        mrow = self.dom.createElement("mrow")
        mrow.appendChild(self._letter("O"))
        mrow.appendChild(self._paren_comma_separated(e.expr))
        return mrow

    def _print_Symbol(self, sym, style="plain"):
        for suffix, accent in _ACCENTS.items():
            if sym.name.endswith(suffix) and len(sym.name) > len(suffix) and "_" not in sym.name and "^" not in sym.name:
                x = self.dom.createElement("mover")
                x.setAttribute("accent", "true")
                x.appendChild(super()._print_Symbol(sp.Symbol(sym.name[: -len(suffix)]), style))
                mo = self.dom.createElement("mo")
                mo.appendChild(self.dom.createTextNode(accent))
                x.appendChild(mo)
                return x
        return super()._print_Symbol(sym, style)


def _named_entities_as_characters(markup: str) -> str:
    keep = {"lt", "gt", "amp", "quot", "apos"}
    return re.sub(r"&([A-Za-z]+);", lambda m: m.group(0) if m.group(1) in keep else html5.get(m.group(1) + ";", m.group(0)),
                  markup)


def equation_html(expr) -> str:
    """A display equation: presentation MathML with the TeX as its annotation and in a <details> to copy."""
    tex = sp.latex(expr)
    mathml = _named_entities_as_characters(_Printer().doprint(expr)).replace("<mo>-</mo>", "<mo>\u2212</mo>")
    return (f"<math display='block'><semantics>{mathml}"
            f"<annotation encoding='application/x-tex'>{html.escape(tex)}</annotation></semantics></math>"
            f"<details><summary>TeX</summary><pre><code>{html.escape(tex)}</code></pre></details>")


def equation_markdown(expr) -> str:
    """A display equation for report Markdown: ``$$`` fences on their own lines (rendered by code hosts)."""
    return f"$$\n{sp.latex(expr)}\n$$"


def html_page(title: str, body: str) -> str:
    """A complete, self-contained HTML page (inline style, nothing fetched)."""
    return (f"<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n<body>\n{body}\n</body></html>\n")


# -- claims -----------------------------------------------------------------------------------

def read_claims(path: Path) -> list[dict]:
    """The rows of a stage's claims.json: a list of {claim, authors, ours, verdict, rule}; ValueError naming the file."""
    try:
        rows = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{str(path)!r} is damaged ({exc})") from None
    if not isinstance(rows, list) or not all(isinstance(r, dict) and set(CLAIM_COLUMNS) <= r.keys() for r in rows):
        raise ValueError(f"{str(path)!r} is not a list of rows with keys {', '.join(CLAIM_COLUMNS)}")
    return [{k: str(r[k]) for k in CLAIM_COLUMNS} for r in rows]


def _claims(out: Path, records: list[dict]) -> list[tuple[dict, list[dict] | str]]:
    """(record, rows or the reason they cannot be shown) for each stage with a claims.json."""
    found = []
    for r in records:
        path = out / r["stage"] / "claims.json"
        if path.exists():
            try:
                found.append((r, read_claims(path)))
            except ValueError as exc:
                found.append((r, str(exc)))
    return found


# -- formatting ---------------------------------------------------------------------------------

def _fmt(v) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, list):
        return ", ".join(_fmt(x) for x in v[:8]) + (" …" if len(v) > 8 else "")
    return str(v)


def heading_anchor(title: str) -> str:
    """The anchor a code host gives a Markdown heading (lower case, punctuation dropped, spaces as hyphens)."""
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


def _md_cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _inputs(r: dict) -> dict:
    """The inputs that distinguish runs, in words."""
    inputs = r.get("inputs", {})
    data = inputs.get("data_sha256")
    return {
        "mode": "quick" if r.get("quick") else "full",
        "seed": str(r.get("seed")),
        "data": "no --data-dir" if not data else f"{r.get('data_dir')} ("
        + ", ".join(f"{f} sha256 {h[:12]}…" for f, h in data.items()) + ")",
        "options": ", ".join(f"{k}={v}" for k, v in sorted(inputs.get("options", {}).items())) or "none",
        "version": str(r.get("version")),
    }


def _this_run(r: dict) -> str:
    return {True: "reused", False: "computed", None: "earlier run"}[r.get("cached")]


def _summary(records: list[dict], missing: list[str], elapsed: float) -> tuple[list[str], dict]:
    """Sentences of the summary (plain text) and the inputs shared by every stage."""
    rows = [_inputs(r) for r in records]
    shared = {k: rows[0][k] for k in rows[0] if all(x[k] == rows[0][k] for x in rows)} if rows else {}
    total = sum(float(r.get("elapsed_s", 0)) for r in records)
    lines = [
        f"{len(records)} stage{'s' if len(records) != 1 else ''} completed"
        + (f"; not run yet: {', '.join(missing)}" if missing else " (all stages)") + ".",
        (f"Run: {shared.get('mode', 'mixed quick and full')} mode, seed {shared.get('seed', 'differs by stage')}, "
         f"meanfield {shared.get('version', 'versions differ by stage')}, "
         f"stage options: {shared.get('options', 'differ by stage')}."),
        f"Data: {shared.get('data', 'differs by stage')}; each stage's notes name the data it used.",
        (f"Time: {total:.1f} s of computation over the stages listed; this invocation took {elapsed:.1f} s "
         "(reused stages cost nothing)."),
    ]
    return lines, shared


# -- the report -----------------------------------------------------------------------------------

def write_report(out, records: list[dict], elapsed: float) -> None:
    """report.md and index.html in ``out`` (an open OutDir) from ``records`` (stage.json contents, report order).

    ``records[i]["cached"]`` is True (reused by this invocation), False
    (computed by it) or None (completed by an earlier one).
    """
    from meanfield.reproduce import stages

    root = Path(out.path)
    missing = [s.name for s in stages() if s.name not in {r["stage"] for r in records}]
    summary, shared = _summary(records, missing, elapsed)
    claims = _claims(root, records)
    stamp = time.strftime("%Y-%m-%d %H:%M %Z")
    out.write("report.md", _markdown(root, records, summary, shared, claims, stamp))
    out.write("index.html", _html(root, records, summary, shared, claims, stamp))


def _markdown(root, records, summary, shared, claims, stamp) -> str:
    md = ["# meanfield: reproduction report", "", f"Written {stamp} by meanfield {__version__}.", ""]
    md += [f"- {line}" for line in summary]
    if len(shared) < 5:
        md += ["", "| stage | mode | seed | data | options | version | time (s) | this invocation |",
               "|---|---|---|---|---|---|---|---|"]
        for r in records:
            i = _inputs(r)
            md.append(f"| {r['stage']} | {i['mode']} | {i['seed']} | {_md_cell(i['data'])} | {_md_cell(i['options'])} | "
                      f"{i['version']} | {r.get('elapsed_s')} | {_this_run(r)} |")
    for r, rows in claims:
        md += ["", f"## Claims: {r['title']}", ""]
        if isinstance(rows, str):
            md.append(f"The claims table cannot be shown: {rows}.")
            continue
        md += ["| " + " | ".join(CLAIM_COLUMNS) + " |", "|---|---|---|---|---|"]
        md += ["| " + " | ".join(_md_cell(row[k]) if k != "verdict" else f"**{_md_cell(row[k])}**" for k in CLAIM_COLUMNS)
               + " |" for row in rows]
    md += ["", "## Stages", ""]
    md += [f"{n}. [{r['title']}](#{heading_anchor(r['title'])})" for n, r in enumerate(records, 1)]
    md.append(f"{len(records) + 1}. [Key numbers](#key-numbers)")
    for r in records:
        i = _inputs(r)
        md += ["", f"## {r['title']}", "",
               f"`{r['stage']}/`: {i['mode']} mode, seed {i['seed']}, {r.get('elapsed_s')} s, {_this_run(r)}."]
        md += [""] + [f"> {n}\n" for n in r["notes"]] if r["notes"] else []
        for f in r["figures"]:
            md += ["", f"![{_md_cell(f['caption'])}]({r['stage']}/{f['file']})", "",
                   f"*{_md_cell(f['caption']).replace('*', '&#42;')}* (data: [`{r['stage']}/{f['data']}`]({r['stage']}/{f['data']}))"]
        if (root / r["stage"] / "page.md").exists():
            md += ["", f"Full page: [{r['stage']}/page.md]({r['stage']}/page.md)."]
    md += ["", "## Key numbers", "", "A blank unit means a pure number.", "",
           "| quantity | value | unit | key |", "|---|---|---|---|"]
    for r in records:
        if r["numbers"]:
            md.append(f"| **{_md_cell(r['title'])}** | | | |")
            md += [f"| {_md_cell(n['description'])} | {_md_cell(_fmt(n['value']))} | {_md_cell(n.get('unit', ''))} | "
                   f"`{n['key']}` |" for n in r["numbers"]]
    return "\n".join(md) + "\n"


def _html(root, records, summary, shared, claims, stamp) -> str:
    e = lambda text: html.escape(str(text), quote=True)
    body = ["<h1>meanfield: reproduction report</h1>",
            f"<p>Written {e(stamp)} by meanfield {e(__version__)}.</p>",
            "<section id='summary'><h2>Summary</h2><ul>" + "".join(f"<li>{e(line)}</li>" for line in summary) + "</ul>"]
    if len(shared) < 5:
        body.append("<p class='warning'>The stages were computed from different inputs:</p>"
                    "<table><tr><th>stage</th><th>mode</th><th>seed</th><th>data</th><th>options</th><th>version</th>"
                    "<th>time (s)</th><th>this invocation</th></tr>")
        for r in records:
            i = _inputs(r)
            body.append(f"<tr><td>{e(r['stage'])}</td><td>{e(i['mode'])}</td><td>{e(i['seed'])}</td><td>{e(i['data'])}</td>"
                        f"<td>{e(i['options'])}</td><td>{e(i['version'])}</td><td class='num'>{e(r.get('elapsed_s'))}</td>"
                        f"<td>{e(_this_run(r))}</td></tr>")
        body.append("</table>")
    for r, rows in claims:
        body.append(f"<h3>Claims: {e(r['title'])}</h3>")
        if isinstance(rows, str):
            body.append(f"<p class='warning'>The claims table cannot be shown: {e(rows)}.</p>")
            continue
        body.append("<table class='claims'><tr>" + "".join(f"<th>{c}</th>" for c in CLAIM_COLUMNS) + "</tr>")
        for row in rows:
            verdict = row["verdict"].lower()
            cls = f" class='{verdict}'" if verdict in VERDICTS else ""
            body.append(f"<tr{cls}>" + "".join(f"<td>{e(row[k])}</td>" if k != "verdict" else f"<td><b>{e(row[k])}</b></td>"
                                               for k in CLAIM_COLUMNS) + "</tr>")
        body.append("</table>")
    body.append("</section>")
    body.append("<nav id='stages'><h2>Stages</h2><ol>" + "".join(f"<li><a href='#{e(r['stage'])}'>{e(r['title'])}</a></li>"
                                                              for r in records)
                + "<li><a href='#key-numbers'>Key numbers</a></li></ol></nav>")
    figure_number = 0
    for r in records:
        i = _inputs(r)
        body.append(f"<section id='{e(r['stage'])}'><h2>{e(r['title'])}</h2>"
                    f"<p><code>{e(r['stage'])}/</code>: {e(i['mode'])} mode, seed {e(i['seed'])}, {e(r.get('elapsed_s'))} s, "
                    f"{e(_this_run(r))}.</p>")
        body += [f"<blockquote>{e(n)}</blockquote>" for n in r["notes"]]
        for f in r["figures"]:
            figure_number += 1
            body.append(f"<figure><img src='{e(r['stage'] + '/' + f['file'])}' alt='{e(f['caption'])}'>"
                        f"<figcaption>Figure {figure_number}. {e(f['caption'])} "
                        f"(<a href='{e(r['stage'] + '/' + f['data'])}'>data</a>)</figcaption></figure>")
        for page in ("page.html", "page.md"):
            if (root / r["stage"] / page).exists():
                body.append(f"<p>Full page: <a href='{e(r['stage'] + '/' + page)}'>{e(r['stage'] + '/' + page)}</a></p>")
                break
        body.append("</section>")
    body.append("<section id='key-numbers'><h2>Key numbers</h2><p>A blank unit means a pure number.</p>"
                "<table><tr><th>quantity</th><th>value</th><th>unit</th><th>key</th></tr>")
    for r in records:
        if r["numbers"]:
            body.append(f"<tr class='group'><th colspan='4'><a href='#{e(r['stage'])}'>{e(r['title'])}</a></th></tr>")
            body += [f"<tr><td>{e(n['description'])}</td><td class='num'>{e(_fmt(n['value']))}</td>"
                     f"<td>{e(n.get('unit', ''))}</td><td><code>{e(n['key'])}</code></td></tr>" for n in r["numbers"]]
    body.append("</table></section>")
    return html_page("meanfield: reproduction report", "\n".join(body))
