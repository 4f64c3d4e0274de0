"""The report pages: self-contained (nothing fetched from a network), equations as MathML, summary first."""

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
import sympy as sp

import meanfield.reproduce as rep
from meanfield.cli.derive import load
from meanfield.reproduce import Stage, reproduce
from meanfield.reproduce.gate import TOPICS
from meanfield.reproduce.report import equation_html, read_claims

URL_ATTRIBUTES = {"src", "href", "srcset", "data", "poster", "action"}


class Page(HTMLParser):
    """Every referenced address, the <math> elements, section ids and headings of one page, in order."""

    def __init__(self, path: Path):
        super().__init__()
        self.references, self.ids, self.headings, self.inline_styles = [], [], [], []
        self.math = 0
        self._style = False
        self.feed(path.read_text(encoding="utf-8"))

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in URL_ATTRIBUTES and value is not None:
                self.references.append((tag, name, value))
            if name == "id":
                self.ids.append(value)
        self.math += tag == "math"
        self._style = tag == "style"

    def handle_endtag(self, tag):
        self._style = False

    def handle_data(self, data):
        if self._style:
            self.inline_styles.append(data)
        if self.lasttag in ("h1", "h2", "h3"):
            self.headings.append(data)


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    reproduce(out, quick=True, only=["derivations", "activations"])
    return out


def _assert_self_contained(page: Page, root: Path, where: Path):
    for tag, name, value in page.references:
        assert not re.match(r"\s*(https?:)?//", value, re.IGNORECASE), f"{where}: <{tag} {name}={value!r}> leaves the directory"
        if not value.startswith("#"):
            target = (where.parent / value).resolve()
            assert target.is_file() and root.resolve() in target.parents, f"{where}: {value} is not in the output directory"
    for css in page.inline_styles:
        assert not re.search(r"url\(|@import", css), f"{where}: the style sheet loads something"


def test_pages_are_self_contained(out):
    pages = [out / "index.html", out / "derivations" / "page.html"]
    for path in pages:
        _assert_self_contained(Page(path), out, path)
    assert any(v.endswith(".png") for _, _, v in Page(out / "index.html").references)


def test_the_derivations_page_is_mathml_with_the_tex_alongside(out):
    path = out / "derivations" / "page.html"
    page = Page(path)
    steps = [s for t in TOPICS for s in load(t).steps]
    assert page.math == len(steps) > 40
    text = path.read_text(encoding="utf-8")
    assert "\\[" not in text and "mathjax" not in text.lower() and "<script" not in text
    blocks = re.findall(r"<math .*?</math>", text, re.DOTALL)
    for step, block in zip(steps, blocks):
        root = ET.fromstring(block)  # well-formed XML
        (annotation,) = root.iter("annotation")
        assert annotation.get("encoding") == "application/x-tex" and annotation.text == sp.latex(step.expr)
    md = (out / "derivations" / "page.md").read_text()
    assert md.count("\n$$\n") == 2 * len(steps)


def test_equation_markup():
    h, beta = sp.symbols("h beta")
    ubar = sp.Symbol("Ubar")
    relu = equation_html(sp.Piecewise((h, h > 0), (0, True)))
    assert "<mtable" in relu and "otherwise" in relu and "piecewise" not in relu
    series = equation_html(sp.series(h / (1 + sp.exp(-beta * h)), beta, 0, 3))
    assert "<mi>O</mi>" in series and "order" not in series
    accent = ET.fromstring(re.search(r"<math .*</math>", equation_html(ubar)).group(0))
    assert [m.text for m in accent.iter("mi")][:1] == ["U"] and any(m.text == "\u00af" for m in accent.iter("mo"))
    assert "&ExponentialE;" not in equation_html(sp.exp(h)) and "\u2212" in equation_html(-h)


def test_index_reads_summary_stages_then_key_numbers(out):
    page = Page(out / "index.html")
    ids = page.ids
    assert ids.index("summary") < ids.index("stages") < ids.index("derivations") < ids.index("activations") < ids.index("key-numbers")
    text = (out / "index.html").read_text(encoding="utf-8")
    nav = text[text.index("<nav"):text.index("</nav>")]
    assert all(f"href='#{s}'" in nav for s in ("derivations", "activations", "key-numbers"))
    summary = text[text.index("id='summary'"):text.index("<nav")]
    assert "quick mode, seed 0" in summary and "no --data-dir" in summary and "s of computation" in summary
    numbers = text[text.index("id='key-numbers'"):]
    assert "sigmoid g(h) at βh = 10" in numbers and "<code>g_sigmoid_at_beta_h_10</code>" in numbers
    md = (out / "report.md").read_text()
    assert md.index("Run: quick mode") < md.index("## Stages") < md.index("## Derivations") < md.index("## Key numbers")


def _claims_stage(rows):
    def run(ctx):
        (ctx.directory / "claims.json").write_text(rows if isinstance(rows, str) else json.dumps(rows))

    return Stage("claims", "A paper's claims", run)


ROWS = [{"claim": "A beats B", "authors": "Fig. 1", "ours": "0.1 [0.09, 0.12] vs 0.3", "verdict": "supported",
         "rule": "IQR separated"},
        {"claim": "C | D", "authors": "Sec. 2", "ours": "none", "verdict": "contradicted", "rule": "medians"}]


def test_the_claims_table_leads_the_report(tmp_path, monkeypatch):
    monkeypatch.setattr(rep, "stages", lambda: [Stage("plain", "Plain", lambda ctx: None), _claims_stage(ROWS)])
    reproduce(tmp_path, quick=True)
    text = (tmp_path / "index.html").read_text()
    table = text[text.index("<table class='claims'>"):]
    assert text.index("<table class='claims'>") < text.index("<nav")
    assert "<tr class='supported'><td>A beats B</td>" in table and "<tr class='contradicted'><td>C | D</td>" in table
    md = (tmp_path / "report.md").read_text()
    assert "| C \\| D | Sec. 2 | none | **contradicted** | medians |" in md and md.index("Claims:") < md.index("## Stages")
    assert read_claims(tmp_path / "claims" / "claims.json")[0]["ours"] == ROWS[0]["ours"]


@pytest.mark.parametrize("damaged", ["[{", json.dumps([{"claim": "no other columns"}])])
def test_a_damaged_claims_file_is_named_not_fatal(tmp_path, monkeypatch, damaged):
    monkeypatch.setattr(rep, "stages", lambda: [_claims_stage(damaged)])
    reproduce(tmp_path, quick=True)
    assert "claims.json" in (tmp_path / "index.html").read_text().split("cannot be shown:")[1][:300]
