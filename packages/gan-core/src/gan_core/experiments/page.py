"""The report's index.html: one static page, styled inline, images by relative path.

No JavaScript, no fonts or scripts from the network: the folder can be
zipped, mailed or opened from a file share and still shows everything.
Every piece of text from a run (paths, settings, plugin names) is escaped.
The page opens with a contents list whose links are the sections' ids, and
its tables wrap (a metric's ± goes under its mean) before they scroll.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import escape

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 1800px; padding: 0 1em; color: #222; line-height: 1.4; }
h1 { margin-bottom: 0.2em; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2em; }
h3 { margin: 1.2em 0 0.2em; font-size: 1.05em; }
h4 { margin: 0 0 0.2em; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.85em;
     font-weight: normal; overflow-wrap: anywhere; }
a { color: #1a5fb4; }
nav.contents { background: #f7f7f7; border: 1px solid #e3e3e3; padding: 0.4em 1em; display: inline-block; }
nav.contents ul { margin: 0.2em 0; padding-left: 1.2em; }
nav.contents li.inline a { margin-right: 0.5em; }
.meta, .note, figcaption, .facts { color: #555; font-size: 0.9em; }
.note { background: #fff7e0; border-left: 3px solid #e0b000; padding: 0.3em 0.6em; }
.common { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.85em; color: #444;
          overflow-wrap: anywhere; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; }
th { background: #f3f3f3; }
td.setting, th.setting { text-align: left; font-family: ui-monospace, Menlo, Consolas, monospace; white-space: nowrap; }
td.setting.wrap { white-space: normal; min-width: 16em; max-width: 30em; }
td.setting.wrap span { white-space: nowrap; }
td.names, th.names { text-align: left; white-space: normal; min-width: 5em; font-size: 0.85em; }
tr.best td { background: #eef8ee; }
figure { margin: 0.8em 1em 0.8em 0; display: inline-block; vertical-align: top; max-width: 100%; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
img.pixels { image-rendering: pixelated; }
.cards, .beside { display: flex; flex-wrap: wrap; gap: 0.8em 1.2em; align-items: flex-start; }
.beside .aside { flex: 0 1 40em; margin: 0.8em 0; }
.card { border: 1px solid #e3e3e3; padding: 6px 8px; max-width: 100%; box-sizing: border-box; }
.card figure { margin: 4px 8px 4px 0; }
.facts { font-variant-numeric: tabular-nums; margin: 0.2em 0; }
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
class Card:
    """One run among its row's: a heading, its pictures, and its own numbers under them."""

    title: str
    anchor: str
    pictures: list[Picture] = field(default_factory=list)
    #: ``name value`` pairs shown under the pictures (the run's final fid, precision, recall)
    facts: list[tuple[str, str]] = field(default_factory=list)
    meta: str = ""
    notes: list[str] = field(default_factory=list)


@dataclass
class Section:
    title: str
    pictures: list[Picture] = field(default_factory=list)
    #: pre-built HTML (a table), placed before the pictures
    body: str = ""
    notes: list[str] = field(default_factory=list)
    #: smaller heading, for one group among many; listed inline under the section before it in the contents
    sub: bool = False
    meta: str = ""
    #: the element id the contents list links to ("" for none)
    anchor: str = ""
    #: how the contents list names the section (its title if empty)
    short: str = ""
    #: runs shown side by side after the pictures
    cards: list[Card] = field(default_factory=list)
    #: pre-built HTML (a key to the figures' labels) shown beside the pictures where the page is wide enough
    aside: str = ""


def anchor_of(text: str) -> str:
    """An element id made of ``text``'s letters, digits, dashes and dots (``Training curves`` -> ``training-curves``)."""
    return re.sub(r"[^a-z0-9.-]+", "-", text.lower()).strip("-") or "section"


def render_page(title: str, meta: str, sections: list[Section], notes: list[str] | None = None) -> str:
    """The whole index.html: heading, ``notes`` (said once for the whole page), contents, sections."""
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
    parts += [f'<p class="note">{escape(note)}</p>' for note in notes or []]
    contents = render_contents(sections)
    if contents:
        parts.append(contents)
    parts += [render_section(s) for s in sections]
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def render_contents(sections: list[Section]) -> str:
    """A list of links to the sections that have an anchor; a section's sub-sections inline under it."""
    items: list[tuple[Section, list[Section]]] = []
    for section in sections:
        if not section.anchor:
            continue
        if section.sub and items:
            items[-1][1].append(section)
        elif not section.sub:
            items.append((section, []))
    if not items:
        return ""
    out = ['<nav class="contents" aria-label="contents"><strong>Contents</strong><ul>']
    for section, subs in items:
        out.append(f"<li>{_link(section)}")
        if subs:
            out.append('<ul><li class="inline">' + " ".join(_link(s) for s in subs) + "</li></ul>")
        out.append("</li>")
    out.append("</ul></nav>")
    return "\n".join(out)


def _link(section: Section) -> str:
    return f'<a href="#{escape(section.anchor)}">{escape(section.short or section.title)}</a>'


