"""Settings for the Django integration tests (tests/contrib/test_django.py).

Used through ``settings.configure(**values())`` by the ``django_settings`` fixture, never through
DJANGO_SETTINGS_MODULE, so that no other test module sees them. The same values are re-applied
with ``override_settings`` around every Django test, in case Django was configured by someone else.
"""

from __future__ import annotations

from typing import Any

_PACKAGE = __name__.rpartition(".")[0]

SECRET_KEY = "statusguard-tests-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost"]
ROOT_URLCONF = f"{_PACKAGE}.django_urls"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"]
MIDDLEWARE = [
    f"{_PACKAGE}.django_urls.ServerSpyMiddleware",  # outermost: sees what the server would be handed
    "statusguard.contrib.django.StatusGuardMiddleware",
    "django.middleware.common.CommonMiddleware",
]
DATABASES: dict[str, Any] = {}
USE_TZ = True
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "statusguard-tests"}}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
}
STATUSGUARD: dict[str, Any] = {}


def values() -> dict[str, Any]:
    """Every setting defined here (the upper-case names)."""
    return {name: value for name, value in globals().items() if name.isupper()}


def overridable() -> dict[str, Any]:
    """The settings ``override_settings`` can apply to an already-configured Django."""
    return {name: value for name, value in values().items() if name not in ("INSTALLED_APPS", "DATABASES")}
