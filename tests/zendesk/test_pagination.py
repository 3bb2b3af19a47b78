"""The pagination rules: which origin a link may point at, when a cursor list ends, what a page must hold."""

from __future__ import annotations

import pytest

from zdlogs.errors import UnsafeLinkError, ZendeskError
from zdlogs.zendesk.pagination import checked_link, cursor_next, next_link, on_origin, origin, records_of

BASE = "https://acme.zendesk.com"


def test_origin_fills_in_the_default_port_and_lowercases_the_host() -> None:
    assert origin("https://ACME.zendesk.com/api") == ("https", "acme.zendesk.com", 443)
    assert origin("http://localhost/x") == ("http", "localhost", 80)
    assert origin("https://acme.zendesk.com:8443/x") == ("https", "acme.zendesk.com", 8443)


def test_a_link_on_our_origin_is_returned_as_is() -> None:
    link = "https://acme.zendesk.com:443/api/v2/audit_logs?page[after]=abc"
    assert checked_link(link, BASE) == link


@pytest.mark.parametrize(
    ("link", "shown"),
    [
        ("https://evil.example/api/v2/audit_logs", "https://evil.example:443"),
        ("http://acme.zendesk.com/api/v2/audit_logs", "http://acme.zendesk.com:80"),
        ("https://acme.zendesk.com.evil.example/x", "https://acme.zendesk.com.evil.example:443"),
        ("/api/v2/audit_logs", "'/api/v2/audit_logs'"),
        (None, "NoneType"),
    ],
)
def test_any_other_link_is_refused_naming_where_it_pointed(link: object, shown: str) -> None:
    with pytest.raises(UnsafeLinkError, match="fix ZENDESK_BASE_URL") as caught:
        checked_link(link, BASE)
    assert shown in str(caught.value)


def test_cursor_pages_go_on_while_has_more_and_follow_links_next() -> None:
    body = {"meta": {"has_more": True, "after_cursor": "c"}, "links": {"next": f"{BASE}/api/v2/audit_logs?c"}}
    assert cursor_next(body, BASE) == f"{BASE}/api/v2/audit_logs?c"


def test_the_last_cursor_page_stops_even_with_an_after_cursor() -> None:
    body = {"meta": {"has_more": False, "after_cursor": "still-set"}, "links": {"next": f"{BASE}/x"}}
    assert cursor_next(body, BASE) is None


@pytest.mark.parametrize("body", [{}, {"meta": {}}, {"meta": {"has_more": "yes"}}, {"meta": []}])
def test_a_cursor_page_without_a_boolean_has_more_is_an_error(body: dict) -> None:
    with pytest.raises(ZendeskError, match=r"without meta\.has_more"):
        cursor_next(body, BASE)


@pytest.mark.parametrize("links", [None, [], {"next": None}, {"next": "https://evil.example/x"}])
def test_has_more_without_a_safe_next_link_is_refused(links: object) -> None:
    with pytest.raises(UnsafeLinkError):
        cursor_next({"meta": {"has_more": True}, "links": links}, BASE)


def test_records_of_returns_the_list_under_the_key() -> None:
    assert records_of({"audit_logs": [{"id": 1}, {"id": 2}]}, "audit_logs") == [{"id": 1}, {"id": 2}]
    assert records_of({"audit_logs": []}, "audit_logs") == []


@pytest.mark.parametrize("body", [{}, {"audit_logs": None}, {"audit_logs": {"id": 1}}, {"audit_logs": [1, 2]}])
def test_records_of_anything_else_is_an_error_naming_the_key(body: dict) -> None:
    with pytest.raises(ZendeskError, match="without a list of 'audit_logs'"):
        records_of(body, "audit_logs")


def _rebuild(cursor: str) -> str:
    return on_origin(BASE, "/api/v2/audit_logs", {"page[size]": 100, "page[after]": cursor})


def test_next_link_keeps_a_link_on_our_origin_and_tells_no_one() -> None:
    told: list[str] = []
    link = f"{BASE}/api/v2/audit_logs?page[after]=c"
    assert next_link(link, "c", BASE, _rebuild, told.append) == link and told == []


@pytest.mark.parametrize(
    "link", ["https://acme-old.zendesk.com/api/v2/audit_logs?page[after]=c", "http://acme.zendesk.com/x", "/relative"]
)
def test_next_link_to_another_origin_is_rebuilt_from_the_cursor_on_ours(link: str) -> None:
    told: list[str] = []
    rebuilt = next_link(link, "c/+=", BASE, _rebuild, told.append)
    assert rebuilt == f"{BASE}/api/v2/audit_logs?page%5Bsize%5D=100&page%5Bafter%5D=c%2F%2B%3D" and told == [link]


@pytest.mark.parametrize("cursor", [None, "", 5])
def test_next_link_to_another_origin_without_a_cursor_is_refused(cursor: object) -> None:
    with pytest.raises(UnsafeLinkError, match=r"https://evil\.example:443"):
        next_link("https://evil.example/x", cursor, BASE, _rebuild, lambda _link: None)


def test_a_missing_link_with_a_cursor_is_rebuilt_without_telling() -> None:
    told: list[str] = []
    assert next_link(None, "c", BASE, _rebuild, told.append).startswith(f"{BASE}/api/v2/audit_logs?") and not told


def test_cursor_next_with_a_rebuild_takes_the_cursor_when_links_next_names_another_host() -> None:
    body = {"meta": {"has_more": True, "after_cursor": "c"}, "links": {"next": "https://acme-old.zendesk.com/x"}}
    assert cursor_next(body, BASE, _rebuild) == _rebuild("c")
    with pytest.raises(UnsafeLinkError):
        cursor_next(body, BASE)  # without a way to rebuild (as before): refused
