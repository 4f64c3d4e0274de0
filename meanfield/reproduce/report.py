"""report.md and index.html from the completed stages."""

from __future__ import annotations

import html
from pathlib import Path

from meanfield import __version__
from numerics.runs import write_atomic


def _atomic_write(path: Path, text: str) -> None:
    write_atomic(path, lambda f: f.write(text.encode()))


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, list):
        return ", ".join(_fmt(x) for x in v[:8]) + (" …" if len(v) > 8 else "")
    return str(v)


def write_report(out: Path, results: list[dict], quick: bool, elapsed: float) -> None:
    md = [
        "# meanfield: reproduction report",
        "",
        f"meanfield {__version__}; {'quick' if quick else 'full'} run; total time of this invocation "
        f"{elapsed:.1f} s (stages reused from cache count 0).",
        "",
        "| key number | value | what it is | stage |",
        "|---|---|---|---|",
    ]
    for r in results:
        for n in r["numbers"]:
            md.append(f"| `{n['key']}` | {_fmt(n['value'])} | {n['description']} | {r['stage']} |")
    md += ["", "| stage | seed | time (s) | cached |", "|---|---|---|---|"]
    md += [f"| {r['title']} | {r['seed']} | {r['elapsed_s']} | {'yes' if r['cached'] else 'no'} |" for r in results]
    for r in results:
        md += ["", f"## {r['title']}", ""]
        md += [f"> {n}" for n in r["notes"]]
        for f in r["figures"]:
            md += ["", f"![{f['caption']}]({r['stage']}/{f['file']})", "", f"*{f['caption']}* (data: `{r['stage']}/{f['data']}`)"]
        extra = Path(out) / r["stage"] / "page.md"
        if extra.exists():
            md += ["", f"See [{r['stage']}/page.md]({r['stage']}/page.md)."]
    _atomic_write(Path(out) / "report.md", "\n".join(md) + "\n")

    body = [f"<h1>meanfield: reproduction report</h1><p>meanfield {html.escape(__version__)}; "
            f"{'quick' if quick else 'full'} run; {elapsed:.1f} s.</p>",
            "<table><tr><th>key number</th><th>value</th><th>what it is</th><th>stage</th></tr>"]
    for r in results:
        for n in r["numbers"]:
            body.append(f"<tr><td><code>{html.escape(n['key'])}</code></td><td>{html.escape(_fmt(n['value']))}</td>"
                        f"<td>{html.escape(n['description'])}</td><td>{html.escape(r['stage'])}</td></tr>")
    body.append("</table>")
    for r in results:
        body.append(f"<h2>{html.escape(r['title'])}</h2>")
        body += [f"<blockquote>{html.escape(n)}</blockquote>" for n in r["notes"]]
        for f in r["figures"]:
            src = f"{r['stage']}/{f['file']}"
            body.append(f"<figure><img src='{html.escape(src)}' style='max-width:100%'>"
                        f"<figcaption>{html.escape(f['caption'])} (<a href='{r['stage']}/{f['data']}'>data</a>)"
                        "</figcaption></figure>")
        if (Path(out) / r["stage"] / "page.html").exists():
            body.append(f"<p><a href='{r['stage']}/page.html'>{html.escape(r['title'])}: full page</a></p>")
    page = ("<!doctype html><html><head><meta charset='utf-8'><title>meanfield report</title>"
            "<style>body{font-family:sans-serif;max-width:1000px;margin:auto;padding:1em}"
            "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px}"
            "figure{margin:1.5em 0}figcaption{font-style:italic}</style></head><body>"
            + "\n".join(body) + "</body></html>\n")
    _atomic_write(Path(out) / "index.html", page)
