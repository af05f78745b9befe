"""The total header parsers (RULES.md §2; RFC 9110 §5.6, §11, §14; RFC 9111 §5.2; RFC 8288 §3)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from statusguard.core.headers import (
    Challenge,
    ContentRange,
    Directive,
    format_imf_fixdate,
    is_imf_fixdate,
    is_token,
    parse_byte_ranges,
    parse_cache_control,
    parse_challenges,
    parse_content_range,
    parse_http_date,
    parse_links,
    split_list,
)

# Tokens and lists (RFC 9110 §5.6.1, §5.6.2) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("GET", True, id="method"),
        pytest.param("!#$%&'*+-.^_`|~09azAZ", True, id="every-tchar-class"),
        pytest.param("", False, id="empty"),
        pytest.param("GET ", False, id="trailing-space"),
        pytest.param("a,b", False, id="comma"),
        pytest.param('"a"', False, id="quote"),
        pytest.param("a/b", False, id="slash"),
        pytest.param("caf\u00e9", False, id="non-ascii"),
        pytest.param("\u0661", False, id="non-ascii-digit"),
    ],
)
def test_is_token(value: str, expected: bool) -> None:
    assert is_token(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("a, b", ["a", "b"], id="simple"),
        pytest.param("a,b", ["a", "b"], id="no-space"),
        pytest.param(" a \t,\tb ", ["a", "b"], id="ows-trimmed"),
        pytest.param('a, "b,c" , ,d', ["a", '"b,c"', "", "d"], id="quoted-comma-and-empty-member"),
        pytest.param('"a\\"b,c", d', ['"a\\"b,c"', "d"], id="escaped-quote"),
        pytest.param('"a\\\\", b', ['"a\\\\"', "b"], id="escaped-backslash-then-close"),
        pytest.param("", [""], id="empty"),
        pytest.param(",", ["", ""], id="only-comma"),
        pytest.param('"open, b', None, id="unterminated-quote"),
        pytest.param('"a\\"', None, id="escape-eats-the-closing-quote"),
    ],
)
def test_split_list(value: str, expected: list[str] | None) -> None:
    assert split_list(value) == expected


# Cache-Control (RFC 9111 §5.2) --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param(["no-store"], [Directive("no-store", None, False)], id="bare"),
        pytest.param(["Max-Age=60"], [Directive("max-age", "60", False)], id="name-lowercased"),
        pytest.param(['max-age="60"'], [Directive("max-age", "60", True)], id="quoted-form-recorded"),
        pytest.param(['private="Set-Cookie, X-A"'], [Directive("private", "Set-Cookie, X-A", True)],
                     id="quoted-list"),
        pytest.param(['no-cache="a\\"b"'], [Directive("no-cache", 'a"b', True)], id="escape-unquoted"),
        pytest.param(["public", "max-age=1"], [Directive("public", None, False), Directive("max-age", "1", False)],
                     id="several-lines"),
        pytest.param(["public,, max-age = 1"], [Directive("public", None, False), Directive("max-age", "1", False)],
                     id="empty-member-and-spaces"),
        pytest.param([], [], id="no-lines"),
        pytest.param([""], [], id="empty-line"),
        pytest.param(["max-age=1 2"], None, id="space-in-token"),
        pytest.param(["a b"], None, id="space-in-name"),
        pytest.param(['no-cache="x'], None, id="unterminated"),
        pytest.param(['no-cache="x"y'], None, id="text-after-quote"),
        pytest.param(["=60"], None, id="no-name"),
        pytest.param(["max-age="], None, id="empty-argument"),
    ],
)
def test_parse_cache_control(values: list[str], expected: list[Directive] | None) -> None:
    assert parse_cache_control(values) == expected


# WWW-Authenticate (RFC 9110 §11.2, §11.3, §11.6.1) ------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("Basic", [Challenge("Basic", None, ())], id="bare-scheme"),
        pytest.param('Basic realm="x"', [Challenge("Basic", None, (("realm", "x", True),))], id="quoted-realm"),
        pytest.param("Basic realm=x", [Challenge("Basic", None, (("realm", "x", False),))], id="token-realm"),
        pytest.param('Basic Realm = "x"', [Challenge("Basic", None, (("realm", "x", True),))],
                     id="bws-and-case"),
        pytest.param('Basic realm="a\\"b"', [Challenge("Basic", None, (("realm", 'a"b', True),))],
                     id="escaped-quote"),
        pytest.param("Negotiate YIIBhgYGKwYBBQUCoIIBejCCAXag==",
                     [Challenge("Negotiate", "YIIBhgYGKwYBBQUCoIIBejCCAXag==", ())],
                     id="token68-padding"),
        pytest.param("Bearer abc-._~+/9", [Challenge("Bearer", "abc-._~+/9", ())], id="token68-all-chars"),
        pytest.param(
            'Basic realm="a", Bearer realm="b", error="invalid_token"',
            [Challenge("Basic", None, (("realm", "a", True),)),
             Challenge("Bearer", None, (("realm", "b", True), ("error", "invalid_token", True)))],
            id="two-challenges-one-line",
        ),
        pytest.param(
            'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"',
            [Challenge("Newauth", None, (("realm", "apps", True), ("type", "1", False),
                                         ("title", 'Login to "apps"', True))),
             Challenge("Basic", None, (("realm", "simple", True),))],
            id="rfc9110-example",
        ),
        pytest.param("Negotiate abc==, Basic", [Challenge("Negotiate", "abc==", ()), Challenge("Basic", None, ())],
                     id="token68-then-challenge"),
        pytest.param(', Basic realm="x",', [Challenge("Basic", None, (("realm", "x", True),))],
                     id="empty-members"),
        pytest.param('Basic realm="a", realm="b"', None, id="duplicate-param"),
        pytest.param('Basic realm="a", REALM="b"', None, id="duplicate-param-case-insensitive"),
        pytest.param("", None, id="empty"),
        pytest.param(",", None, id="only-comma"),
        pytest.param('Basic realm="x', None, id="unterminated"),
        pytest.param('Basic realm="a" charset="b"', None, id="missing-comma"),
        pytest.param("Basic =x", None, id="no-param-name"),
        pytest.param("Basic a==b", None, id="neither-token68-nor-param"),
        # "realm=" with nothing after it is not a parameter: it is a (padded) token68.
        pytest.param("Basic realm=", [Challenge("Basic", "realm=", ())], id="padding-not-param"),
        pytest.param("Basic realm=, Bearer", [Challenge("Basic", "realm=", ()), Challenge("Bearer", None, ())],
                     id="padding-then-challenge"),
        pytest.param("Basic realm=@", None, id="param-value-not-a-token"),
        pytest.param('Basic a="1", b=2, Bearer c=3', [Challenge("Basic", None, (("a", "1", True), ("b", "2", False))),
                                                      Challenge("Bearer", None, (("c", "3", False),))],
                     id="params-then-challenge-with-params"),
        pytest.param("Basic a=1,, ,b=2", [Challenge("Basic", None, (("a", "1", False), ("b", "2", False)))],
                     id="empty-members-between-params"),
        pytest.param("Basic a=1, b=", None, id="last-param-without-value"),
        pytest.param("Basic a=1, b =@", None, id="bws-then-bad-value"),
        pytest.param("B@sic", None, id="scheme-not-a-token"),
    ],
)
def test_parse_challenges(value: str, expected: list[Challenge] | None) -> None:
    assert parse_challenges(value) == expected


def test_same_param_in_two_challenges_is_fine() -> None:
    parsed = parse_challenges('Basic realm="a", Bearer realm="b"')
    assert parsed is not None
    assert [c.scheme for c in parsed] == ["Basic", "Bearer"]


# Content-Range (RFC 9110 §14.4) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("bytes 0-499/1234", ContentRange("bytes", 0, 499, 1234), id="satisfied"),
        pytest.param("bytes 0-0/1", ContentRange("bytes", 0, 0, 1), id="one-byte"),
        pytest.param("bytes 0-1/*", ContentRange("bytes", 0, 1, None), id="unknown-length"),
        pytest.param("bytes */1234", ContentRange("bytes", None, None, 1234), id="unsatisfied"),
        pytest.param("Bytes 0-1/2", ContentRange("bytes", 0, 1, 2), id="unit-lowercased"),
        pytest.param("items 0-1/2", ContentRange("items", 0, 1, 2), id="other-unit"),
        pytest.param("bytes 00-01/010", ContentRange("bytes", 0, 1, 10), id="leading-zeros"),
        pytest.param(
            f"bytes {10**40}-{10**41}/{10**42}", ContentRange("bytes", 10**40, 10**41, 10**42), id="huge-numbers",
        ),
        pytest.param(f"bytes 0-{10**50}/{10**50}", None, id="huge-length-not-above-last"),
        pytest.param("bytes 5-1/10", None, id="last-before-first"),
        pytest.param("bytes 0-10/10", None, id="last-not-below-length"),
        pytest.param("bytes */*", None, id="star-star"),
        pytest.param("bytes 0-1", None, id="no-length"),
        pytest.param("bytes=0-1/2", None, id="equals-instead-of-space"),
        pytest.param("bytes  0-1/2", None, id="two-spaces"),
        pytest.param("bytes -1/2", None, id="suffix-form"),
        pytest.param("bytes 0-/2", None, id="open-end"),
        pytest.param("bytes +0-1/2", None, id="sign"),
        pytest.param("bytes 0-1/2 ", None, id="trailing-space"),
        pytest.param("bytes \u0660-\u0661/\u0662", None, id="non-ascii-digits"),
        pytest.param("0-1/2", None, id="no-unit"),
        pytest.param("", None, id="empty"),
    ],
)
def test_parse_content_range(value: str, expected: ContentRange | None) -> None:
    assert parse_content_range(value) == expected


def test_content_range_beyond_int_conversion_limit_is_total() -> None:
    # Far beyond any real length and beyond Python's default int/str conversion limit: never raises.
    assert parse_content_range("bytes 0-1/" + "9" * 100_000) is None
    assert parse_content_range("bytes 0-1/" + "0" * 100_000 + "5") == ContentRange("bytes", 0, 1, 5)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("bytes=0-499", ["0-499"], id="one"),
        pytest.param("bytes=0-1, 5-", ["0-1", "5-"], id="two"),
        pytest.param("bytes=-500", ["-500"], id="suffix"),
        pytest.param("Bytes = 0-1", ["0-1"], id="unit-case-and-spaces"),
        pytest.param("bytes=0-1,,", ["0-1"], id="empty-members"),
        pytest.param("items=0-1", None, id="other-unit"),
        pytest.param("bytes=", None, id="no-ranges"),
        pytest.param("bytes 0-1", None, id="no-equals"),
        pytest.param("", None, id="empty"),
    ],
)
def test_parse_byte_ranges(value: str, expected: list[str] | None) -> None:
    assert parse_byte_ranges(value) == expected


# Dates (RFC 9110 §5.6.7) --------------------------------------------------------------------------------

NOV_6_1994 = datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("Sun, 06 Nov 1994 08:49:37 GMT", True, id="rfc9110-example"),
        pytest.param("Thu, 01 Jan 1970 00:00:00 GMT", True, id="epoch"),
        pytest.param("Tue, 29 Feb 2000 12:00:00 GMT", True, id="leap-day"),
        pytest.param("Mon, 06 Nov 1994 08:49:37 GMT", False, id="wrong-weekday"),
        pytest.param("Sunday, 06-Nov-94 08:49:37 GMT", False, id="rfc850-form"),
        pytest.param("Sun Nov  6 08:49:37 1994", False, id="asctime-form"),
        pytest.param("Sun, 06 Nov 1994 08:49:37 UTC", False, id="utc-not-gmt"),
        pytest.param("Sun, 06 Nov 1994 08:49:37 +0000", False, id="numeric-zone"),
        pytest.param("sun, 06 Nov 1994 08:49:37 GMT", False, id="lowercase-day"),
        pytest.param("Sun, 06 nov 1994 08:49:37 GMT", False, id="lowercase-month"),
        pytest.param("Sun, 6 Nov 1994 08:49:37 GMT", False, id="one-digit-day"),
        pytest.param("Sun,  06 Nov 1994 08:49:37 GMT", False, id="double-space"),
        pytest.param("Sun, 06 Nov 1994 08:49:37 GMT ", False, id="trailing-space"),
        pytest.param("Wed, 31 Feb 1994 08:49:37 GMT", False, id="no-such-day"),
        pytest.param("Sun, 06 Nov 1994 24:00:00 GMT", False, id="hour-24"),
        pytest.param("Sun, \u0660\u0666 Nov 1994 08:49:37 GMT", False, id="non-ascii-digits"),
        pytest.param("0", False, id="zero"),
        pytest.param("", False, id="empty"),
    ],
)
def test_is_imf_fixdate(value: str, expected: bool) -> None:
    assert is_imf_fixdate(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("Sun, 06 Nov 1994 08:49:37 GMT", NOV_6_1994, id="imf-fixdate"),
        pytest.param("Sunday, 06-Nov-94 08:49:37 GMT", NOV_6_1994, id="rfc850"),
        pytest.param("Sun Nov  6 08:49:37 1994", NOV_6_1994, id="asctime"),
        pytest.param("soon", None, id="junk"),
        pytest.param("0", None, id="zero"),
        pytest.param("-1", None, id="minus-one"),
        pytest.param("120", None, id="seconds-are-not-a-date"),
        pytest.param("", None, id="empty"),
        pytest.param("Sun, 06 Nov 1994 08:49:37 GMT" + " " * 100, None, id="too-long"),
        pytest.param("Fri, 31 Dec 9999 23:59:59 -0800", None, id="zone-pushes-past-year-9999"),
    ],
)
def test_parse_http_date(value: str, expected: datetime | None) -> None:
    assert parse_http_date(value) == expected


def test_parse_http_date_returns_utc() -> None:
    parsed = parse_http_date("Sun Nov  6 08:49:37 1994")
    assert parsed is not None
    assert parsed.utcoffset() is not None
    assert parsed.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


def test_rfc850_two_digit_year_follows_the_fifty_year_rule() -> None:
    # RFC 9110 §5.6.7: a two-digit year that appears more than 50 years in the future is in the past century.
    this_year = datetime.now(UTC).year
    near = (this_year + 10) % 100
    far = (this_year + 60) % 100
    near_parsed = parse_http_date(f"Monday, 01-Jan-{near:02d} 00:00:00 GMT")
    far_parsed = parse_http_date(f"Monday, 01-Jan-{far:02d} 00:00:00 GMT")
    assert near_parsed is not None
    assert near_parsed.year == this_year + 10
    assert far_parsed is not None
    assert far_parsed.year == this_year + 60 - 100


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        pytest.param(NOV_6_1994, "Sun, 06 Nov 1994 08:49:37 GMT", id="utc"),
        pytest.param(datetime(1970, 1, 1, tzinfo=UTC), "Thu, 01 Jan 1970 00:00:00 GMT", id="epoch"),
    ],
)
def test_format_imf_fixdate(moment: datetime, expected: str) -> None:
    assert format_imf_fixdate(moment) == expected
    assert is_imf_fixdate(expected)
    assert parse_http_date(expected) == moment


# Link (RFC 8288 §3) -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param('<https://isp.example/>; rel="blocked-by"', [("https://isp.example/", {"rel": "blocked-by"})],
                     id="rfc7725-example"),
        pytest.param("</a.css>; rel=preload; as=style", [("/a.css", {"rel": "preload", "as": "style"})],
                     id="token-params"),
        pytest.param("</a>; rel=first; rel=second", [("/a", {"rel": "first"})], id="first-rel-wins"),
        pytest.param('</a>; REL="x"', [("/a", {"rel": "x"})], id="name-lowercased"),
        pytest.param("</a>; crossorigin", [("/a", {"crossorigin": ""})], id="param-without-value"),
        pytest.param('</a>; rel="next", </b>; rel="prev"', [("/a", {"rel": "next"}), ("/b", {"rel": "prev"})],
                     id="two-links"),
        pytest.param('</a>; title="x, y"', [("/a", {"title": "x, y"})], id="comma-in-quoted-value"),
        pytest.param("</a>", [("/a", {})], id="no-params"),
        pytest.param("", [], id="empty"),
        pytest.param("https://a/; rel=x", None, id="no-angle-brackets"),
        pytest.param("<https://a/", None, id="unterminated-target"),
        pytest.param('</a>; rel="x', None, id="unterminated-quote"),
        pytest.param("</a> </b>", None, id="missing-comma"),
        pytest.param("</a>; =x", None, id="no-param-name"),
    ],
)
def test_parse_links(value: str, expected: list[tuple[str, dict[str, str]]] | None) -> None:
    assert parse_links(value) == expected


# Linear time (the _syntax charter: no backtracking over values from apps we do not trust) ----------------

MEGABYTE = 1 << 20

# Each hostile value is built for a size n in bytes, so that the same shape can be timed at two sizes.
HOSTILE: list[Any] = [
    pytest.param(lambda n: "," * n, id="commas"),
    pytest.param(lambda n: '"' + "\\" * (n - 1), id="escapes-never-closing"),
    pytest.param(lambda n: '"\\' * (n // 2), id="quote-backslash-repeated"),
    pytest.param(lambda n: '"a",' * (n // 4), id="many-quoted-members"),
    pytest.param(lambda n: "a=" * (n // 2), id="equals-chain"),
    pytest.param(lambda n: "a " * (n // 2), id="token-space-chain"),
    pytest.param(lambda n: "Basic " + "a=b, " * (n // 5), id="many-params"),
    pytest.param(lambda n: "Basic a=b, " * (n // 11), id="many-challenges"),
    pytest.param(lambda n: "<" * n, id="angle-brackets"),
    pytest.param(lambda n: "</a>;" * (n // 5), id="many-semicolons"),
    pytest.param(lambda n: "</a>, " * (n // 6), id="many-links"),
    pytest.param(lambda n: "bytes " + "0" * n + "-1/2", id="long-digits"),
    pytest.param(lambda n: "a" * n + "==", id="long-token68"),
    pytest.param(lambda n: "=" * n, id="equals"),
]

PARSERS: list[Callable[[str], object]] = [
    split_list,
    lambda v: parse_cache_control([v]),
    parse_challenges,
    parse_content_range,
    parse_http_date,
    is_imf_fixdate,
    parse_links,
    parse_byte_ranges,
    is_token,
]


def _parse_all(value: str) -> float:
    """CPU seconds (not wall time: other processes on a busy machine do not count) to run every parser."""
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        for parser in PARSERS:
            parser(value)
        best = min(best, time.process_time() - started)
    return best


@pytest.mark.parametrize("build", HOSTILE)
def test_parsers_are_linear_on_hostile_megabyte_values(build: Callable[[int], str]) -> None:
    # A complexity guard, not a benchmark: growing the input 8x grows a linear parser's time about
    # 8x (more when the small input fits in a CPU cache and the large one does not); a quadratic
    # one grows 64x. The bound sits between the two, and a floor absorbs timer noise.
    small = _parse_all(build(MEGABYTE // 8))
    large = _parse_all(build(MEGABYTE))
    assert large <= max(40 * small, 0.1), f"8x input took {large / max(small, 1e-9):.0f}x the time"
    assert large < 5.0, f"parsing 1 MB took {large:.2f}s of CPU"
