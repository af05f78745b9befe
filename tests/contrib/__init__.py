"""Tests of the framework integrations (statusguard.contrib); a package so that module names stay unique."""
