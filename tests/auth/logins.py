"""The two ways in, the login page and the token API, as one client address sees them."""

from django.test import Client
from rest_framework.test import APIClient

WRONG = "not-the-password"
ADDRESS = "203.0.113.7"
OTHER_ADDRESS = "198.51.100.9"


def page_login(username: str, password: str, *, address: str = ADDRESS):
    return Client(REMOTE_ADDR=address).post("/accounts/login/", {"username": username, "password": password})


def token_login(username: str, password: str, *, address: str = ADDRESS):
    return APIClient(REMOTE_ADDR=address).post("/api/auth/token/", {"username": username, "password": password})


def page_logged_in(response) -> bool:
    """The login page redirects on success, and only then."""
    return response.status_code == 302


def token_logged_in(response) -> bool:
    return response.status_code == 200 and bool(response.json().get("token"))


LOGINS = {"page": (page_login, page_logged_in), "token": (token_login, token_logged_in)}
