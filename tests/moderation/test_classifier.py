"""The naive Bayes classifier: features, incremental training in the database, scores."""

from __future__ import annotations

import threading

import pytest

from service.extensions import db
from service.models import ClassifierToken
from service.moderation import classifier
from tests.factories import make_comment, make_issue

SPAM = [
    "Cheap pills online, buy now at https://pills.example/buy best price",
    "Best casino bonus, win money fast https://casino.example/win",
    "Buy cheap replica watches https://replica.example discount",
    "Earn money fast from home, click https://cash.example now",
]
HAM = [
    "I disagree with the part about managers; in my team it worked the other way.",
    "Thank you for this essay. The section on hiring made me rethink my interviews.",
    "Could you say more about the enabler role? I am not sure I follow the argument.",
    "Lovely piece. My father said the same about his first job in the seventies.",
]


@pytest.fixture
def issue(app):
    return make_issue("Classifier")


def _train(issue, texts, label):
    for text in texts:
        classifier.learn(make_comment(issue, body=text), label)
    db.session.commit()


def test_features_cover_body_name_website_and_link_domains(issue):
    comment = make_comment(
        issue,
        body="Great deals at https://www.shop.example/x today",
        name="Cheap Watches",
        author_url="http://promo.example.biz",
    )
    features = classifier.tokens(comment)
    assert {
        "great",
        "deals",
        "today",
        "name:cheap",
        "name:watches",
        "site:promo.example.biz",
        "tld:biz",
        "link:shop.example",
        "links:1",
    } <= features


def test_an_untrained_classifier_is_unsure_and_does_not_act(issue):
    score = classifier.score(make_comment(issue, body=SPAM[0]))
    assert score.probability == pytest.approx(0.5) and not score.trained


def test_training_separates_spam_from_ham(issue):
    _train(issue, SPAM, "spam")
    _train(issue, HAM, "ham")
    spammy = make_comment(issue, body="Buy cheap pills now https://pills.example/more")
    hammy = make_comment(issue, body="I disagree with the essay about hiring managers.")
    assert classifier.score(spammy, min_trained=4).probability > 0.9
    assert classifier.score(hammy, min_trained=4).probability < 0.1
    assert classifier.score(spammy, min_trained=4).trained
    assert classifier.stats() == (4, 4)


def test_changing_a_label_moves_the_counts_instead_of_adding(issue):
    comment = make_comment(issue, body="Buy cheap pills")
    assert classifier.learn(comment, "spam")
    assert not classifier.learn(comment, "spam")  # the same label twice changes nothing
    classifier.learn(comment, "ham")
    db.session.commit()
    row = db.session.get(ClassifierToken, "pills")
    assert (row.spam, row.ham) == (0, 1)
    classifier.learn(comment, None)
    db.session.commit()
    db.session.expire_all()
    assert classifier.stats() == (0, 0)
    assert (db.session.get(ClassifierToken, "pills").ham) == 0


def test_combining_is_bounded_and_symmetric():
    assert classifier.combine([]) == 0.5
    high = classifier.combine([0.99] * 10)
    low = classifier.combine([0.01] * 10)
    assert high > 0.99 and low < 0.01 and high == pytest.approx(1 - low)


def test_concurrent_training_loses_no_increment(app, issue, db_url):
    """Several sessions training at once (like several workers) keep every count."""
    comments = [make_comment(issue, body=f"shared words here {n}") for n in range(8)]
    ids = [c.id for c in comments]
    errors = []

    def train(comment_id):
        with app.app_context():
            try:
                from service.models import Comment

                classifier.learn(db.session.get(Comment, comment_id), "spam")
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=train, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    db.session.expire_all()
    assert db.session.get(ClassifierToken, "shared").spam == 8
    assert classifier.stats() == (8, 0)
