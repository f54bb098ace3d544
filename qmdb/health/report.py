"""The dataset health report: `data_issues` counted per issue type and severity, the worst examples of
each, and the next command to run for each; as text (the terminal) or one self-contained HTML page.

DuckDB does the counting and ranking over one materialized copy of `data_issues`; Python only formats
the few rows it returns.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ..errors import QmdbError

# source view → the command that shows its issues (DB and the issue type are filled in); the issues_*
# views score every item, so their galleries ask for the flagged rows only
NEXT = {
    "select_broken": "qmdb sql {db} \"SELECT * FROM select_broken\"",
    "issues_exact_duplicates": "qmdb sql {db} \"SELECT * FROM select_exact_duplicates()\"  # what to drop",
    "issues_outliers": ("qmdb gallery {db} --query \"SELECT item_id AS {id}, * FROM issues_outliers() "
                        "WHERE issue_type = '{issue}' AND is_issue\" -o {issue}.html"),
    "splits_leaks": "qmdb sql {db} \"SELECT * FROM splits_leaks()\"  # drop the image_b's",
    "splits_underperforming_groups": "qmdb sql {db} \"SELECT * FROM splits_underperforming_groups()\"",
}

# the split findings shown beside the issue counts: (heading, query over the dataset, next command)
SPLITS = (
    ("leaks between splits", "SELECT split_a || ' → ' || split_b || ' (' || method || '): ' || count(*) || ' pairs' "
     "FROM splits_leaks(dataset_name := $dataset) GROUP BY split_a, split_b, method ORDER BY 1",
     "qmdb sql {db} \"SELECT * FROM splits_leaks()\""),
    ("classes missing from a split", "SELECT reason FROM splits_missing_classes(dataset_name := $dataset)",
     "qmdb sql {db} \"SELECT * FROM splits_missing_classes()\""),
    ("rare classes (Datalab's class imbalance)",
     "SELECT dataset || ' / ' || coalesce(split, '(no split)') || ': ' || class || ' ' || labels || ' labels, share ' "
     "|| round(share, 4) FROM splits_class_balance(dataset_name := $dataset) WHERE is_rare",
     "qmdb sql {db} \"SELECT * FROM splits_class_balance() ORDER BY imbalance_ratio DESC\""),
)
GALLERY = "qmdb gallery {db} --query \"SELECT item_id AS {id}, * FROM {view}() WHERE is_issue\" -o {issue}.html"
VIEW = "qmdb gallery {db} --view {view} -o {issue}.html"
ID_COLUMN = {"image": "image_id", "label": "label_id", "prediction": "prediction_id"}


@dataclass
class IssueSummary:
    issue_type: str
    source_view: str
    item_type: str
    issues: int
    severe: int
    scored: int
    next_command: str
    worst: list[dict] = field(default_factory=list)


def next_command(db: str, view: str, issue: str, item_type: str) -> str:
    """The command that shows one issue type's items."""
    if view in NEXT:
        template = NEXT[view]
    elif view.startswith("issues_"):
        template = GALLERY
    else:
        template = VIEW
    return template.format(db=db, view=view, issue=issue, id=ID_COLUMN.get(item_type, "image_id"))


def summarize(con: duckdb.DuckDBPyConnection, *, dataset: str | None = None, db: str = "DB",
              examples: int = 5) -> list[IssueSummary]:
    """One summary per issue type with at least one issue, most issues first, each with its `examples`
    lowest-scored flagged items (image id, path, score, severity, reason)."""
    cur = con.cursor()
    try:
        try:
            cur.execute("CREATE TEMP TABLE _health AS SELECT * FROM data_issues(dataset_name := ?)", [dataset])
        except duckdb.CatalogException as error:
            raise QmdbError(f"{db}: the health views are not installed in this project; 'qmdb init {db}' "
                            f"installs them ({str(error).strip().splitlines()[0]})") from None
        counts = cur.execute(
            "SELECT issue_type, any_value(source_view), any_value(item_type), count_if(is_issue), "
            "count_if(severity = 'severe'), count(*) FROM _health GROUP BY issue_type "
            "HAVING count_if(is_issue) > 0 ORDER BY 4 DESC, 1").fetchall()
        worst = cur.execute(
            "WITH ranked AS (SELECT *, row_number() OVER (PARTITION BY issue_type ORDER BY score, item_id) AS k "
            "FROM _health WHERE is_issue QUALIFY k <= ?) "
            "SELECT r.issue_type, r.item_type, r.item_id, coalesce(i.image_id, l.image_id, p.image_id) AS image_id, "
            "coalesce(i.path, il.path, ip.path) AS path, r.score, r.severity, r.reason "
            "FROM ranked r "
            "LEFT JOIN images i ON r.item_type = 'image' AND i.image_id = r.item_id "
            "LEFT JOIN labels l ON r.item_type = 'label' AND l.label_id = r.item_id "
            "LEFT JOIN images il ON il.image_id = l.image_id "
            "LEFT JOIN predictions p ON r.item_type = 'prediction' AND p.prediction_id = r.item_id "
            "LEFT JOIN images ip ON ip.image_id = p.image_id "
            "ORDER BY r.issue_type, r.k", [examples]).fetchall()
    finally:
        cur.close()
    by_type: dict[str, list[dict]] = {}
    for issue, item_type, item_id, image_id, path, score, severity, reason in worst:
        by_type.setdefault(issue, []).append({"item_type": item_type, "item_id": item_id, "image_id": image_id,
                                              "path": path, "score": score, "severity": severity, "reason": reason})
    return [IssueSummary(issue, view, item_type, issues, severe, scored, next_command(db, view, issue, item_type),
                         by_type.get(issue, []))
            for issue, view, item_type, issues, severe, scored in counts]


