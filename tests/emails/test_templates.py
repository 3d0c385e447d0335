"""The package's email templates: subjects, both bodies, links under PUBLIC_URL."""

from __future__ import annotations

import html

import pytest

from blog_graphql.emails.templates import REQUIRED_KEYS, TemplateError, render

PUBLIC_URL = "https://blog.example.com"
CONTEXTS = {
    "welcome": {"username": "ada", "token": "abc+/="},
    "verify_email": {"username": "ada", "token": "abc+/="},
    "reset_password": {"username": "ada", "token": "abc+/="},
    "email_changed": {"username": "ada"},
    "comment_on_post": {
        "username": "ada",
        "post_title": "On tabs",
        "post_slug": "on-tabs",
        "commenter": "bob",
        "comment_excerpt": "Nice post",
        "unsubscribe_token": "t.o+k",
    },
    "reply_to_comment": {
        "username": "ada",
        "post_title": "On tabs",
        "post_slug": "on-tabs",
        "replier": "cy",
        "comment_excerpt": "Agreed",
        "unsubscribe_token": "t.o+k",
    },
    "notification_digest": {
        "username": "ada",
        "headline": "2 new notifications",
        "summary": "- bob commented\n- cy replied",
        "unsubscribe_token": "t.o+k",
    },
    "webhook_disabled": {
        "username": "ada",
        "webhook_url": "https://hooks.example.com/in",
        "attempts": "8",
        "last_error": "HTTP 500",
    },
}
EXPECTED = {
    "welcome": ("Welcome to blog_graphql, ada", "/verify-email?token=abc%2B%2F%3D"),
    "verify_email": ("Confirm your email address", "/verify-email?token=abc%2B%2F%3D"),
    "reset_password": ("Reset your password", "/reset-password?token=abc%2B%2F%3D"),
    "email_changed": ("Your email address was changed", "/"),
    "comment_on_post": ('bob commented on "On tabs"', "/posts/on-tabs"),
    "reply_to_comment": ('cy replied to your comment on "On tabs"', "/posts/on-tabs"),
    "webhook_disabled": ("A webhook was disabled after failing for too long", "/"),
    "notification_digest": ("2 new notifications", "/unsubscribe?token=t.o%2Bk"),
}


def test_every_template_has_a_test():
    assert set(CONTEXTS) == set(REQUIRED_KEYS) == set(EXPECTED)


@pytest.mark.parametrize("template", sorted(REQUIRED_KEYS))
def test_each_template_renders_a_subject_both_bodies_and_its_link(template):
    email = render(template, CONTEXTS[template], public_url=PUBLIC_URL)

    subject, path = EXPECTED[template]
    assert email.subject == subject
    assert email.text.startswith("Hello ada,\n")
    assert f"{PUBLIC_URL}{path}" in email.text
    assert f'href="{PUBLIC_URL}{path}"' in email.html
    assert email.html.startswith("<!DOCTYPE html>")
    assert f"<title>{html.escape(subject)}</title>" in email.html


def test_user_text_is_escaped_in_html_and_kept_in_text_and_the_subject_is_one_line():
    context = {
        **CONTEXTS["comment_on_post"],
        "post_title": "Tabs\r\nBcc: victim@example.com",
        "commenter": '<script>alert("x")</script>',
    }

    email = render("comment_on_post", context, public_url=PUBLIC_URL)

    assert "\n" not in email.subject and "\r" not in email.subject
    assert "<script>" not in email.html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in email.html
    assert '<script>alert("x")</script> commented' in email.text


def test_a_missing_key_or_an_unknown_template_is_refused():
    without_slug = {k: v for k, v in CONTEXTS["reply_to_comment"].items() if k != "post_slug"}
    with pytest.raises(TemplateError, match="needs post_slug"):
        render("reply_to_comment", without_slug, public_url=PUBLIC_URL)
    with pytest.raises(TemplateError, match="unknown email template 'newsletter'"):
        render("newsletter", {}, public_url=PUBLIC_URL)


@pytest.mark.parametrize("template", ["comment_on_post", "reply_to_comment", "notification_digest"])
def test_notification_emails_link_to_the_spa_unsubscribe_page(template):
    email = render(template, CONTEXTS[template], public_url=PUBLIC_URL)

    assert f"{PUBLIC_URL}/unsubscribe?token=t.o%2Bk" in email.text
    assert f'href="{PUBLIC_URL}/unsubscribe?token=t.o%2Bk"' in email.html
