"""Embedded players and oEmbed links, as privacy-friendly link cards.

WordPress turns ``[embed]URL[/embed]``, a provider URL alone on its line, and (through plugins)
``[youtube …]``-style shortcodes into third-party iframes. Margins shows a link card instead:

    <figure class="embed embed-youtube"><a class="embed-card"
      href="https://www.youtube.com/watch?v=ID">YouTube: watch the video</a></figure>

plain HTML (figure, a, class) that loads nothing from the provider until the reader clicks:
no iframe, no script, no remote thumbnail. The same goes for ``<iframe>`` players (YouTube,
youtube-nocookie, player.vimeo.com, open.spotify.com, w.soundcloud.com, …; an iframe from
anywhere else becomes a card "Embedded content from host") and for old ``<object>``/``<embed>``
Flash players whose URL is a known provider's. Player URLs are turned back into the page URL
(``/embed/ID`` → ``/watch?v=ID``, ``player.vimeo.com/video/ID`` → ``vimeo.com/ID``).

Providers follow WordPress's oEmbed list (plus Instagram and Facebook, which it dropped in 5.5.2
but old posts still link). A lone URL counts only when the provider's URL has a path (a bare
``https://twitter.com/`` line stays text) and, for YouTube and Vimeo, names a video.
"""

from __future__ import annotations

import bisect
import html
import posixpath
import re
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import parse_qs, quote, unquote, urlsplit, urlunsplit

from service.importers.htmlscan import TAG_MASK, mask

if TYPE_CHECKING:
    from service.importers.shortcode_parser import Shortcode
    from service.importers.shortcodes import RenderContext

WATCH, LISTEN, POST = "watch the video", "listen", "view the post"


class Provider(NamedTuple):
    slug: str
    label: str
    verb: str
    hosts: tuple[str, ...]
    path: str = r"/."  # a lone URL must match this (re.match on the path) to become a card


