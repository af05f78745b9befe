"""Sample values for path parameters, so that ``statusguard audit`` can probe ``/items/<int:id>``.

A value comes from ``--param NAME=VALUE`` first, then from the parameter's type (an annotation,
a converter's name), then from a short list of candidates, and it must match the converter's
regex. The three template syntaxes the routers write are filled here, framework-free; each
framework's discovery (``statusguard.contrib.<framework>.discover``) says which one applies and
hands over its converters.
"""

from __future__ import annotations

import enum
import re
import typing
import urllib.parse
import uuid
from collections.abc import Mapping
from typing import Any

from ..contrib._integration import UnfillableParameter

__all__ = ["fill_angle", "fill_braces", "fill_regex", "fill_simple", "sample"]

_UUID = "00000000-0000-0000-0000-000000000000"
_SAMPLE_BY_KIND = {
    "int": "1", "integer": "1", "float": "1.5", "number": "1.5", "uuid": _UUID, "path": "example",
    "str": "example", "string": "example", "unicode": "example", "default": "example", "slug": "example",
    "bool": "true", "date": "2024-01-01",
}
_CANDIDATES = ("1", "example", "1.5", _UUID, "a", "true", "2024-01-01")

# Starlette {name} / {name:convertor}; Werkzeug and Django <name> / <conv:name> / <conv(args):name>.
_PARAM_BRACE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z_][A-Za-z0-9_]*))?\}")
_PARAM_ANGLE = re.compile(r"<(?:([A-Za-z_][A-Za-z0-9_]*)(?:\((.*?)\))?:)?([A-Za-z_][A-Za-z0-9_]*)>")


def _annotation_sample(annotation: Any) -> str | None:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _annotation_sample(typing.get_args(annotation)[0])
    if origin is typing.Literal:
        args = typing.get_args(annotation)
        return str(args[0]) if args else None
    if origin is not None:  # Optional[int], int | None
        for arg in typing.get_args(annotation):
            if arg is not type(None):
                return _annotation_sample(arg)
        return None
    if not isinstance(annotation, type):
        return None
    if issubclass(annotation, enum.Enum):
        members = list(annotation)
        return str(members[0].value) if members else None
    if issubclass(annotation, bool):
        return "true"
    if issubclass(annotation, int):
        return "1"
    if issubclass(annotation, float):
        return "1.5"
    if issubclass(annotation, uuid.UUID):
        return _UUID
    import datetime

    if issubclass(annotation, datetime.datetime):
        return "2024-01-01T00:00:00"
    if issubclass(annotation, datetime.date):
        return "2024-01-01"
    if issubclass(annotation, str):
        return "example"
    return None


def _alternatives(regex: str) -> list[str]:
    """The literal alternatives of a regex such as ``(?:a|b)`` or ``auth|admin`` (else none)."""
    inner = regex
    match = re.fullmatch(r"\((?:\?:)?(.*)\)", regex)
    if match:
        inner = match.group(1)
    out = []
    for part in inner.split("|"):
        literal = re.sub(r"\\(.)", r"\1", part)
        if literal and not any(char in part.replace("\\.", "").replace("\\-", "") for char in "[](){}*+?^$"):
            out.append(literal)
    return out


def sample(
    name: str, params: Mapping[str, str], *, kind: str | None = None, regex: str | None = None,
    annotation: Any = None,
) -> str | None:
    """A value for the path parameter ``name``: --param first, then by type, then whatever the regex takes."""
    if name in params:
        return params[name]
    wanted: list[str | None] = []
    if annotation is not None:
        wanted.append(_annotation_sample(annotation))
    if kind:
        wanted.append(_SAMPLE_BY_KIND.get(kind.lower()))
    wanted.extend(_CANDIDATES)
    if regex:
        wanted.extend(_alternatives(regex))
    for candidate in wanted:
        if candidate is None:
            continue
        if regex is None:
            return candidate
        try:
            if re.fullmatch(regex, candidate):
                return candidate
        except re.error:
            return candidate
    return None


