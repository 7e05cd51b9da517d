"""How `amtsbote draft-page --system steuer` logs in: through the login page object.

A screen behind the login redirects to ``/login?next=…``; the login page object expects to land
on the start page, so the login starts from ``/login`` and the draft then opens its screen.
"""

from __future__ import annotations

from urllib.parse import urljoin

from playwright.sync_api import Page

from .pages import LoginPage

__all__ = ["draft_login"]


def draft_login(page: Page, username: str, password: str) -> None:
    """Log in to the Fachverfahren Steuern the page belongs to (for `bots._draft.draft_page`).

    Raises:
        amtsbote.LoginRefused: The back office refused the account.
    """
    page.goto(urljoin(page.url, LoginPage.path), wait_until="domcontentloaded")
    LoginPage(page).login(username, password)
