"""What the page tests share: a signed-in test client and the page's text."""

from django.test import Client


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response) -> str:
    return response.content.decode()
