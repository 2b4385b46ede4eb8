"""The report's index.html: one static page, styled inline, images by relative path.

No JavaScript, no fonts or scripts from the network: the folder can be
zipped, mailed or opened from a file share and still shows everything.
Every piece of text from a run (paths, settings, plugin names) is escaped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 1300px; padding: 0 1em; color: #222; line-height: 1.4; }
h1 { margin-bottom: 0.2em; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2em; }
h3 { margin-bottom: 0.2em; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 1em; }
.meta, .note, figcaption { color: #555; font-size: 0.9em; }
.note { background: #fff7e0; border-left: 3px solid #e0b000; padding: 0.3em 0.6em; }
.common { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.85em; color: #444; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; white-space: nowrap; }
th { background: #f3f3f3; }
td.setting, th.setting { text-align: left; font-family: ui-monospace, Menlo, Consolas, monospace; }
td.setting.wrap { white-space: normal; min-width: 22em; max-width: 34em; }
td.names, th.names { text-align: left; white-space: normal; min-width: 12em; font-size: 0.85em; }
tr.best td { background: #eef8ee; }
figure { margin: 0.8em 1em 0.8em 0; display: inline-block; vertical-align: top; max-width: 100%; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
img.pixels { image-rendering: pixelated; }
.run { margin-top: 1.5em; }
"""


@dataclass
class Picture:
    """An image of the page: ``src`` relative to index.html, its pixel size, a caption that says how to read it."""

    src: str
    caption: str
    width: int
    height: int
    #: small images (sample grids) are shown enlarged without smoothing
    scale: float = 1.0


@dataclass
class Section:
    title: str
    pictures: list[Picture] = field(default_factory=list)
    #: pre-built HTML (a table), placed before the pictures
    body: str = ""
    notes: list[str] = field(default_factory=list)
    #: smaller heading, for one run among many
    sub: bool = False
    meta: str = ""


def render_page(title: str, meta: str, sections: list[Section]) -> str:
    """The whole index.html."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">{escape(meta)}</p>',
    ]
    parts += [render_section(s) for s in sections]
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def render_section(section: Section) -> str:
    heading = "h3" if section.sub else "h2"
    opening = '<section class="run">' if section.sub else "<section>"
    out = [opening, f"<{heading}>{escape(section.title)}</{heading}>"]
    if section.meta:
        out.append(f'<p class="meta">{escape(section.meta)}</p>')
    out += [f'<p class="note">{escape(note)}</p>' for note in section.notes]
    if section.body:
        out.append(section.body)
    out += [render_picture(p) for p in section.pictures]
    out.append("</section>")
    return "\n".join(out)


def render_picture(picture: Picture) -> str:
    width, height = round(picture.width * picture.scale), round(picture.height * picture.scale)
    klass = ' class="pixels"' if picture.scale > 1 else ""
    return (
        f'<figure style="width: {width}px"><img src="{escape(picture.src)}" width="{width}" height="{height}"{klass} '
        f'alt="{escape(picture.caption)}">'
        f"<figcaption>{escape(picture.caption)}</figcaption></figure>"
    )


def render_table(header: list[str], rows: list[list[str]], setting_columns: int, best: int | None = 0,
                 names_column: bool = False, wrap_settings: bool = False) -> str:
    """A plain HTML table; the first ``setting_columns`` columns are left-aligned settings, row ``best`` tinted.

    ``names_column``: the last column lists run names, wrapped rather than widening the table.
    ``wrap_settings``: the last settings column wraps (one cell listing a row's many settings), so the
    metrics stay in view.
    """
    last = len(header) - 1

    def cell(tag: str, i: int, text: str) -> str:
        wrap = wrap_settings and i == setting_columns - 1
        klass = (' class="setting wrap"' if wrap else ' class="setting"') if i < setting_columns else ' class="names"' if names_column and i == last else ""
        return f"<{tag}{klass}>{escape(text)}</{tag}>"

    out = ['<div class="scroll"><table>', "<tr>" + "".join(cell("th", i, h) for i, h in enumerate(header)) + "</tr>"]
    for r, row in enumerate(rows):
        klass = ' class="best"' if best is not None and r == best and len(rows) > 1 else ""
        out.append(f"<tr{klass}>" + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>")
    out.append("</table></div>")
    return "\n".join(out)


def paragraph(text: str, klass: str = "") -> str:
    attribute = f' class="{klass}"' if klass else ""
    return f"<p{attribute}>{escape(text)}</p>"


def download(text: str, href: str, label: str) -> str:
    """A sentence ending in a link to a file of the report folder."""
    return f'<p class="meta">{escape(text)} <a href="{escape(href)}">{escape(label)}</a></p>'
