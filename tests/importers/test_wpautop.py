"""wpautop: WordPress's own test cases (ported as data), then the rules we rely on ourselves."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.importers.shortcode_parser import shortcode_unautop
from service.importers.wpautop import wpautop
from tests.importers.normalise import normalise

CASES = json.loads((Path(__file__).parent / "data" / "wpautop_cases.json").read_text())["cases"]


def _param(case: dict):
    marks = [pytest.mark.skip(reason=case["skip"])] if case["skip"] else []
    return pytest.param(case, id=case["id"], marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_wordpress_case(case):
    assert normalise(wpautop(case["input"], case["br"])) == normalise(case["expected"])


def test_enough_cases_are_ported_and_each_says_where_it_is_from():
    assert len(CASES) >= 30
    assert len({c["id"] for c in CASES}) == len(CASES)
    assert all(c["test"].startswith("test_") and c["ticket"] for c in CASES)


# The comparison itself must be able to fail.


def test_normalise_is_strict_about_paragraphs():
    assert normalise("<p>a</p>\n<p>b</p>") != normalise("<p>a<br />\nb</p>")
    assert normalise("<p>a b</p>") != normalise("<p>a</p><p>b</p>")
    assert normalise("<div>x</div>") != normalise("<div><p>x</p></div>")


def test_normalise_is_byte_exact_inside_pre():
    assert normalise("<pre>a\n\n  b</pre>") != normalise("<pre>a\n  b</pre>")
    assert normalise("<pre>a<br>b</pre>") != normalise("<pre>a<br />b</pre>")
    assert normalise("<p>x</p>\n<pre>a</pre>\n") == normalise("<p>x</p><pre>a</pre>")


def test_normalise_ignores_br_spelling_and_layout():
    assert normalise("<p>a<br />\nb</p>\n") == normalise("<p>a<br>b</p>")


# Rules of our own (including where we deliberately differ from WordPress).


def test_an_existing_p_does_not_switch_the_rules_off():
    out = wpautop("<p>Intro, already marked up.</p>\n\nSecond paragraph\nwith a line break.")
    assert normalise(out) == normalise(
        "<p>Intro, already marked up.</p><p>Second paragraph<br>with a line break.</p>"
    )


def test_a_blank_line_inside_an_existing_p_starts_a_new_one():
    out = wpautop('<p class="lead">one\n\ntwo</p>')
    assert normalise(out) == normalise('<p class="lead">one</p><p>two</p>')


def test_crlf_and_cr_input():
    assert normalise(wpautop("a\r\n\r\nb\r\nc\rd")) == normalise("<p>a</p><p>b<br>c<br>d</p>")
    assert "\r" not in wpautop("a\r\n\r\nb")


def test_pre_is_untouched_byte_for_byte():
    code = "def f():\r\n\n    return 1\n\n\n\t# <b>not markup</b>\n"
    out = wpautop(f"Before\n\n<pre class='py'>{code}</pre>\n\nAfter")
    assert f"<pre class='py'>{code}</pre>" in out
    assert normalise(out) == normalise(f"<p>Before</p><pre class='py'>{code}</pre><p>After</p>")


def test_unterminated_pre_runs_to_the_end():
    out = wpautop("Intro\n\n<pre>line\n\nline")
    assert out.startswith("<p>Intro</p>") and "<pre>line\n\nline" in out


def test_lists_and_tables_get_no_stray_breaks():
    out = wpautop(
        "<ul>\n<li>one</li>\n<li>two\nlines</li>\n</ul>\n<table>\n<tr>\n<td>a</td>\n"
        "<td>b</td>\n</tr>\n</table>\n<h2>Title</h2>\nText"
    )
    assert out.count("<br") == 1  # only the one inside "two\nlines"
    assert normalise(out) == normalise(
        "<ul><li>one</li><li>two<br>lines</li></ul><table><tr><td>a</td><td>b</td></tr></table>"
        "<h2>Title</h2><p>Text</p>"
    )


def test_no_break_before_a_closing_heading_or_after_an_opening_one():
    assert wpautop("<h2>\nTitle\n</h2>").count("<br") == 0


def test_blockquote_with_paragraphs():
    out = wpautop("<blockquote>First.\n\nSecond,\ncontinued.</blockquote>")
    assert normalise(out) == normalise(
        "<blockquote><p>First.</p><p>Second,<br>continued.</p></blockquote>"
    )


def test_comment_only_paragraph_is_not_wrapped():
    out = wpautop("Teaser.\n\n<!--more-->\n\nThe rest.")
    assert normalise(out) == normalise("<p>Teaser.</p><!--more--><p>The rest.</p>")


def test_hr_forms():
    assert normalise(wpautop("a\n<hr />\nb")) == normalise("<p>a</p><hr /><p>b</p>")


def test_br_false_keeps_newlines():
    assert wpautop("a\nb\n\nc", br=False) == "<p>a\nb</p>\n<p>c</p>\n"


def test_script_and_style_keep_their_blank_lines():
    script = "<script>\nvar a = 1;\n\nvar b = 2;\n</script>"
    style = "<style>\n.a {}\n\n.b {}\n</style>"
    out = wpautop(f"{style}\nText\n\n{script}")
    assert style in out and script in out
    assert normalise(out) == normalise(f"{style}<p>Text</p><p>{script}</p>")


def test_options_on_separate_lines():
    out = wpautop("Pick: <select>\n<option>1</option>\n<option>2</option>\n</select>")
    assert "<br" not in out and out.startswith("<p>Pick:")


def test_empty_input():
    assert wpautop("") == "" and wpautop(" \n\n\t") == ""


def test_block_inside_p_closes_it_without_stray_closers():
    out = wpautop("<p>Text<div>box</div>more</p>")
    assert normalise(out) == normalise("<p>Text</p><div>box</div><p>more</p>")


def test_text_after_a_nested_block_inside_a_div():
    out = wpautop("<div>Lead\n<ul><li>x</li></ul>\n\nTail</div>")
    assert normalise(out) == normalise("<div>Lead<ul><li>x</li></ul><p>Tail</p></div>")


def test_lone_shortcodes_are_wrapped_then_unwrapped_by_shortcode_unautop():
    out = wpautop('Intro\n\n[gallery ids="1,2"]\n\n[contact-form-7 id="3"]\n\nSee [foo a=1].')
    assert '<p>[gallery ids="1,2"]</p>' in out  # wpautop itself wraps them, as WordPress's does
    assert shortcode_unautop(out) == (
        '<p>Intro</p>\n[gallery ids="1,2"][contact-form-7 id="3"]<p>See [foo a=1].</p>\n'
    )


WORDS = st.sampled_from(
    [
        "word",
        "two words",
        "<em>em</em>",
        "<br>",
        "<div>",
        "</div>",
        "<p>",
        "</p>",
        "<li>",
        "<hr>",
        "<!-- c -->",
        "[gallery]",
        "a < b",
        "&amp;",
    ]
)
GAPS = st.sampled_from(["", " ", "\n", "\n\n", "\r\n", "\n \n"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(WORDS, GAPS), max_size=25), st.text("ab \n\t", max_size=20))
def test_properties(parts, pre_body):
    text = "".join(w + g for w, g in parts)
    pre = f"<pre>{pre_body}</pre>"
    out = wpautop(f"{text}\n\n{pre}\n\n{text}")
    assert pre in out  # never touched
    assert len(re.findall(r"<p[\s>]", out)) >= out.count("</p>")  # no stray closers of ours
    assert "<p></p>" not in out
    assert "<br />\n</p>" not in out and not re.search(r"<br />\s*<(?:/?div|/?li|hr)", out)
