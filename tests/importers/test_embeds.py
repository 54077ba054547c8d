"""Embeds become link cards: nothing from a third party loads until the reader clicks."""

from __future__ import annotations

import re

import nh3
import pytest

from service.importers.embeds import canonical_url, embed_card
from service.importers.shortcodes import render_classic
from tests.importers.normalise import normalise

YT = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
YT_CARD = (
    '<figure class="embed embed-youtube"><a class="embed-card" '
    f'href="{YT}">YouTube: watch the video</a></figure>'
)


def _no_third_party_loads(html: str) -> None:
    assert not re.search(r"<(?:iframe|script|object|embed|img|video|audio|source)\b", html)


@pytest.mark.parametrize(
    "url",
    [
        YT,
        "http://youtube.com/watch?v=dQw4w9WgXcQ&feature=share",
        "https://youtu.be/dQw4w9WgXcQ",
        "https://m.youtube.com/watch?v=dQw4w9WgXcQ",
        "https://www.youtube.com/embed/dQw4w9WgXcQ",
        "//www.youtube-nocookie.com/embed/dQw4w9WgXcQ?rel=0",
        "https://youtube.com/shorts/dQw4w9WgXcQ",
        "http://www.youtube.com/v/dQw4w9WgXcQ&hl=en&fs=1",
    ],
)
def test_youtube_urls_become_the_watch_page(url):
    assert canonical_url(url if not url.startswith("//") else "https:" + url) == YT


def test_start_time_is_kept_and_playlists_stay_playlists():
    assert canonical_url("https://youtu.be/dQw4w9WgXcQ?t=42") == YT + "&t=42"
    assert canonical_url("https://www.youtube.com/embed/videoseries?list=PL123") == (
        "https://www.youtube.com/playlist?list=PL123"
    )


def test_player_urls_become_page_urls():
    assert canonical_url("https://player.vimeo.com/video/76979871?h=8272103f6e") == (
        "https://vimeo.com/76979871/8272103f6e"
    )
    assert canonical_url("https://open.spotify.com/embed/track/4uLU6hMCjMI75M1A2tKUQC") == (
        "https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC"
    )
    assert canonical_url("https://w.soundcloud.com/player/?url=https%3A//soundcloud.com/a/b") == (
        "https://soundcloud.com/a/b"
    )


def test_embed_shortcode_and_lone_url():
    for content in (
        f"[embed]{YT}[/embed]",
        f'[embed width="640"]{YT}[/embed]',
        YT,
        f"<p>{YT}</p>",
        f"[youtube {YT}]",
        "[youtube dQw4w9WgXcQ]",
    ):
        html, report = render_classic(content)
        assert html.strip() == YT_CARD, content
        assert not report


@pytest.mark.parametrize(
    ("url", "slug", "text"),
    [
        (
            "https://twitter.com/nacin/status/319508408669708289",
            "twitter",
            "X (Twitter): view the post",
        ),
        ("https://x.com/nacin/status/319508408669708289", "twitter", "X (Twitter): view the post"),
        ("https://www.instagram.com/p/CabcDEF123/", "instagram", "Instagram: view the post"),
        ("https://vimeo.com/76979871", "vimeo", "Vimeo: watch the video"),
        ("https://soundcloud.com/artist/track", "soundcloud", "SoundCloud: listen"),
        ("https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC", "spotify", "Spotify: listen"),
        (
            "https://www.tiktok.com/@user/video/7106594312292453675",
            "tiktok",
            "TikTok: watch the video",
        ),
    ],
)
def test_lone_provider_urls(url, slug, text):
    html, _ = render_classic(f"Before.\n\n{url}\n\nAfter.")
    assert normalise(html) == normalise(
        f'<p>Before.</p><figure class="embed embed-{slug}"><a class="embed-card" href="{url}">'
        f"{text}</a></figure><p>After.</p>"
    )


@pytest.mark.parametrize(
    "content",
    [
        f"Watch {YT} now.",
        f"<pre>{YT}</pre>",
        f"<!--\n{YT}\n-->",
        f'<a href="{YT}">\n{YT}\n</a>x',
        "https://example.com/some/page",
        "https://twitter.com/",
        "https://www.youtube.com/",
    ],
)
def test_urls_that_stay_text(content):
    html, _ = render_classic(content)
    assert "embed-card" not in html


def test_iframes_become_cards():
    html, _ = render_classic(
        '<iframe width="560" height="315" src="https://www.youtube.com/embed/dQw4w9WgXcQ" '
        'frameborder="0" allowfullscreen></iframe>\n\n'
        '<iframe src="https://player.vimeo.com/video/76979871" width="640"></iframe>\n\n'
        '<iframe src="https://www.google.com/maps/embed?pb=1"></iframe>\n\n'
        '<iframe src="javascript:alert(1)"></iframe>'
    )
    assert YT_CARD in html
    assert '<a class="embed-card" href="https://vimeo.com/76979871">Vimeo: watch' in html
    assert (
        '<figure class="embed embed-link"><a class="embed-card" href="https://www.google.com'
        '/maps/embed?pb=1">Embedded content from www.google.com</a></figure>'
    ) in html
    assert "javascript:" not in html.replace('<iframe src="javascript:alert(1)"></iframe>', "")


def test_flash_objects_of_known_providers_become_cards():
    html, _ = render_classic(
        '<object width="425" height="344"><param name="movie" value="http://www.youtube.com/v/'
        'dQw4w9WgXcQ&hl=en&fs=1"></param><embed src="http://www.youtube.com/v/dQw4w9WgXcQ&hl=en'
        '&fs=1" type="application/x-shockwave-flash"></embed></object>'
    )
    assert html.strip() == YT_CARD


def test_audio_and_video_link_to_the_file():
    html, _ = render_classic(
        "[audio https://blog.example/files/song%20one.mp3]\n\n"
        '[video width="640" mp4="https://blog.example/clip.mp4"][/video]\n\n'
        '[video]<source src="https://blog.example/b.webm" />[/video]\n\n'
        f'[video src="{YT}"]'
    )
    assert normalise(html) == normalise(
        '<figure class="embed embed-audio"><a class="embed-card" href="https://blog.example/files/'
        'song%20one.mp3">Audio: song one.mp3</a></figure>'
        '<figure class="embed embed-video"><a class="embed-card" href="https://blog.example/'
        'clip.mp4">Video: clip.mp4</a></figure>'
        '<figure class="embed embed-video"><a class="embed-card" href="https://blog.example/'
        f'b.webm">Video: b.webm</a></figure>{YT_CARD}'
    )


def test_embed_like_shortcodes_with_nothing_to_link_are_reported():
    html, report = render_classic("[audio]\n\n[spotify]\n\nText")
    assert normalise(html) == "<p>Text</p>"
    assert report == {"audio": 1, "spotify": 1}


def test_cards_load_nothing_and_survive_the_allow_list():
    html, _ = render_classic(
        f'{YT}\n\n<iframe src="https://player.vimeo.com/video/1"></iframe>'
        "\n\n[embed]https://example.org/x[/embed]"
    )
    _no_third_party_loads(html)
    cleaned = nh3.clean(
        html,
        tags={"figure", "figcaption", "a", "img", "p"},
        attributes={"figure": {"class"}, "a": {"class", "href"}},
        link_rel=None,
    )
    assert normalise(cleaned) == normalise(html)


def test_card_text_and_href_are_escaped():
    card = embed_card('https://example.org/a?b=1&c="><script>')
    assert "<script>" not in card and "&amp;c=" in card