PROVIDERS = (
    Provider("youtube", "YouTube", WATCH, ("youtube.com", "youtu.be", "youtube-nocookie.com")),
    Provider("vimeo", "Vimeo", WATCH, ("vimeo.com",), r"/(?:.*/)?\d+"),
    Provider("dailymotion", "Dailymotion", WATCH, ("dailymotion.com", "dai.ly")),
    Provider("tiktok", "TikTok", WATCH, ("tiktok.com",)),
    Provider("ted", "TED", WATCH, ("ted.com",), r"/talks/"),
    Provider("wordpress-tv", "WordPress.tv", WATCH, ("wordpress.tv", "videopress.com")),
    Provider("animoto", "Animoto", WATCH, ("animoto.com", "video214.com")),
    Provider("screencast", "Screencast", WATCH, ("screencast.com",)),
    Provider("twitter", "X (Twitter)", POST, ("twitter.com", "x.com")),
    Provider("instagram", "Instagram", POST, ("instagram.com", "instagr.am"), r"/(?:p|reel|tv)/"),
    Provider("facebook", "Facebook", POST, ("facebook.com", "fb.watch")),
    Provider("tumblr", "Tumblr", POST, ("tumblr.com",), r"/post/"),
    Provider("reddit", "Reddit", POST, ("reddit.com",), r"/r/[^/]+/comments/"),
    Provider("bluesky", "Bluesky", POST, ("bsky.app",), r"/profile/[^/]+/post/"),
    Provider("soundcloud", "SoundCloud", LISTEN, ("soundcloud.com",)),
    Provider("spotify", "Spotify", LISTEN, ("spotify.com",)),
    Provider("mixcloud", "Mixcloud", LISTEN, ("mixcloud.com",)),
    Provider("reverbnation", "ReverbNation", LISTEN, ("reverbnation.com",)),
    Provider("pocketcasts", "Pocket Casts", LISTEN, ("pca.st", "pocketcasts.com")),
    Provider("anghami", "Anghami", LISTEN, ("anghami.com",)),
    Provider("flickr", "Flickr", "view the photo", ("flickr.com", "flic.kr")),
    Provider("imgur", "Imgur", "view the image", ("imgur.com",)),
    Provider("smugmug", "SmugMug", "view the photo", ("smugmug.com",)),
    Provider("pinterest", "Pinterest", "view the pin", ("pinterest.com",)),
    Provider("slideshare", "SlideShare", "view the slides", ("slideshare.net",)),
    Provider("speakerdeck", "Speaker Deck", "view the slides", ("speakerdeck.com",)),
    Provider("scribd", "Scribd", "read the document", ("scribd.com",)),
    Provider("issuu", "Issuu", "read the publication", ("issuu.com",)),
    Provider("kickstarter", "Kickstarter", "view the project", ("kickstarter.com", "kck.st")),
    Provider(
        "crowdsignal",
        "Crowdsignal",
        "take the poll",
        ("crowdsignal.com", "crowdsignal.net", "polldaddy.com", "poll.fm", "survey.fm"),
    ),
    Provider("cloudup", "Cloudup", "view the upload", ("cloudup.com",)),
    Provider("wolfram", "Wolfram Cloud", "open the notebook", ("wolframcloud.com",)),
)
# Jetpack-style shortcodes named after a provider: [youtube URL], [vimeo 123], [tweet URL]…
PROVIDER_SHORTCODES = frozenset(
    {
        "youtube",
        "vimeo",
        "dailymotion",
        "soundcloud",
        "spotify",
        "tweet",
        "instagram",
        "tiktok",
        "flickr",
        "slideshare",
        "mixcloud",
        "ted",
        "facebook",
    }
)
_ID_URLS = {
    "youtube": "https://www.youtube.com/watch?v={}",
    "vimeo": "https://vimeo.com/{}",
    "dailymotion": "https://www.dailymotion.com/video/{}",
    "tweet": "https://twitter.com/i/status/{}",
}
_YT_ID = re.compile(r"[A-Za-z0-9_-]{6,}")
_YT_PATH = re.compile(r"/(?:embed|v|e|shorts|live)/([^/?&#]+)")
_YT_TIME = re.compile(r"\d+s?|(?:\d+h)?(?:\d+m)?(?:\d+s)?")
_LONE_URL = re.compile(
    r"^(?P<lead>[ \t]*(?P<p><p>)?[ \t]*)(?P<url>https?://[^\s<>\"]+)"
    r"(?P<trail>[ \t]*(?P<endp></p>)?[ \t\r]*)$",
    re.MULTILINE,
)
_PLAYER = re.compile(
    r"<iframe\b[^>]*>(?:.*?</iframe\s*>)?|<object\b[^>]*>.*?</object\s*>"
    r"|<embed\b[^>]*>",
    re.DOTALL | re.IGNORECASE,
)
_PLAYER_URL = re.compile(r"""\b(?:src|data-src|data|value)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]*>")
_LINK_TAG = re.compile(r"<a[\s>]|</a\s*>", re.IGNORECASE)


def safe_url(url: str) -> str | None:
    """`url` as an absolute http(s) URL (protocol-relative ones become https), else None."""
    url = html.unescape(url.strip())
    if url.startswith("//"):
        url = "https:" + url
    parts = urlsplit(url)
    return url if parts.scheme.lower() in ("http", "https") and parts.hostname else None


def provider_for(url: str) -> Provider | None:
    """The oEmbed provider whose site `url` is on, if any."""
    host = (urlsplit(url).hostname or "").lower()
    for provider in PROVIDERS:
        if any(host == h or host.endswith("." + h) for h in provider.hosts):
            return provider
    return None


def _youtube(parts) -> str | None:
    query = parse_qs(parts.query)
    if parts.path.startswith("/playlist") or parts.path == "/embed/videoseries":
        playlist = query.get("list", [""])[0]
        return f"https://www.youtube.com/playlist?list={quote(playlist)}" if playlist else None
    if (parts.hostname or "").endswith("youtu.be"):
        video = parts.path.strip("/").split("/")[0]
    elif parts.path == "/watch":
        video = query.get("v", [""])[0]
    else:
        m = _YT_PATH.match(parts.path)
        video = m.group(1) if m else ""
    m = _YT_ID.match(video)
    if not m:
        return None
    start = (query.get("t") or query.get("start") or [""])[0]
    suffix = f"&t={start}" if start and _YT_TIME.fullmatch(start) else ""
    return f"https://www.youtube.com/watch?v={m.group(0)}{suffix}"


def canonical_url(url: str) -> str:
    """The page URL behind a player or share URL (https, embed paths undone where known)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    slug = provider.slug if (provider := provider_for(url)) else ""
    if slug == "youtube" and (page := _youtube(parts)):
        return page
    if host == "player.vimeo.com" and (m := re.match(r"/video/(\d+)", parts.path)):
        private = parse_qs(parts.query).get("h", [""])[0]
        return f"https://vimeo.com/{m.group(1)}" + (f"/{quote(private)}" if private else "")
    if host == "w.soundcloud.com" and (track := parse_qs(parts.query).get("url")):
        return canonical_url(track[0])
    path = parts.path.replace("/embed/", "/", 1) if slug == "spotify" else parts.path
    return urlunsplit(
        ("https" if slug else parts.scheme, parts.netloc, path, parts.query, parts.fragment)
    )


def embed_card(url: str) -> str:
    """A link card for `url`: names the provider, loads nothing until clicked."""
    page = canonical_url(url)
    provider = provider_for(page)
    if provider:
        slug, text = provider.slug, f"{provider.label}: {provider.verb}"
    else:
        slug, text = "link", f"Embedded content from {urlsplit(page).hostname}"
    return (
        f'<figure class="embed embed-{slug}"><a class="embed-card" '
        f'href="{html.escape(page)}">{html.escape(text)}</a></figure>'
    )


def media_card(url: str, kind: str) -> str:
    """A link card for an audio or video file (or a provider's page, if it is one)."""
    if provider_for(url):
        return embed_card(url)
    name = unquote(posixpath.basename(urlsplit(url).path)) or urlsplit(url).hostname
    return (
        f'<figure class="embed embed-{kind}"><a class="embed-card" href="{html.escape(url)}">'
        f"{kind.capitalize()}: {html.escape(name or url)}</a></figure>"
    )


def _is_lone_embed(url: str) -> bool:
    provider = provider_for(url)
    if provider and provider.slug == "youtube":
        return _youtube(urlsplit(url)) is not None
    return bool(provider and re.match(provider.path, urlsplit(url).path or "/"))


def _link_events(text: str) -> tuple[list[int], list[bool]]:
    """Positions of ``<a>`` and ``</a>`` tags, and whether each opens a link."""
    found = [(m.start(), m.group(0)[1] != "/") for m in _LINK_TAG.finditer(text)]
    return [pos for pos, _ in found], [opens for _, opens in found]


def autoembed(text: str) -> str:
    """Replace provider URLs alone on their line (or alone in a ``<p>``) with link cards."""
    masked = mask(text)
    positions, opens = _link_events(text)

    def in_link(pos: int) -> bool:  # a URL that is a link's text is not an embed
        i = bisect.bisect_left(positions, pos)
        return i > 0 and opens[i - 1]

    def replace(m: re.Match[str]) -> str:
        url = m.group("url")
        visible = masked[m.start("url") : m.end("url")] == url
        paired = bool(m.group("p")) == bool(m.group("endp"))
        if not (visible and paired and _is_lone_embed(url)) or in_link(m.start()):
            return m.group(0)
        return embed_card(url)

    return _LONE_URL.sub(replace, text)


def replace_players(text: str) -> str:
    """Replace ``<iframe>`` players, and ``<object>``/``<embed>`` ones of known providers."""
    masked = mask(text)

    def replace(m: re.Match[str]) -> str:
        if masked[m.start()] != TAG_MASK:  # inside a comment, <pre>, <code>…
            return m.group(0)
        urls = [u for u in map(safe_url, _PLAYER_URL.findall(m.group(0))) if u]
        known = [u for u in urls if provider_for(u)]
        if known:
            return embed_card(known[0])
        is_iframe = m.group(0)[:7].lower() == "<iframe"
        return embed_card(urls[0]) if is_iframe and urls else m.group(0)

    return _PLAYER.sub(replace, text)


def shortcode_url(sc: Shortcode, keys: tuple[str, ...] = ("url", "src", "href")) -> str | None:
    """The first http(s) URL a shortcode names: in `keys`, positionally, or as its content."""
    candidates = [sc.attrs.get(k, "") for k in keys] + list(sc.positional)
    candidates.append(_TAGS.sub("", sc.content or ""))
    return next((u for u in map(safe_url, candidates) if u), None)


def embed_shortcode(sc: Shortcode, ctx: RenderContext) -> str:
    """``[embed]URL[/embed]`` and ``[youtube URL]``-style shortcodes, as link cards."""
    url = shortcode_url(sc)
    if not url and sc.name in _ID_URLS:
        ident = sc.attrs.get("id") or next(iter(sc.positional), "")
        if re.fullmatch(r"[\w-]+", ident):
            url = _ID_URLS[sc.name].format(ident)
    if not url:
        ctx.report[sc.name] += 1  # nothing to link to: removed, and said so
        return ""
    return embed_card(url)
