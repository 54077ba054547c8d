"""The quality checkers themselves: axe-core finds what it should, and so does the Nu checker."""

from __future__ import annotations

import pytest

from tests.support import axe, browser, nu
from tests.support.nu import document, nu_errors, nu_errors_many

CSP = "default-src 'self'; script-src 'self'"  # as strict for scripts as the app's own
SITE = "http://quality.test"

GOOD = document("""<header><a href="#main">Skip to content</a></header>
<main id="main"><h1>Subscribe</h1>
<form action="/subscribe" method="post">
  <label for="email">Email</label> <input id="email" name="email" type="email" required>
  <label for="cv">Attach a file</label> <input id="cv" name="cv" type="file">
  <button type="submit">Subscribe</button>
</form>
<p>Published <time datetime="2026-01-01T10:00:00.123Z">January 1, 2026</time>.</p></main>""")

UNLABELLED_FILE = document(
    '<main><h1>Upload</h1><form><input type="file" name="csv"><button>Import</button></form></main>'
)
NO_H1 = document("<main><p>A page without a heading.</p></main>")  # a 'moderate' finding only
BAD_TIME = document('<p><time datetime="2026-01-01 10:00:00.123456+00:00">then</time></p>')


@pytest.fixture(scope="module", autouse=True)
def _nu_starting():
    nu.warm_up()  # Java starts while the browser tests run


@pytest.fixture(scope="module")
def shared_page():
    with browser.chromium() as page:
        yield page


@pytest.fixture
def serve(shared_page):
    """Show `html` at SITE/ with a strict Content-Security-Policy header; return the page."""

    def show(html: str, path: str = "/"):
        shared_page.unroute("**/*")
        shared_page.route(
            "**/*",
            lambda route: route.fulfill(
                body=html,
                content_type="text/html; charset=utf-8",
                headers={"Content-Security-Policy": CSP},
            ),
        )
        shared_page.goto(SITE + path)
        return shared_page

    return show


@pytest.mark.browser
def test_the_page_csp_blocks_an_inline_script_tag_but_not_axe(serve):
    page = serve(GOOD)
    with pytest.raises(Exception, match="Content Security Policy"):
        page.add_script_tag(content="window.inlineRan = true")
    assert axe.axe_violations(page, impacts=None) == []
    assert page.evaluate("typeof window.axe") == "object"


@pytest.mark.browser
def test_axe_finds_a_file_input_without_a_label(serve):
    page = serve(UNLABELLED_FILE)
    [found] = axe.axe_violations(page)
    assert (found["id"], found["impact"]) == ("label", "critical")
    assert found["help"] and found["helpUrl"].startswith("https://")
    [node] = found["nodes"]
    assert node["target"] == ["input"]  # the shortest selector that finds it
    assert node["html"] == '<input type="file" name="csv">'
    message = axe.format_violations([found])
    assert "[critical] label:" in message and '<input type="file" name="csv">' in message


@pytest.mark.browser
def test_axe_keeps_only_the_impacts_asked_for(serve):
    page = serve(NO_H1)
    assert axe.axe_violations(page) == []
    assert [v["id"] for v in axe.axe_violations(page, impacts=None)] == ["page-has-heading-one"]
    with pytest.raises(AssertionError, match="page-has-heading-one"):
        axe.assert_accessible(page, impacts=("moderate",))


@pytest.mark.browser
def test_axe_looks_inside_frames(serve, shared_page):
    frame = '<main><h1>Outer</h1><iframe src="/inner" title="Inner"></iframe></main>'
    shared_page.unroute("**/*")
    shared_page.route(
        "**/*",
        lambda route: route.fulfill(
            body=UNLABELLED_FILE if route.request.url.endswith("/inner") else document(frame),
            content_type="text/html; charset=utf-8",
            headers={"Content-Security-Policy": CSP},
        ),
    )
    shared_page.goto(SITE + "/")
    [found] = axe.axe_violations(shared_page)
    assert found["id"] == "label"
    assert found["nodes"][0]["target"] == ["iframe", "input"]  # a selector per frame
    assert "iframe >>> input" in axe.format_violations([found])


@pytest.mark.browser
def test_axe_says_so_when_a_sandboxed_document_cannot_run_it(shared_page):
    shared_page.unroute("**/*")
    shared_page.route(
        "**/*",
        lambda route: route.fulfill(
            body=UNLABELLED_FILE,
            content_type="text/html; charset=utf-8",
            headers={"Content-Security-Policy": "sandbox; default-src 'none'"},
        ),
    )
    shared_page.goto(SITE + "/mail.html")
    with pytest.raises(RuntimeError, match="runs no scripts"):
        axe.axe_violations(shared_page)
    shared_page.goto("about:blank")  # the way round it: the same HTML, without that CSP
    shared_page.set_content(UNLABELLED_FILE)
    assert [v["id"] for v in axe.axe_violations(shared_page)] == ["label"]


@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_axe_runs_on_the_apps_own_pages_under_its_csp(app, live_server, shared_page):
    shared_page.unroute("**/*")
    response = shared_page.goto(f"{live_server}/login")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert isinstance(axe.axe_violations(shared_page, impacts=None), list)


def test_nu_finds_a_bad_time_datetime():
    [error] = nu_errors(BAD_TIME)
    assert "Bad value “2026-01-01 10:00:00.123456+00:00” for attribute “datetime”" in error
    assert error.startswith("3:")  # line:column first


def test_nu_passes_a_good_document_and_ignores_warnings():
    assert nu_errors(GOOD) == []
    warned = document("<section><p>No heading: a warning, not an error.</p></section>")
    assert nu_errors(warned) == []


def test_nu_follows_the_current_spec():
    # allowed since 2020 (whatwg/html#5881); a checker as old as that reports an error here
    login = document(
        '<form><label>Email <input type="email" name="email" '
        'autocomplete="username"></label></form>'
    )
    assert nu_errors(login) == []


def test_nu_checks_whole_documents():
    errors = nu_errors("<p>A fragment</p>")
    assert any("doctype" in e.lower() for e in errors)
    assert any("title" in e for e in errors)


def test_nu_checks_many_documents_in_order():
    results = nu_errors_many([GOOD, BAD_TIME, GOOD, UNLABELLED_FILE, BAD_TIME] * 4)
    assert [bool(r) for r in results] == [False, True, False, False, True] * 4
