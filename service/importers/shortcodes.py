"""WordPress shortcodes as Margins HTML, and the classic-editor pipeline around them.

:func:`render_classic` does to a classic-editor post what WordPress does when it shows it, in
WordPress's order:

1. ``[embed]`` and the other embed-like shortcodes (``[audio]``, ``[video]``, ``[youtube]``…),
   provider URLs alone on their line and embedded players become link cards (``embeds``): this
   is WordPress's step before wpautop, and a card is a block that wpautop then leaves alone;
2. :func:`~service.importers.wpautop.wpautop` (skipped for block-editor content, which carries
   ``<!-- wp:`` comments, as WordPress skips it);
3. :func:`shortcode_unautop`, so a shortcode alone in its paragraph is not wrapped in ``<p>``;
4. the remaining shortcodes, ``[caption]``, ``[gallery]`` and ``[playlist]`` (``wp_media``), as
   WordPress's ``do_shortcode`` does after wpautop.

``[[name …]]`` stays as the literal ``[name …]`` (unescaped in step 4 only).

Unknown shortcodes (see ``shortcode_parser`` for what counts as one) are removed, and counted in
the report so that an import can say "removed 3 unknown shortcodes: [contact-form-7] ×2,
[wpforms] ×1": a self-closing one disappears; an enclosing one is replaced by its content, with
the shortcodes inside handled in turn, which is what its reader saw between the tags (page
builders' rows and columns, boxes, highlights…). This happens in step 1, before wpautop, which
WordPress cannot do (it does not know which tags are unknown until do_shortcode): so the lines
that held only ``[vc_row]`` or ``[/su_box]`` become blank lines, not stray ``<br />`` and half
paragraphs. A ``[caption]``/``[gallery]``/``[playlist]`` alone on its line gets blank lines
around it for the same reason.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from service.importers import embeds, wp_media
from service.importers.shortcode_parser import (
    Shortcode,
    find_shortcodes,
    parse_attributes,
    replace_shortcodes,
    shortcode_unautop,
)
from service.importers.wpautop import wpautop

__all__ = [
    "RenderContext",
    "Shortcode",
    "ShortcodeReport",
    "do_shortcodes",
    "find_shortcodes",
    "parse_attributes",
    "render_classic",
    "shortcode_unautop",
]

_EDGE_BREAKS = re.compile(r"^(?:\s*<br\s*/?>)+\s*|\s*(?:<br\s*/?>\s*)+$", re.IGNORECASE)
# attachment(id) -> (url, alt or title, caption HTML), or None when the export lacks it
AttachmentLookup = Callable[[int], "tuple[str, str, str] | None"]


class ShortcodeReport(Counter):
    """Unknown shortcode names → how many were removed; plus attachments that were missing."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.missing: Counter[int] = Counter()  # attachment ids the lookup did not know
        self.notes: list[str] = []

    def summary(self) -> str:
        """One line for an import summary, or "" when there is nothing to say."""
        parts = []
        if total := sum(self.values()):
            names = ", ".join(
                f"[{name}] ×{n}"
                for name, n in sorted(self.items(), key=lambda item: (-item[1], item[0]))
            )
            parts.append(f"removed {total} unknown shortcode{'s' * (total != 1)}: {names}")
        if self.missing:
            ids = ", ".join(str(i) for i in sorted(self.missing))
            parts.append(
                f"{len(self.missing)} attachment{'s' * (len(self.missing) != 1)} "
                f"not in the export ({ids})"
            )
        return "; ".join(parts + sorted(set(self.notes)))


@dataclass
class RenderContext:
    """What shortcode handlers may use: the attachment lookup, the post's attachments, the report."""

    attachment: AttachmentLookup | None = None
    attached: Sequence[int] = ()  # the post's own attachments, for [gallery] without ids
    report: ShortcodeReport = field(default_factory=ShortcodeReport)

    def render(self, text: str) -> str:
        """Handle the shortcodes inside an enclosing shortcode's content."""
        return do_shortcodes(text, self)


Handler = Callable[[Shortcode, RenderContext], str]
# Rendered before wpautop: their output is a block (a link card), as WordPress's [embed] is.
EARLY_HANDLERS: dict[str, Handler] = {
    "embed": embeds.embed_shortcode,
    "audio": wp_media.audio,
    "video": wp_media.video,
    **{name: embeds.embed_shortcode for name in embeds.PROVIDER_SHORTCODES},
}
# Rendered after wpautop and shortcode_unautop, as WordPress's do_shortcode does.
LATE_HANDLERS: dict[str, Handler] = {
    "caption": wp_media.caption,
    "wp_caption": wp_media.caption,
    "gallery": wp_media.gallery,
    "playlist": wp_media.playlist,
}
HANDLERS = {**EARLY_HANDLERS, **LATE_HANDLERS}


def _unknown(sc: Shortcode, ctx: RenderContext, inner: Callable[[str], str]) -> str:
    """Count an unknown shortcode; what is left of it is its content, if it has any."""
    ctx.report[sc.name] += 1
    return inner(sc.content) if sc.content else ""


def do_shortcodes(text: str, ctx: RenderContext) -> str:
    """Replace every shortcode in `text` by its HTML; unknown ones are removed and counted."""

    def render(sc: Shortcode) -> str:
        if handler := HANDLERS.get(sc.name):
            return handler(sc, ctx)
        return _EDGE_BREAKS.sub("", _unknown(sc, ctx, ctx.render))

    return replace_shortcodes(text, render)


def _early(text: str, ctx: RenderContext) -> str:
    """Embed-like shortcodes become cards and unknown ones go; the rest wait for wpautop."""

    def render(sc: Shortcode) -> str:
        if sc.name in EARLY_HANDLERS:
            return EARLY_HANDLERS[sc.name](sc, ctx)
        if sc.name not in LATE_HANDLERS:
            return _unknown(sc, ctx, lambda inner: _early(inner, ctx))
        head = text[sc.start + len(sc.prefix) : sc.content_start]
        if sc.content is None:
            return head
        tail = text[sc.content_start + len(sc.content) : sc.end - len(sc.suffix)]
        return head + _early(sc.content, ctx) + tail

    return replace_shortcodes(text, render, keep_escaped=True)


def _isolate(text: str) -> str:
    """Put blank lines around a [caption]/[gallery]/[playlist] that is alone on its line."""
    out, pos = [], 0
    for sc in find_shortcodes(text, LATE_HANDLERS):
        line_start = text.rfind("\n", 0, sc.start) + 1
        line_end = text.find("\n", sc.end)
        rest = text[sc.end :] if line_end < 0 else text[sc.end : line_end]
        if sc.escaped or text[line_start : sc.start].strip() or rest.strip():
            continue
        out += [text[pos : sc.start], "\n\n", text[sc.start : sc.end], "\n\n"]
        pos = sc.end
    return "".join(out) + text[pos:]


def has_blocks(content: str) -> bool:
    """Whether `content` was written in the block editor (WordPress skips wpautop for it)."""
    return "<!-- wp:" in content


def render_classic(
    content: str, attachment: AttachmentLookup | None = None, *, attached: Sequence[int] = ()
) -> tuple[str, ShortcodeReport]:
    """A WordPress post's content as HTML, the way WordPress shows it, plus what was removed."""
    ctx = RenderContext(attachment, tuple(attached))
    html = embeds.replace_players(embeds.autoembed(_early(content or "", ctx)))
    if not has_blocks(html):
        html = wpautop(_isolate(html))
    html = do_shortcodes(shortcode_unautop(html), ctx)
    return html, ctx.report
