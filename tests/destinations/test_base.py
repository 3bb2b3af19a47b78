"""The stored form of a page, and the SecOps destination as a Destination."""

from __future__ import annotations

from zdlogs.destinations import Destination, StoredPage
from zdlogs.destinations.secops import SecOpsDestination


def test_a_stored_page_is_its_key_and_bytes() -> None:
    page = StoredPage("zendesk/crm/a.ndjson", b"{}\n")
    assert (page.key, page.data) == ("zendesk/crm/a.ndjson", b"{}\n")
    assert all(callable(getattr(SecOpsDestination, name)) for name in ("deliver", "delivered"))
    assert not hasattr(SecOpsDestination, "replace") and not hasattr(SecOpsDestination, "lease")
    assert Destination.__name__ == "Destination"
