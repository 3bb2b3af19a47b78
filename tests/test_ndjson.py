"""The stored form of a page: one record per line, the same records always the same bytes and the same name."""

from __future__ import annotations

import gzip
import json

from zdlogs import ndjson


def test_one_record_per_line_every_line_terminated() -> None:
    encoded = ndjson.encode([{"id": 1, "a": "x"}, {"id": 2, "nested": {"b": [1, 2]}}])
    assert encoded.body == b'{"id":1,"a":"x"}\n{"id":2,"nested":{"b":[1,2]}}\n'
    assert encoded.oversized == []
    assert ndjson.encode([]).body == b""


def test_unicode_is_kept_as_utf8() -> None:
    body = ndjson.encode([{"label": "Équipe — 東京"}]).body
    assert body.decode("utf-8") == '{"label":"Équipe — 東京"}\n'


def test_a_lone_surrogate_still_gives_valid_utf8_json() -> None:
    body = ndjson.encode([{"text": "broken \ud800 pair"}]).body
    line = body.decode("utf-8")  # raises if the line is not UTF-8
    assert json.loads(line) == {"text": "broken ? pair"}


def test_oversized_lines_are_reported_and_kept() -> None:
    big = "x" * ndjson.MAX_LINE_BYTES
    encoded = ndjson.encode([{"id": 1}, {"id": 2, "blob": big}, {"id": 3}])
    assert encoded.oversized == [1]
    assert encoded.body.count(b"\n") == 3


def test_gzip_is_deterministic_and_round_trips() -> None:
    body = ndjson.encode([{"id": n} for n in range(50)]).body
    packed = ndjson.pack(body, "gzip")
    assert packed == ndjson.pack(body, "gzip") and packed[:2] == b"\x1f\x8b"
    assert gzip.decompress(packed) == body
    assert ndjson.pack(body, "none") is body


def test_the_object_key_names_stream_day_position_and_content() -> None:
    body = ndjson.encode([{"id": 1}]).body
    key = ndjson.object_key("zendesk/crm/", "audit_logs", "2026/11/25", "20261125T101500Z-1", body, "none")
    assert key.startswith("zendesk/crm/audit_logs/2026/11/25/20261125T101500Z-1-") and key.endswith(".ndjson")
    packed = ndjson.object_key("p/", "audit_logs", "2026/11/25", "pos", body, "gzip")
    assert packed.endswith(".ndjson.gz")


def test_the_same_records_give_the_same_name_and_other_records_another() -> None:
    one, other = ndjson.encode([{"id": 1}]).body, ndjson.encode([{"id": 2}]).body
    name = ndjson.object_key("", "s", "d", "p", one, "none")
    assert name == ndjson.object_key("", "s", "d", "p", one, "none")
    assert name != ndjson.object_key("", "s", "d", "p", other, "none")


def test_the_page_form_is_the_records_under_their_list_key_on_one_line_as_orjson_would_write_it() -> None:
    records = [{"id": 1, "a": "é"}, {"id": 2, "nested": {"b": [1, 2]}}]
    lines, _ = ndjson.encode_lines(records)
    line = ndjson.page_line("audit_logs", lines)
    assert line == json.dumps({"audit_logs": records}, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
    assert line.count(b"\n") == 1