def split_findings(con: duckdb.DuckDBPyConnection, *, dataset: str | None = None,
                   db: str = "DB") -> list[tuple[str, list[str], str]]:
    """(heading, findings, next command) of each split check that found something."""
    cur = con.cursor()
    try:
        found = [(heading, [r[0] for r in cur.execute(sql, {"dataset": dataset}).fetchall()], command.format(db=db))
                 for heading, sql, command in SPLITS]
    finally:
        cur.close()
    return [f for f in found if f[1]]


def text(summaries: list[IssueSummary], *, title: str, splits: list[tuple[str, list[str], str]] = ()) -> str:
    """The report for a terminal."""
    lines = [title, ""]
    for heading, findings, command in splits:
        lines += [f"{heading}: {len(findings)}, next: {command}", *(f"  {f}" for f in findings[:10]), ""]
    if not summaries:
        return "\n".join([*lines, "no issues found"])
    width = max(len(s.issue_type) for s in summaries)
    lines.append(f"{'issue type':<{width}}  {'issues':>7}  {'severe':>7}  {'of':>7}  item")
    lines += [f"{s.issue_type:<{width}}  {s.issues:>7}  {s.severe:>7}  {s.scored:>7}  {s.item_type}" for s in summaries]
    for s in summaries:
        lines += ["", f"{s.issue_type}: {s.issues} {s.item_type}(s), next: {s.next_command}"]
        lines += [f"  {w['item_type']} {w['item_id']}  {w['score']:.3f}  {w['path'] or ''}  {w['reason']}"
                  for w in s.worst]
    return "\n".join(lines)


def page(con: duckdb.DuckDBPyConnection, summaries: list[IssueSummary], *, title: str, thumb_size: int = 160,
         splits: list[tuple[str, list[str], str]] = ()) -> str:
    """The report as one self-contained HTML page: thumbnails are JPEG data URIs read by the gallery's reader."""
    from ..gallery.thumbs import data_uri, image_files

    ids = sorted({w["image_id"] for s in summaries for w in s.worst if w["image_id"] is not None})
    files = image_files(con, ids)
    thumbs = {image_id: data_uri(file, thumb_size) for image_id, file in files.items()}
    e = html.escape
    rows = "".join(f"<tr><td><a href='#{e(s.issue_type)}'>{e(s.issue_type)}</a></td><td>{s.issues}</td>"
                   f"<td>{s.severe}</td><td>{s.scored}</td><td>{e(s.item_type)}</td></tr>" for s in summaries)
    sections = []
    for s in summaries:
        cards = []
        for w in s.worst:
            uri = thumbs.get(w["image_id"])
            img = f"<img src='{uri}' alt=''>" if uri else "<div class='missing'>unreadable</div>"
            cards.append(f"<figure>{img}<figcaption><b>{e(w['item_type'])} {w['item_id']}</b> · {w['score']:.3f}"
                         f"<br>{e(w['path'] or '')}<br>{e(w['reason'] or '')}</figcaption></figure>")
        sections.append(f"<section id='{e(s.issue_type)}'><h2>{e(s.issue_type)} <small>{s.issues} issues, "
                        f"{s.severe} severe</small></h2><p>next: <code>{e(s.next_command)}</code></p>"
                        f"<div class='cards'>{''.join(cards)}</div></section>")
    split_html = "".join(f"<h2>{e(h)} <small>{len(f)}</small></h2><p>next: <code>{e(c)}</code></p><ul>"
                         + "".join(f"<li>{e(x)}</li>" for x in f[:50]) + "</ul>" for h, f, c in splits)
    body = split_html + (f"<table><tr><th>issue type</th><th>issues</th><th>severe</th><th>scored</th><th>item</th></tr>{rows}"
            f"</table>{''.join(sections)}") if summaries else "<p>no issues found</p>"
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)}</title><style>"
            "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
            "padding:4px 8px;text-align:right}td:first-child{text-align:left}.cards{display:flex;flex-wrap:wrap;"
            "gap:8px}figure{margin:0;width:200px;font-size:12px}img{max-width:200px}.missing{width:160px;"
            "height:100px;background:#eee}code{background:#f4f4f4;padding:2px}</style></head>"
            f"<body><h1>{e(title)}</h1>{body}</body></html>")


def write(con: duckdb.DuckDBPyConnection, output: str | Path, summaries: list[IssueSummary], *, title: str,
          splits: list[tuple[str, list[str], str]] = ()) -> None:
    Path(output).write_text(page(con, summaries, title=title, splits=splits), encoding="utf-8")
