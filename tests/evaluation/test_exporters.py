"""Table exports: CSV and JSON read back equal the table; LaTeX is a well-formed booktabs
tabular with every special character escaped; Markdown has one cell per column."""

import re

import pytest

from evaluation import exporters, plots
from evaluation.tables import Column, Table

TRICKY = 'a, "quoted" & 100% $x$ #1 under_score {b} ~t^ back\\slash <|>\nnew line, ünïcode'


@pytest.fixture
def table():
    return Table(
        key="demo",
        title="Demo: 62% & more_",
        columns=(
            Column("Name"),
            Column("Count", "int"),
            Column("Score", "float", 2),
            Column("Share", "percent", 1),
            Column("Value", "number"),
        ),
        rows=[
            (TRICKY, 3, 0.1 + 0.2, 0.6212, 1200.0),
            ("", 0, float("nan"), None, 2.2099999999999995),
            ("12", -4, 1e-17, 1.0, None),
        ],
        notes=["Notes keep % and _ too."],
    )


def test_nan_cells_become_none(table):
    assert table.rows[1][2] is None


def test_csv_round_trip_equals_the_table(table):
    text = exporters.table_to_csv(table)
    back = exporters.table_from_csv(text, key=table.key, title=table.title, columns=table.columns)
    assert back.rows == table.rows
    assert back.rows[0][2] == 0.1 + 0.2  # full precision
    assert back.rows[2][0] == "12"  # text stays text


def test_csv_reader_rejects_a_wrong_header(table):
    with pytest.raises(ValueError, match="header"):
        exporters.table_from_csv("x,y\n1,2\n", key="k", title="t", columns=table.columns)


def test_json_round_trip_equals_the_table(table):
    back = exporters.table_from_json(exporters.table_to_json(table))
    assert back == table
    assert "NaN" not in exporters.table_to_json(table)


def _latex_rows(tex: str) -> list[str]:
    body = tex.split("\\midrule\n", 1)[1].split("\\bottomrule", 1)[0]
    return [line for line in body.splitlines() if line.strip()]


def test_latex_is_a_well_formed_booktabs_tabular(table):
    tex = exporters.table_to_latex(table)
    assert tex.count("\\begin{tabular}") == tex.count("\\end{tabular}") == 1
    assert tex.index("\\begin{tabular}") < tex.index("\\toprule") < tex.index("\\midrule")
    assert tex.index("\\midrule") < tex.index("\\bottomrule") < tex.index("\\end{tabular}")
    spec = re.search(r"\\begin\{tabular\}\{([lrc]+)\}", tex).group(1)
    assert spec == "lrrrr"
    header = tex.split("\\toprule\n", 1)[1].split("\n", 1)[0]
    for line in [header, *_latex_rows(tex)]:
        assert line.endswith("\\\\")
        cells = re.split(r"(?<!\\)&", line[:-2])
        assert len(cells) == len(spec), line
    assert len(_latex_rows(tex)) == len(table.rows)


def test_latex_escapes_every_special_character(table):
    tex = exporters.table_to_latex(table)
    first = _latex_rows(tex)[0]
    for escaped in (r"\&", r"\%", r"\$", r"\#", r"\_", r"\{", r"\}", r"\textasciitilde{}", r"\textasciicircum{}"):
        assert escaped in first
    assert r"\textbackslash{}" in first and r"\textless{}" in first and r"\textbar{}" in first
    # no unescaped special character is left in the data rows
    stripped = re.sub(r"\\(textbackslash|textasciitilde|textasciicircum|textless|textgreater|textbar)\{\}", "", first)
    stripped = re.sub(r"\\[&%$#_{}]", "", stripped[:-2])
    assert not re.search(r"[%$#_{}~^\\]", stripped)
    assert stripped.count("&") == len(table.columns) - 1
    assert "\n" not in first
    assert "62.1\\%" in first  # percent column
    assert "% Demo: 62\\% \\& more\\_" in tex  # the title, escaped, as a comment


def test_latex_escape_of_each_character():
    assert exporters.latex_escape("a_b%c&d$e#f{g}h~i^j\\k") == (
        r"a\_b\%c\&d\$e\#f\{g\}h\textasciitilde{}i\textasciicircum{}j\textbackslash{}k"
    )


def test_markdown_has_one_cell_per_column(table):
    md = exporters.table_to_markdown(table)
    lines = [line for line in md.splitlines() if line.startswith("|")]
    assert len(lines) == 2 + len(table.rows)
    for line in lines:
        cells = re.split(r"(?<!\\)\|", line)[1:-1]
        assert len(cells) == len(table.columns)
    assert "n/a" in md and "62.1%" in md and "1200 |" in md


def test_unknown_format_is_refused(table):
    with pytest.raises(ValueError, match="Unknown table format"):
        exporters.table_render(table, "xlsx")


def test_plots_render_png_and_svg():
    cardinality = Table(
        key="cardinality",
        title="sizes",
        columns=(Column("Labels", "int"), Column("Clips", "int")),
        rows=[(0, 0), (1, 5), (2, 3)],
    )
    png = plots.plot_render({"cardinality": cardinality}, "cardinality", "png")
    svg = plots.plot_render({"cardinality": cardinality}, "cardinality", "svg")
    assert png.startswith(b"\x89PNG")
    assert b"<svg" in svg
    with pytest.raises(KeyError):
        plots.plot_render({"cardinality": cardinality}, "event_types", "png")
    with pytest.raises(ValueError):
        plots.plot_render({"cardinality": cardinality}, "cardinality", "gif")