def _kind_of(converter: object) -> str:
    """int, float, uuid, path... from a converter's class name (IntegerConverter, UUIDConvertor...)."""
    name = type(converter).__name__.lower()
    for suffix in ("converter", "convertor"):
        name = name.removesuffix(suffix)
    return name



def _quoted(value: str, kind: str) -> str:
    return urllib.parse.quote(value, safe="/" if kind == "path" else "")


def fill_angle(template: str, converters: Mapping[str, Any], params: Mapping[str, str]) -> str:
    """Fill ``<[conv:]name>`` placeholders (Werkzeug, Django), each value fitting its converter."""

    def angle(match: re.Match[str]) -> str:
        name = match.group(3)
        converter = converters.get(name)
        kind = _kind_of(converter) if converter is not None else (match.group(1) or "str")
        regex = getattr(converter, "regex", None)
        value = sample(name, params, kind=kind, regex=regex if isinstance(regex, str) else None)
        if value is None:
            raise UnfillableParameter(name)
        return _quoted(value, kind)

    return _PARAM_ANGLE.sub(angle, template)


def fill_braces(
    template: str, convertors: Mapping[str, Any], annotations: Mapping[str, Any], params: Mapping[str, str]
) -> str:
    """Fill ``{name[:conv]}`` placeholders (Starlette), each value fitting its convertor and annotation."""

    def brace(match: re.Match[str]) -> str:
        name = match.group(1)
        convertor = convertors.get(name)
        kind = match.group(2) or (_kind_of(convertor) if convertor is not None else "str")
        regex = getattr(convertor, "regex", None)
        value = sample(name, params, kind=kind, regex=regex if isinstance(regex, str) else None,
                       annotation=annotations.get(name))
        if value is None:
            raise UnfillableParameter(name)
        return _quoted(value, kind)

    return _PARAM_BRACE.sub(brace, template)


def fill_simple(template: str, params: Mapping[str, str]) -> str:
    """Fill {name[:conv]} and <[conv:]name> placeholders by converter name alone."""

    def brace(match: re.Match[str]) -> str:
        return sample(match.group(1), params, kind=match.group(2) or "str") or "example"

    def angle(match: re.Match[str]) -> str:
        return sample(match.group(3), params, kind=match.group(1) or "str") or "example"

    return _PARAM_ANGLE.sub(angle, _PARAM_BRACE.sub(brace, template))


def fill_regex(pattern: str, params: Mapping[str, str]) -> tuple[str, str]:
    """Fill a simple regex URL pattern (what re_path and DRF's routers write): anchors, escaped
    literals, optional characters and groups with a sample each. Anything else cannot be filled."""
    text = pattern.removeprefix("^")
    for anchor in ("\\Z", "$"):
        text = text.removesuffix(anchor)
    template: list[str] = []
    filled: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            escaped = text[index + 1]
            if escaped.isalnum():
                raise UnfillableParameter("?")  # \d, \w...: a class, not a literal
            template.append(escaped)
            filled.append(escaped)
            index += 2
            continue
        if char == "(":
            end = _closing_paren(text, index)
            group = text[index + 1:end]
            name = "?"
            named = re.match(r"\?P<([A-Za-z_][A-Za-z0-9_]*)>", group)
            if named:
                name = named.group(1)
                group = group[named.end():]
            elif group.startswith("?:"):
                group = group[2:]
            if name == "format":
                raise UnfillableParameter("format")
            value = sample(name, params, regex=group)
            if value is None:
                raise UnfillableParameter(name)
            optional = end + 1 < len(text) and text[end + 1] == "?"
            template.append(f"<{name}>" if named else value)
            filled.append(value)
            index = end + (2 if optional else 1)
            continue
        if char == "?" and filled:
            index += 1  # "x?": keep the character
            continue
        if char in "[]{}*+|^$":
            raise UnfillableParameter("?")
        template.append(char)
        filled.append(char)
        index += 1
    return "".join(template), "".join(filled)


def _closing_paren(text: str, start: int) -> int:
    depth = 0
    index = start
    in_class = False
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    raise UnfillableParameter("?")
