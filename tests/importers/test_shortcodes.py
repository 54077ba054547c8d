"""Shortcodes: WordPress's parser tests (ported as data), our tag rule, captions, galleries, order."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.importers.shortcode_parser import (
    find_shortcodes,
    parse_attributes,
    replace_shortcodes,
    shortcode_unautop,
)
from service.importers.shortcodes import ShortcodeReport, render_classic
from service.importers.wpautop import wpautop
from tests.importers.normalise import normalise

DATA = json.loads((Path(__file__).parent / "data" / "shortcode_cases.json").read_text())
REGISTERED = frozenset(DATA["registered"])
CODE = re.compile(r"<(pre|code)\b.*?(?:</\1>|\Z)", re.DOTALL)
LEFT_OVER = re.compile(r"\[(?:/?(?:gallery|caption|embed|vc_row)\b|foo a=1|bar /)")


def _cases(group: str) -> list:
    return [
        pytest.param(
            case,
            id=f"{case['test']}-{i}",
            marks=[pytest.mark.skip(reason=case["skip"])] if case["skip"] else [],
        )
        for i, case in enumerate(DATA[group])
    ]


@pytest.mark.parametrize("case", _cases("attributes"))
def test_wordpress_attribute_case(case):
    text = case["input"]
    found = find_shortcodes(text)
    named, positional = (
        (found[0].attrs, list(found[0].positional))
        if text.startswith("[")
        else parse_attributes(text)
    )
    assert (named, positional) == (case["named"], case["positional"])


def _wordpress_test_handler(sc):
    """The handlers Tests_Shortcode registers (footag, bartag, baztag, dumptag, …)."""
    if sc.name == "footag":
        return f"foo = {sc.attrs.get('foo', '')}"
    if sc.name == "bartag":
        return f"foo = {sc.attrs.get('foo', 'no foo')}"
    if sc.name == "baztag":
        return "content = " + _do(sc.content or "")
    if sc.name == "dumptag":
        pairs = [*sc.attrs.items(), *enumerate(sc.positional)]
        return "".join(f"{k} = {v}\n" for k, v in pairs)
    if sc.name.startswith("hyphen"):
        return "_shortcode_" + sc.name.replace("-", "_")
    if sc.name == "url":
        return "http://www.wordpress.org/"
    return ""  # test-shortcode-tag, and gallery with no attachments


def _do(text: str) -> str:
    return replace_shortcodes(text, _wordpress_test_handler, REGISTERED)


@pytest.mark.parametrize("case", _cases("do_shortcode"))
def test_wordpress_do_shortcode_case(case):
    assert _do(case["input"]) == case["expected"]


@pytest.mark.parametrize("case", _cases("unautop"))
def test_wordpress_unautop_case(case):
    text = wpautop(case["input"]) if case["through_wpautop"] else case["input"]
    assert shortcode_unautop(text, REGISTERED | {"gallery"}).strip() == case["expected"].strip()


def test_unautop_leaves_shortcodes_that_share_their_paragraph():
    html = '<p>Look: [gallery ids="1"]</p>\n<p>[gallery] and more</p>'
    assert shortcode_unautop(html) == html


# Which bracketed text is a shortcode, with no registry to ask.

NOT_SHORTCODES = [
    "[sic]",
    "[1]",
    "[12]",
    "[citation needed]",
    "[simple boat]",
    "[x]",
    "[Editor's note: see below]",
    "[TOC]",
    "[a, b]",
    "[...]",
    "[ ]",
    "[note: x=5]",
    "[here's a=b]",
    "[url=http://example.com]link",
    "[[sic]]",
    "[^1]",
    "[/sic]",
]
SHORTCODES = [
    '[contact-form-7 id="5" title="Contact"]',
    "[foo /]",
    "[foo/]",
    "[note]a remark[/note]",
    "[gallery]",
    "[vc_empty_space]",
    "[toc]",
    "[wpforms id=12]",
    "[foo bar='baz']",
    '[et_pb_section fb_built="1"]',
]


@pytest.mark.parametrize("text", NOT_SHORTCODES)
def test_bracketed_prose_is_not_a_shortcode(text):
    assert find_shortcodes(text) == []
    html, report = render_classic(f"Before {text} after.")
    assert f"Before {text} after." in html
    assert not report


@pytest.mark.parametrize("text", SHORTCODES)
def test_tag_like_text_with_evidence_is_a_shortcode(text):
    assert len(find_shortcodes(text)) == 1


@pytest.mark.parametrize(
    "html",
    [
        '<pre>[gallery ids="1"]</pre>',
        "<code>[foo a=1]</code>",
        "<!-- [foo a=1] -->",
        "<a title='[foo a=1]'>x</a>",
        "<script>x = '[foo a=1]'</script>",
        "<textarea>[foo /]</textarea>",
    ],
)
def test_shortcodes_are_not_read_in_code_comments_or_attributes(html):
    assert find_shortcodes(html) == []


def test_attributes_quoted_three_ways_and_positional():
    (sc,) = find_shortcodes("""[thing a="one two" b='three' c=four 5 "six seven"]""")
    assert sc.attrs == {"a": "one two", "b": "three", "c": "four"}
    assert sc.positional == ("5", "six seven")
    assert sc.content is None


def test_enclosing_self_closing_and_escaped_forms():
    found = find_shortcodes("[a x=1]in[/a] [b x=1 /] [[c x=1]] [d x=1]")
    assert [(s.name, s.content, s.escaped) for s in found] == [
        ("a", "in", False),
        ("b", None, False),
        ("c", None, True),
        ("d", None, False),
    ]


# Unknown shortcodes: removed, content kept for enclosing ones, reported.


def test_unknown_shortcodes_are_removed_and_reported():
    html, report = render_classic(
        'Write to us:\n\n[contact-form-7 id="1"]\n\nor here [contact-form-7 id="2" /]\n\n'
        '[wpforms id="9"]\n\nThanks.'
    )
    assert "[" not in html
    assert normalise(html) == normalise("<p>Write to us:</p><p>or here</p><p>Thanks.</p>")
    assert report == {"contact-form-7": 2, "wpforms": 1}
    assert report.summary() == "removed 3 unknown shortcodes: [contact-form-7] ×2, [wpforms] ×1"


def test_unknown_enclosing_shortcodes_keep_their_content():
    html, report = render_classic(
        "[vc_row]\n[vc_column]\nInside a column.\n\n[su_highlight]Bright[/su_highlight] text."
        "\n[/vc_column]\n[/vc_row]"
    )
    assert normalise(html) == normalise("<p>Inside a column.</p><p>Bright text.</p>")
    assert report == {"vc_row": 1, "vc_column": 1, "su_highlight": 1}


def test_orphan_closing_tags_of_shortcodes_are_dropped():
    html, _ = render_classic("One [/caption] two [/vc_row] three [/sic]")
    assert normalise(html) == "<p>One  two  three [/sic]</p>"


def test_escaped_shortcodes_stay_literal_once():
    html, report = render_classic(
        '[[gallery ids="1"]] and [[embed]https://youtu.be/abcdefghijk[/embed]] and [[foo a=1]]'
    )
    assert normalise(html) == normalise(
        '<p>[gallery ids="1"] and [embed]https://youtu.be/abcdefghijk[/embed] and [foo a=1]</p>'
    )
    assert not report


def test_report_summary():
    report = ShortcodeReport({"wpforms": 1})
    assert report.summary() == "removed 1 unknown shortcode: [wpforms] ×1"
    report.missing[7] += 1
    assert report.summary().endswith("; 1 attachment not in the export (7)")
    assert ShortcodeReport().summary() == ""


# [caption]

IMG = '<img src="https://blog.example/a.jpg" alt="A boat" width="300" />'


def test_caption_with_linked_image():
    html, _ = render_classic(
        f'[caption id="attachment_5" align="alignleft" width="300"]'
        f'<a href="https://blog.example/a.jpg">{IMG}</a> A boat on the lake[/caption]'
    )
    assert html.strip() == (
        '<figure class="wp-caption alignleft" id="attachment_5"><a href="https://blog.example/a.jpg">'
        f'{IMG}</a><figcaption class="wp-caption-text">A boat on the lake</figcaption></figure>'
    )


def test_caption_attribute_form_and_defaults():
    html, _ = render_classic(f'Text.\n\n[caption caption="From the attribute"]{IMG}[/caption]')
    assert normalise(html) == normalise(
        f'<p>Text.</p><figure class="wp-caption alignnone">{IMG}'
        '<figcaption class="wp-caption-text">From the attribute</figcaption></figure>'
    )


def test_caption_spanning_lines_has_no_leading_break():
    html, _ = render_classic(f'[caption width="300"]{IMG}\nTwo\nlines[/caption]')
    assert '<figcaption class="wp-caption-text">Two<br />\nlines</figcaption>' in html
    assert "<p>" not in html


def test_caption_without_text_leaves_the_image_and_unsafe_ids_are_cleaned():
    html, _ = render_classic(f'[caption id="x&quot; onload=&quot;y" width="1"]{IMG}[/caption]')
    assert html.strip() == IMG
    html, _ = render_classic(f'[caption id=\'a" onload="b\' caption="c"]{IMG}[/caption]')
    assert 'id="aonloadb"' in html and "onload=" not in html


# [gallery]

ATTACHMENTS = {
    1: ("https://blog.example/1.jpg", 'Say "cheese"', "<em>First</em>"),
    2: ("https://blog.example/2.jpg", "Two", ""),
    3: ("javascript:alert(1)", "Bad", ""),
}


def test_gallery_of_ids():
    html, report = render_classic('[gallery ids="2,1,99" columns="2" link="none"]', ATTACHMENTS.get)
    assert html.strip() == (
        '<figure class="gallery gallery-columns-2">'
        '<figure class="gallery-item"><img src="https://blog.example/2.jpg" alt="Two"></figure>'
        '<figure class="gallery-item"><img src="https://blog.example/1.jpg" alt="Say &quot;'
        'cheese&quot;"><figcaption class="gallery-caption"><em>First</em></figcaption></figure>'
        "</figure>"
    )
    assert report.missing == {99: 1} and not report


def test_gallery_without_ids_shows_the_posts_attachments():
    html, _ = render_classic('[gallery exclude="2"]', ATTACHMENTS.get, attached=[1, 2])
    assert html.count('class="gallery-item"') == 1
    assert '<a href="https://blog.example/1.jpg"><img' in html
    assert 'gallery-columns-3"' in html


def test_gallery_with_nothing_to_show_is_removed_and_noted():
    html, report = render_classic("Before\n\n[gallery]\n\nAfter", None)
    assert normalise(html) == "<p>Before</p><p>After</p>"
    assert "empty [gallery]" in report.summary()
    html, report = render_classic('[gallery ids="3"]', ATTACHMENTS.get)  # unsafe URL: skipped
    assert html.strip() == "" and report.missing == {3: 1}


def test_playlist_is_a_list_of_links():
    html, _ = render_classic('[playlist ids="1,2"]', ATTACHMENTS.get)
    assert html.strip() == (
        '<ul class="wp-playlist"><li><a href="https://blog.example/1.jpg">'
        'Say &quot;cheese&quot;</a></li><li><a href="https://blog.example/2.jpg">'
        "Two</a></li></ul>"
    )


# Order: embeds, wpautop, shortcode_unautop, then shortcodes.


def test_a_shortcode_alone_in_its_paragraph_is_not_wrapped():
    html, _ = render_classic('Intro.\n\n[gallery ids="1"]\n\nOutro.', ATTACHMENTS.get)
    assert normalise(html).startswith('<p>Intro.</p><figure class="gallery')
    assert "<p><figure" not in html


def test_a_shortcode_alone_on_its_line_gets_its_own_block():
    html, _ = render_classic('Intro.\n[gallery ids="1"]\nOutro.', ATTACHMENTS.get)
    assert normalise(html).startswith('<p>Intro.</p><figure class="gallery')
    assert normalise(html).endswith("</figure><p>Outro.</p>")


def test_an_existing_p_does_not_stop_paragraphs_later_on():
    html, _ = render_classic("<p>Marked up.</p>\n\nNot marked up,\nwith a break.")
    assert normalise(html) == normalise("<p>Marked up.</p><p>Not marked up,<br>with a break.</p>")


def test_block_editor_content_is_not_autopd():
    content = (
        "<!-- wp:paragraph -->\n<p>Block one.</p>\n<!-- /wp:paragraph -->\n\n"
        '<!-- wp:shortcode -->\n[gallery ids="2"]\n<!-- /wp:shortcode -->'
    )
    html, _ = render_classic(content, ATTACHMENTS.get)
    assert "<p>Block one.</p>\n<!-- /wp:paragraph -->" in html
    assert '<figure class="gallery gallery-columns-3"><figure class="gallery-item">' in html
    assert "<p><figure" not in html and "<br" not in html


PIECES = st.sampled_from(
    [
        "[gallery]",
        '[caption width="1"]',
        "[/caption]",
        "<img src='https://b.example/i.jpg'>",
        "[foo a=1]",
        "[/foo]",
        "[bar /]",
        "[sic]",
        "[vc_row]",
        "[/vc_row]",
        "text",
        "<p>",
        "</p>",
        "<pre>",
        "</pre>",
        "<code>[x a=1]</code>",
        "https://youtu.be/dQw4w9WgXcQ",
        "\n",
        "\n\n",
        "<!--more-->",
        "[embed]",
        "[/embed]",
        "<a href='x'>",
        "</a>",
        "]",
        "[",
        "<li>",
        "</li>",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=30))
def test_render_classic_never_leaves_a_shortcode(pieces):
    text = "".join(pieces)
    html, _ = render_classic(text, ATTACHMENTS.get, attached=[1])
    assert len(find_shortcodes(html)) <= text.count("[[")  # [[x]] is the literal [x]
    if "[[" not in text:
        assert not LEFT_OVER.search(CODE.sub("", html))  # shortcodes in code are shown as code
