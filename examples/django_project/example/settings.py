"""Settings of the example project: Django's defaults, trimmed, plus statusguard's one line."""

import os

SECRET_KEY = "example-only-not-secret"
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"  # with DEBUG on, statusguard defaults to strict
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth"]

MIDDLEWARE = [
    "statusguard.contrib.django.StatusGuardMiddleware",  # <- the one line (first: it sees the final response)
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]

# Optional: what statusguard may add when it fixes a response.
STATUSGUARD = {"www_authenticate": 'Bearer realm="example"'}

ROOT_URLCONF = "example.urls"
WSGI_APPLICATION = "example.wsgi.application"
DATABASES = {}
USE_TZ = True
