"""``/api/schema/`` is generated once per process (per language) and then served from memory."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from ops import schema as openapi

pytestmark = pytest.mark.django_db
JSON = "application/vnd.oai.openapi+json"


@pytest.fixture
def generated(monkeypatch):
    """Counts the generator's runs; starts from an empty store."""
    openapi._built.clear()
    runs = []
    real = SchemaGenerator.get_schema

    def counting(self, *args, **kwargs):
        runs.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(SchemaGenerator, "get_schema", counting)
    return runs


def test_the_second_request_serves_the_first_schema(city, generated, django_assert_num_queries):
    client = APIClient()
    client.force_login(city["hq"])
    first = client.get("/api/schema/", HTTP_ACCEPT=JSON)
    assert first.status_code == 200 and len(generated) == 1
    with django_assert_num_queries(2):  # the session and the user: nothing for the schema
        second = client.get("/api/schema/", HTTP_ACCEPT=JSON)
    assert second.status_code == 200 and len(generated) == 1
    assert second.content == first.content
    assert "/api/v1/assignments/" in second.json()["paths"]
    assert second["Content-Type"] == first["Content-Type"] == "application/vnd.oai.openapi+json"
    assert second["Content-Disposition"] == first["Content-Disposition"]
    # YAML is kept apart: the same schema, rendered as YAML
    yaml = client.get("/api/schema/")
    assert yaml["Content-Type"].startswith("application/vnd.oai.openapi") and b"openapi: 3" in yaml.content
    assert client.get("/api/schema/").content == yaml.content and len(generated) == 2


def test_each_language_is_built_once(city, generated):
    client = APIClient()
    zh = client.get("/api/schema/?lang=zh-hans", HTTP_ACCEPT=JSON)
    en = client.get("/api/schema/?lang=en", HTTP_ACCEPT=JSON)
    assert len(generated) == 2
    assert client.get("/api/schema/?lang=en", HTTP_ACCEPT=JSON).content == en.content
    assert client.get("/api/schema/?lang=zh-hans", HTTP_ACCEPT=JSON).content == zh.content
    assert len(generated) == 2


def test_a_changed_setting_builds_it_again(city, generated, settings):
    client = APIClient()
    client.get("/api/schema/", HTTP_ACCEPT=JSON)
    settings.SPECTACULAR_SETTINGS = {**settings.SPECTACULAR_SETTINGS, "VERSION": "1"}
    client.get("/api/schema/", HTTP_ACCEPT=JSON)
    assert len(generated) == 2


def test_a_language_we_do_not_have_is_not_kept(city, generated):
    """Any ``?lang=`` is answered, but only the site's languages are kept: made-up ones must not fill memory."""
    client = APIClient()
    for n in range(3):
        assert client.get(f"/api/schema/?lang=x{n}", HTTP_ACCEPT=JSON).status_code == 200
    assert len(generated) == 3 and openapi._built == {}
