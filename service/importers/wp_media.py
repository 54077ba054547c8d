"""WordPress's media shortcodes ([caption], [gallery], [playlist], [audio], [video]) as HTML.

- ``[caption id="attachment_5" align="alignleft" width="300"]<a><img></a> Caption[/caption]``
  (or the older ``caption="…"`` attribute form, or ``[wp_caption]``) becomes
  ``<figure class="wp-caption alignleft" id="attachment_5">`` with the image and
  ``<figcaption class="wp-caption-text">Caption</figcaption>``. Unlike WordPress, a missing
  ``width`` does not lose the caption; without any caption text only the image is left.
- ``[gallery ids="1,2,3" columns="3"]`` becomes ``<figure class="gallery gallery-columns-3">``
  holding one ``<figure class="gallery-item">`` (image, linked to the file unless
  ``link="none"``, and its ``<figcaption class="gallery-caption">``) per attachment found
  through the caller's ``attachment(id)`` lookup. Without ``ids`` (or ``include``) it shows the
  post's own attachments, minus ``exclude``. ``orderby="rand"`` keeps the given order, and
  ``size`` is ignored (the lookup gives one URL per attachment).
- ``[playlist ids="…"]`` becomes a list of links to the files.
- ``[audio]`` and ``[video]`` (``src``, a file-type attribute such as ``mp3``/``mp4``, a URL, or
  ``<source>`` tags inside) become a link card to the file (see ``embeds``); nothing is embedded.

Attachment ids the lookup does not know are left out and counted in the report.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

from service.importers.embeds import media_card, safe_url, shortcode_url

if TYPE_CHECKING:
    from service.importers.shortcode_parser import Shortcode
    from service.importers.shortcodes import RenderContext

_IMAGE_THEN_TEXT = re.compile(
    r"\s*(?P<image>(?:<a\s[^>]*>\s*)?<img\s[^>]*>(?:\s*</a>)?)(?P<text>.*)",
    re.DOTALL | re.IGNORECASE,
)
_EDGE_BREAKS = re.compile(r"^(?:\s|<br\s*/?>|</?p>)+|(?:\s|<br\s*/?>|</?p>)+$", re.IGNORECASE)
_INNER_PARAGRAPHS = re.compile(r"\s*</p>\s*<p>\s*", re.IGNORECASE)
_SOURCE_SRC = re.compile(r"""<source\b[^>]*\bsrc\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
_AUDIO_KEYS = ("src", "mp3", "m4a", "ogg", "oga", "wav", "wma", "flac")
_VIDEO_KEYS = ("src", "mp4", "m4v", "webm", "ogv", "mov", "wmv", "flv")


def _css_class(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "", value)


def _caption_text(text: str) -> str:
    return _INNER_PARAGRAPHS.sub("<br />", _EDGE_BREAKS.sub("", text))


def caption(sc: Shortcode, ctx: RenderContext) -> str:
    """``[caption]``/``[wp_caption]``: the image in a figure with its figcaption."""
    content = sc.content or ""
    text = sc.attrs.get("caption", "")
    if not text and (m := _IMAGE_THEN_TEXT.match(content)):
        content, text = m.group("image"), m.group("text")
    body = ctx.render(content).strip()
    text = _caption_text(ctx.render(text))
    if not text:
        return body
    classes = ["wp-caption", _css_class(sc.attrs.get("align") or "alignnone")]
    classes += [_css_class(c) for c in sc.attrs.get("class", "").split()]
    ident = _css_class(sc.attrs.get("id", ""))
    id_attr = f' id="{ident}"' if ident else ""
    return (
        f'<figure class="{" ".join(c for c in classes if c)}"{id_attr}>{body}'
        f'<figcaption class="wp-caption-text">{text}</figcaption></figure>'
    )


def _ids(value: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", value)]


def _attachments(sc: Shortcode, ctx: RenderContext) -> list[tuple[str, str, str]]:
    """The (url, alt, caption) of each attachment a gallery or playlist names, in order."""
    ids = _ids(sc.attrs.get("ids") or sc.attrs.get("include") or "")
    if not ids:
        exclude = set(_ids(sc.attrs.get("exclude", "")))
        ids = [i for i in ctx.attached if i not in exclude]
    found = []
    for ident in ids:
        item = ctx.attachment(ident) if ctx.attachment else None
        url = safe_url(item[0]) if item else None
        if item is None or url is None:
            ctx.report.missing[ident] += 1
        else:
            found.append((url, item[1] or "", item[2] or ""))
    if not found:
        ctx.report.notes.append(f"an empty [{sc.name}] was removed (no attachments found)")
    return found


def gallery(sc: Shortcode, ctx: RenderContext) -> str:
    """``[gallery]``: a figure of figures, one per attachment found."""
    items = []
    for url, alt, text in _attachments(sc, ctx):
        image = f'<img src="{html.escape(url)}" alt="{html.escape(alt)}">'
        if sc.attrs.get("link") != "none":
            image = f'<a href="{html.escape(url)}">{image}</a>'
        figcaption = f'<figcaption class="gallery-caption">{text}</figcaption>' if text else ""
        items.append(f'<figure class="gallery-item">{image}{figcaption}</figure>')
    if not items:
        return ""
    given = sc.attrs.get("columns", "3")
    columns = min(max(int(given), 1), 9) if given.isdigit() else 3
    return f'<figure class="gallery gallery-columns-{columns}">{"".join(items)}</figure>'


def playlist(sc: Shortcode, ctx: RenderContext) -> str:
    """``[playlist]``: a list of links to the attachments' files."""
    links = [
        f'<li><a href="{html.escape(url)}">{html.escape(title or url)}</a></li>'
        for url, title, _ in _attachments(sc, ctx)
    ]
    return f'<ul class="wp-playlist">{"".join(links)}</ul>' if links else ""


def _media(sc: Shortcode, ctx: RenderContext, kind: str, keys: tuple[str, ...]) -> str:
    url = shortcode_url(sc, keys)
    if not url and sc.content:
        url = next(filter(None, map(safe_url, _SOURCE_SRC.findall(sc.content))), None)
    if not url:
        ctx.report[sc.name] += 1  # nothing to link to: removed, and said so
        return ""
    return media_card(url, kind)


def audio(sc: Shortcode, ctx: RenderContext) -> str:
    """``[audio]``: a link card to the audio file."""
    return _media(sc, ctx, "audio", _AUDIO_KEYS)


def video(sc: Shortcode, ctx: RenderContext) -> str:
    """``[video]``: a link card to the video file (or the provider's page)."""
    return _media(sc, ctx, "video", _VIDEO_KEYS)
