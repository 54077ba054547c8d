"""The `margins` command: setup, create-admin, import-wxr error handling."""

from __future__ import annotations

from sqlalchemy import func, select

from service.extensions import db
from service.models import Comment, Issue, User


def test_setup_creates_one_admin_and_shows_its_password_once(runner):
    first = runner.invoke(args=["setup"])
    assert first.exit_code == 0, first.output
    assert "password:" in first.output and "admin@" in first.output
    assert "Loaded two sample issues." in first.output
    second = runner.invoke(args=["setup"])
    assert second.exit_code == 0
    assert "password:" not in second.output and "sample" not in second.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
    assert db.session.scalar(select(func.count()).select_from(Issue)) == 2


def test_sample_content_is_public(runner, client):
    runner.invoke(args=["setup"])
    page = client.get("/").get_data(as_text=True)
    assert "Why I write in the margins" in page and "The slow inbox" in page
    assert "tomas@example.org" not in client.get("/issues/why-i-write-in-the-margins").get_data(
        as_text=True
    )


def test_create_admin_with_a_given_password(runner):
    result = runner.invoke(
        args=[
            "create-admin",
            "--email",
            "Writer@Example.org",
            "--password",
            "long-enough-pw",
            "--role",
            "moderator",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User))
    assert (user.email, user.role) == ("writer@example.org", "moderator")
    again = runner.invoke(args=["create-admin", "--email", "writer@example.org"])
    assert again.exit_code != 0 and "already exists" in again.output


def test_create_admin_refuses_a_bad_email(runner):
    result = runner.invoke(args=["create-admin", "--email", "not-an-address"])
    assert result.exit_code != 0 and "Error:" in result.output


def test_import_of_malformed_xml_changes_nothing(runner, tmp_path):
    bad = tmp_path / "broken.xml"
    bad.write_text("<rss><channel><item><title>half")
    result = runner.invoke(args=["import-wxr", str(bad)])
    assert result.exit_code == 1
    assert "not well-formed XML" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert db.session.scalar(select(func.count()).select_from(Issue)) == 0


def test_import_of_a_plain_rss_file_is_refused(runner, tmp_path):
    rss = tmp_path / "feed.xml"
    rss.write_text(
        "<rss version='2.0'><channel><title>x</title><item><title>t</title></item></channel></rss>"
    )
    result = runner.invoke(args=["import-wxr", str(rss)])
    assert result.exit_code == 1 and "not a WordPress export" in result.output


def test_import_of_a_missing_file_says_so(runner, tmp_path):
    result = runner.invoke(args=["import-wxr", str(tmp_path / "nope.xml")])
    assert result.exit_code == 1 and "cannot read" in result.output


WXR = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel><title>Tiny</title><wp:wxr_version>1.2</wp:wxr_version>
<wp:base_site_url>http://tiny.example</wp:base_site_url>
<item><title>Hello</title><dc:creator>amy</dc:creator>
<content:encoded><![CDATA[First para.

Second <script>alert(1)</script>para.]]></content:encoded>
<wp:post_id>7</wp:post_id><wp:post_date_gmt>2012-03-04 05:06:07</wp:post_date_gmt>
<wp:status>publish</wp:status><wp:post_type>post</wp:post_type>
<wp:comment_status>closed</wp:comment_status>
<category domain="category" nicename="notes"><![CDATA[Notes]]></category>
<wp:comment><wp:comment_id>1</wp:comment_id><wp:comment_author>Cy</wp:comment_author>
<wp:comment_author_email>cy@example.com</wp:comment_author_email>
<wp:comment_date_gmt>2012-03-05 10:00:00</wp:comment_date_gmt>
<wp:comment_content>Nice</wp:comment_content><wp:comment_approved>1</wp:comment_approved>
<wp:comment_parent>0</wp:comment_parent></wp:comment>
<wp:comment><wp:comment_id>2</wp:comment_id><wp:comment_author>Spammer</wp:comment_author>
<wp:comment_content>buy</wp:comment_content><wp:comment_approved>spam</wp:comment_approved>
</wp:comment>
</item></channel></rss>"""


def test_import_brings_posts_and_approved_comments_once(runner, tmp_path, client):
    path = tmp_path / "tiny.xml"
    path.write_text(WXR)
    result = runner.invoke(args=["import-wxr", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 issues, 1 comments" in result.output
    issue = db.session.scalar(select(Issue))
    assert (issue.title, issue.status, issue.comments_open) == ("Hello", "published", False)
    assert issue.published_at.year == 2012 and issue.category.name == "Notes"
    assert "<p>First para.</p>" in issue.body_html and "<script" not in issue.body_html
    again = runner.invoke(args=["import-wxr", str(path)])
    assert "0 issues, 0 comments" in again.output and "1 already present" in again.output
    assert db.session.scalar(select(func.count()).select_from(Comment)) == 1
    assert "cy@example.com" not in client.get(f"/issues/{issue.slug}").get_data(as_text=True)


def test_help_lists_margins_commands_and_none_of_flasks(runner):
    result = runner.invoke(args=["--help"])
    assert result.exit_code == 0
    commands = result.output.split("Commands:")[1]
    for ours in (
        "run",
        "setup",
        "web",
        "worker",
        "beat",
        "create-admin",
        "import-wxr",
        "send-issue",
        "send-digest",
        "process-bounces",
        "train-classifier",
        "db",
    ):
        assert f"  {ours} " in commands
    for leaked in ("--app", "--env-file", "--debug", "limiter", "routes", "shell"):
        assert leaked not in result.output
