"""WordPress's classic-editor paragraph rules (``wpautop``), written afresh over a token stream.

The rules, as WordPress documents and tests them:

- A blank line ends a paragraph: each stretch of text and inline markup between blank lines is
  wrapped in ``<p>``. A single newline inside a paragraph becomes ``<br />`` (unless ``br`` is
  false, or a ``<br>`` already ends that line). Two ``<br>`` in a row count as a blank line.
- Block-level elements (WordPress's list: table parts, div, dl/dd/dt, ul/ol/li, pre, form, map,
  area, blockquote, address, math, style, p, h1-h6, hr, fieldset, legend, section, article,
  aside, hgroup, header, footer, nav, figure, figcaption, details, menu, summary) are never
  wrapped, and the whitespace around them never becomes ``<br />``. Text that starts right inside
  one (``<li>text``, ``<td>text``, ``<div>text``) is left unwrapped, except in ``<blockquote>``,
  whose content always becomes paragraphs.
- A ``<p>`` already in the text is a paragraph like any other: it does not switch these rules
  off for the rest of the post, and a blank line inside it starts a new paragraph.
- ``<pre>`` elements are never touched, byte for byte. Newlines inside tags, comments, CDATA,
  ``<script>``, ``<style>`` and ``<svg>`` are kept (no ``<br />``, no paragraph breaks).
- As in WordPress, whitespace is dropped before ``<option>`` and after ``</option>``, inside
  ``<object>`` around ``<param>``/``<embed>``, and inside ``<audio>``/``<video>`` (and the
  ``[audio]``/``[video]`` shortcodes) around ``<source>``/``<track>``, so these stay whole.
- Shortcodes are plain text here; ``shortcodes.shortcode_unautop`` unwraps lone ones afterwards.
- CRLF and CR become LF (outside ``<pre>``).

Deliberate differences from WordPress: a paragraph holding nothing but HTML comments (such as
``<!--more-->``) is not wrapped in ``<p>``; blank lines inside ``<script>``, ``<style>`` or
``<svg>`` do not split them; no ``<br />`` is left before any block tag; a block tag or a new
paragraph closes an open ``<p>`` (as a browser would), so no stray ``</p>`` is produced; and a
closing block tag with nothing open to close is dropped.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from service.importers.htmlscan import segments

BLOCKS = frozenset(
    {
        "table",
        "thead",
        "tfoot",
        "caption",
        "col",
        "colgroup",
        "tbody",
        "tr",
        "td",
        "th",
        "div",
        "dl",
        "dd",
        "dt",
        "ul",
        "ol",
        "li",
        "pre",
        "form",
        "map",
        "area",
        "blockquote",
        "address",
        "math",
        "style",
        "p",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "fieldset",
        "legend",
        "section",
        "article",
        "aside",
        "hgroup",
        "header",
        "footer",
        "nav",
        "figure",
        "figcaption",
        "details",
        "menu",
        "summary",
    }
)
_VOID_BLOCKS = frozenset({"hr"})
_COMMENT = "!--"
_NEWLINES = re.compile(r"\r\n?")
_BLANK = re.compile(r"\n\s*\n")
_EOL = re.compile(r"[ \t]*\n")
_MEDIA_OPEN = re.compile(r"(\[(?:audio|video)\b[^\]]*\])\s+")
_MEDIA_CLOSE = re.compile(r"\s+(\[/(?:audio|video)\])")


class _Tok(NamedTuple):
    kind: str  # "text" | "inline" | "open" | "close" | "atom" (a whole block: pre, style, <hr>)
    name: str
    raw: str


def wpautop(text: str, br: bool = True) -> str:
    """Turn classic-editor text into paragraphs and line breaks the way WordPress shows it."""
    if not text or not text.strip():
        return ""
    tokens = _glue(_pair_brs(_tokens(text)), text.lower())
    return _Builder(br).build(tokens)


def _tokens(text: str) -> list[_Tok]:
    toks = []
    for seg in segments(text):
        if seg.kind == "raw" and seg.name == "pre":
            toks.append(_Tok("atom", "pre", seg.raw))  # byte-exact, CRs and all
            continue
        raw = _NEWLINES.sub("\n", seg.raw)
        if seg.kind == "text":
            toks.append(_Tok("text", "", raw))
        elif seg.kind == "comment":
            toks.append(_Tok("inline", _COMMENT, raw))
        elif seg.kind == "raw":
            toks.append(_Tok("atom" if seg.name == "style" else "inline", seg.name, raw))
        else:
            toks.append(_Tok(_tag_kind(seg.name, raw), seg.name, raw))
    return toks


def _tag_kind(name: str, raw: str) -> str:
    if name not in BLOCKS:
        return "inline"
    if raw.startswith("</"):
        return "close"
    return "atom" if raw.endswith("/>") or name in _VOID_BLOCKS else "open"


def _is_br(tok: _Tok) -> bool:
    return tok.kind == "inline" and tok.name == "br"


def _pair_brs(tokens: list[_Tok]) -> list[_Tok]:
    """Two ``<br>`` with only whitespace between them become a blank line; adjacent text joins."""
    out: list[_Tok] = []
    for tok in tokens:
        if _is_br(tok) and out and _is_br(out[-1]):
            out[-1] = _Tok("text", "", "\n\n")
        elif (
            _is_br(tok)
            and len(out) > 1
            and out[-1].kind == "text"
            and not out[-1].raw.strip()
            and _is_br(out[-2])
        ):
            out[-2:] = [_Tok("text", "", "\n\n")]
        elif tok.kind == "text" and out and out[-1].kind == "text":
            out[-1] = out[-1]._replace(raw=out[-1].raw + tok.raw)
        else:
            out.append(tok)
    return out


def _glue_sides(tok: _Tok, has_object: bool, has_media: bool) -> tuple[bool, bool]:
    """Whether whitespace before / after this inline tag is dropped (WordPress's collapses)."""
    closing = tok.raw.startswith("</")
    if tok.name == "option":
        return (not closing, closing)
    if has_object and tok.name == "object" or has_media and tok.name in ("audio", "video"):
        return (closing, not closing)
    if (
        has_object
        and tok.name in ("param", "embed")
        or has_media
        and tok.name in ("source", "track")
    ):
        return (True, True)
    return (False, False)


def _glue(tokens: list[_Tok], lowered: str) -> list[_Tok]:
    has_object = "</object>" in lowered
    has_media = "<source" in lowered or "<track" in lowered
    toks = list(tokens)
    for i, tok in enumerate(toks):
        if tok.kind != "inline" or tok.name == _COMMENT:
            continue
        before, after = _glue_sides(tok, has_object, has_media)
        if before and i > 0 and toks[i - 1].kind == "text":
            toks[i - 1] = toks[i - 1]._replace(raw=toks[i - 1].raw.rstrip())
        if after and i + 1 < len(toks) and toks[i + 1].kind == "text":
            toks[i + 1] = toks[i + 1]._replace(raw=toks[i + 1].raw.lstrip())
    if has_media:
        toks = [
            t._replace(raw=_MEDIA_CLOSE.sub(r"\1", _MEDIA_OPEN.sub(r"\1", t.raw)))
            if t.kind == "text"
            else t
            for t in toks
        ]
    return [t for t in toks if t.kind != "text" or t.raw]


def _pieces(run: list[_Tok]) -> list[list[_Tok]]:
    """Split a run of inline tokens at blank lines; each piece trimmed (blank ones empty)."""
    pieces: list[list[_Tok]] = []
    current: list[_Tok] = []
    for tok in run:
        if tok.kind != "text":
            current.append(tok)
            continue
        first, *rest = _BLANK.split(tok.raw)
        current.append(tok._replace(raw=first))
        for part in rest:
            pieces.append(current)
            current = [tok._replace(raw=part)]
    pieces.append(current)
    return [_trim(piece) for piece in pieces]


def _trim(piece: list[_Tok]) -> list[_Tok]:
    toks = [t for t in piece if t.kind != "text" or t.raw]
    if toks and toks[0].kind == "text":
        toks[0] = toks[0]._replace(raw=toks[0].raw.lstrip())
    if toks and toks[-1].kind == "text":
        toks[-1] = toks[-1]._replace(raw=toks[-1].raw.rstrip())
    return [t for t in toks if t.kind != "text" or t.raw]


def _comments_only(piece: list[_Tok]) -> bool:
    return all(t.name == _COMMENT or t.kind == "text" and not t.raw.strip() for t in piece)


class _Builder:
    """Walks the tokens once, keeping a stack of open block elements."""

    def __init__(self, br: bool):
        self.br = br
        self.out: list[str] = []
        self.stack: list[tuple[str, int]] = []  # (element name, index of its tag in out)

    def build(self, tokens: list[_Tok]) -> str:
        run: list[_Tok] = []
        tight = False  # the current run starts right after an opening block tag
        for tok in tokens:
            if tok.kind in ("text", "inline"):
                run.append(tok)
                continue
            self._flush(run, tight)
            run = []
            tight = self._block(tok)
        self._flush(run, tight)
        return "".join(self.out)

    def _newline(self) -> None:
        if self.out and not self.out[-1].endswith("\n"):
            self.out.append("\n")

    def _close_p(self) -> None:
        """End an open ``<p>`` (dropping it if nothing was written inside)."""
        if not self.stack or self.stack[-1][0] != "p":
            return
        _, index = self.stack.pop()
        self._end_p(index)

    def _end_p(self, index: int) -> None:
        if index == len(self.out) - 1:  # an empty <p></p>: gone, as in WordPress
            del self.out[index]
        else:
            self.out.append("</p>\n")

    def _block(self, tok: _Tok) -> bool:
        if tok.kind == "close":
            self._close(tok)
            return False
        self._close_p()
        self._newline()
        self.out.append(tok.raw)
        if tok.kind == "atom":
            self.out.append("\n")
            return False
        self.stack.append((tok.name, len(self.out) - 1))
        return tok.name != "blockquote"

    def _close(self, tok: _Tok) -> None:
        if tok.name not in (name for name, _ in self.stack):
            return  # a closing tag with nothing to close (a browser ignores it too)
        while self.stack:
            name, index = self.stack.pop()
            if name == "p":
                self._end_p(index)
            if name == tok.name:
                break
        if tok.name != "p":
            self.out.append(tok.raw + "\n")

    def _flush(self, run: list[_Tok], tight: bool) -> None:
        if not run:
            return
        for i, piece in enumerate(_pieces(run)):
            if not piece:
                continue
            if i == 0 and tight:
                self.out.append(self._inline(piece))
                continue
            self._close_p()
            self._newline()
            if _comments_only(piece):
                self.out.append("".join(t.raw for t in piece) + "\n")
            else:
                self.out.append(f"<p>{self._inline(piece)}</p>\n")

    def _inline(self, piece: list[_Tok]) -> str:
        parts = []
        after_br = False
        for tok in piece:
            if tok.kind != "text":
                parts.append(tok.raw)
                after_br = _is_br(tok)
                continue
            parts.append(_breaks(tok.raw, after_br) if self.br else tok.raw)
            after_br = after_br and not tok.raw.strip()
        return "".join(parts)


def _breaks(text: str, after_br: bool) -> str:
    """Newlines become ``<br />`` + newline, except one that follows a ``<br>`` already."""

    def replace(m: re.Match[str]) -> str:
        if after_br and not text[: m.start()].strip():
            return "\n"
        return "<br />\n"

    return _EOL.sub(replace, text)