def render_section(section: Section) -> str:
    heading = "h3" if section.sub else "h2"
    opening = "<section"
    if section.anchor:
        opening += f' id="{escape(section.anchor)}"'
    out = [opening + ">", f"<{heading}>{escape(section.title)}</{heading}>"]
    if section.meta:
        out.append(f'<p class="meta">{escape(section.meta)}</p>')
    out += [f'<p class="note">{escape(note)}</p>' for note in section.notes]
    if section.body:
        out.append(section.body)
    if section.aside:
        out.append(f'<div class="beside"><div class="aside">{section.aside}</div>'
                   + "".join(render_picture(p) for p in section.pictures) + "</div>")
    else:
        out += [render_picture(p) for p in section.pictures]
    if section.cards:
        out.append('<div class="cards">' + "\n".join(render_card(c) for c in section.cards) + "</div>")
    out.append("</section>")
    return "\n".join(out)


#: pixels a card adds around each picture (its margin) and around them all (padding and border)
CARD_PICTURE_MARGIN, CARD_PADDING = 8, 18
#: a card is never narrower than this, so its heading and numbers do not wrap word by word
CARD_MIN_WIDTH = 280


def render_card(card: Card) -> str:
    """A run's card, as wide as its pictures side by side (its text wraps to that width, not the other way)."""
    width = CARD_PADDING + sum(round(p.width * p.scale) + CARD_PICTURE_MARGIN for p in card.pictures)
    out = [f'<article class="card" id="{escape(card.anchor)}" style="width: {max(width, CARD_MIN_WIDTH)}px">',
           f"<h4>{escape(card.title)}</h4>"]
    if card.meta:
        out.append(f'<div class="meta">{escape(card.meta)}</div>')
    out += [f'<p class="note">{escape(note)}</p>' for note in card.notes]
    out.append("<div>" + "".join(render_picture(p) for p in card.pictures) + "</div>")
    if card.facts:
        out.append('<p class="facts">' + " · ".join(f"{escape(name)} <strong>{escape(value)}</strong>"
                                                     for name, value in card.facts) + "</p>")
    out.append("</article>")
    return "\n".join(out)


def render_picture(picture: Picture) -> str:
    width, height = round(picture.width * picture.scale), round(picture.height * picture.scale)
    klass = ' class="pixels"' if picture.scale > 1 else ""
    return (
        f'<figure style="width: {width}px"><img src="{escape(picture.src)}" width="{width}" height="{height}"{klass} '
        f'alt="{escape(picture.caption)}">'
        f"<figcaption>{escape(picture.caption)}</figcaption></figure>"
    )


@dataclass(frozen=True)
class Link:
    """A table cell's link to an element of the page (a run's card)."""

    text: str
    href: str
    title: str = ""


Cell = str | list[Link]


def render_table(header: list[str], rows: list[list[Cell]], setting_columns: int, best: int | None = 0,
                 names_column: bool = False, wrap_settings: bool = False) -> str:
    """A plain HTML table; the first ``setting_columns`` columns are left-aligned settings, row ``best`` tinted.

    ``names_column``: the last column lists run names (or links to them), wrapped rather than widening the table.
    ``wrap_settings``: the last settings column wraps between its ``k=v`` (one cell listing a row's many
    settings), so the metrics stay in view. A metric cell (``12.9 ± 1.6``) may break only before its ``±``,
    so a table too wide for the page stacks intervals under their means rather than hide its last columns.
    """
    last = len(header) - 1

    def cell(tag: str, i: int, value: Cell) -> str:
        wrap = wrap_settings and i == setting_columns - 1
        if i < setting_columns:
            klass = ' class="setting wrap"' if wrap else ' class="setting"'
        else:
            klass = ' class="names"' if names_column and i == last else ""
        if isinstance(value, list):
            text = " ".join(f'<a href="#{escape(link.href)}"' + (f' title="{escape(link.title)}"' if link.title else "")
                            + f">{escape(link.text)}</a>" for link in value)
        elif wrap and tag == "td":
            text = ", ".join(f"<span>{escape(part)}</span>" for part in value.split(", "))
        elif " ± " in value:
            text = _breaks_before_plus_minus(value)
        else:
            text = escape(value)
        return f"<{tag}{klass}>{text}</{tag}>"

    out = ['<div class="scroll"><table>', "<tr>" + "".join(cell("th", i, h) for i, h in enumerate(header)) + "</tr>"]
    for r, row in enumerate(rows):
        klass = ' class="best"' if best is not None and r == best and len(rows) > 1 else ""
        out.append(f"<tr{klass}>" + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>")
    out.append("</table></div>")
    return "\n".join(out)


def _breaks_before_plus_minus(text: str) -> str:
    """``12.9 ± 1.6`` with no break but the one before ``±``."""
    return " ±&nbsp;".join(escape(piece).replace(" ", "&nbsp;") for piece in text.split(" ± "))


def paragraph(text: str, klass: str = "") -> str:
    attribute = f' class="{klass}"' if klass else ""
    return f"<p{attribute}>{escape(text)}</p>"


def download(text: str, href: str, label: str) -> str:
    """A sentence ending in a link to a file of the report folder."""
    return f'<p class="meta">{escape(text)} <a href="{escape(href)}">{escape(label)}</a></p>'
