"""Google SecOps rules in YARA-L 2.0, from pySigma-backend-secops' UDM conditions.

The backend turns a detection into UDM conditions; this module corrects three things in what it writes and
wraps the conditions in a rule of our own, because its ``yara_l`` output format closes with ``conditions:``
(YARA-L's section is ``condition:``), puts the rule's text in ``meta`` unescaped and knows no correlation:

* a negated ``null`` (``not ip_address: null``) came out as ``= ""``, the opposite; it is ``!= ""`` here;
* a value list (``source_type: [user, user_setting]``) came out as an unanchored regex, which matches any value
  *containing* one of them (``actor_id != /0/`` left out every id holding a 0); each value is ``^...$`` here;
* a Sigma regex's backslashes were doubled (``[^\\n]``), while YARA-L passes ``/.../`` to RE2 as written.

A negated group (``not (a and b)``) the backend would turn into ``!a and !b``: refused, so no rule is exported
weaker than it reads. YARA-L syntax: https://cloud.google.com/chronicle/docs/detection/yara-l-2-0-syntax;
``over`` windows of 1m to 48h: https://docs.cloud.google.com/chronicle/docs/yara-l/match-syntax.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from sigma.backends.secops import SecOpsBackend
from sigma.conditions import ConditionAND, ConditionNOT, ConditionOR
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import FieldMappingTransformation

EVENT = "$e"
_REGEX_SPECIAL = set("\\.^$|?*+()[]{}/")
_COMPARISONS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "="}


class ZdlogsSecOpsBackend(SecOpsBackend):
    """pySigma-backend-secops with its negated null, its value lists and its regex escaping corrected."""

    in_expressions_allow_wildcards: ClassVar[bool] = False
    and_token: ClassVar[str] = "and"  # YARA-L's own spelling of its operators
    or_token: ClassVar[str] = "or"
    not_token: ClassVar[str] = "not"
    re_escape_escape_char = False

    @contextmanager
    def _negated_expressions(self, negation: bool = False) -> Iterator[None]:
        """The backend's negated expressions, plus "not null" as "exists" (it kept ``= ""``)."""
        with super()._negated_expressions(negation):
            if not negation:
                yield
                return
            self.field_null_expression = self.field_exists_expression  # type: ignore[misc]
            try:
                yield
            finally:
                del self.field_null_expression

    def convert_value_for_in_expression(self, value: Any, state: Any) -> str:
        """One value of a list as an anchored, escaped regex: ``^user$``, so a list matches whole values only."""
        text = str(value.to_plain() if hasattr(value, "to_plain") else value)
        return "^" + "".join("\\" + char if char in _REGEX_SPECIAL else char for char in text) + "$"

    def convert_condition_not(self, cond: ConditionNOT, state: Any) -> Any:
        """A negated field test or list, as the backend writes it; a negated group refused (see the module)."""
        arg = cond.args[0]
        if isinstance(arg, ConditionAND) or (
            isinstance(arg, ConditionOR) and not self.decide_convert_condition_as_in_expression(arg, state)
        ):
            raise NotImplementedError("a negated group (not (a and b)) is not converted to YARA-L correctly")
        return super().convert_condition_not(cond, state)


class _EventVariable(FieldMappingTransformation):
    """Every UDM field as a field of the rule's event variable: ``metadata.description`` -> ``$e.metadata...``."""

    def __init__(self) -> None:
        super().__init__({})

    def apply_field_name(self, field: str | None) -> list[str]:
        return [f"{EVENT}.{field}"]


def event_variable_pipeline() -> ProcessingPipeline:
    """Runs after the field mapping (priority 60 > 20): the UDM names get their ``$e.`` prefix last."""
    item = ProcessingItem(_EventVariable(), identifier="zdlogs_yaral_event_variable")
    return ProcessingPipeline(name="zdlogs YARA-L event variable", priority=60, items=[item])


def events_section(rule: Any, backend: ZdlogsSecOpsBackend) -> str:
    """The UDM conditions of one (base) rule, as one expression. A correlation's base rule has its output
    disabled by pySigma (``generate: false``): re-enabled here on the caller's copy, its events being ours."""
    rule._output = True
    [query] = backend.convert_rule(rule)
    return str(query)


def yaral_rule(
    name: str,
    meta: dict[str, str],
    events: str,
    correlation: Any = None,
    group_by: tuple[tuple[str, str], ...] = (),
    notes: tuple[str, ...] = (),
) -> str:
    """A whole YARA-L 2.0 rule: meta, events, then a single-event condition or the correlation's count."""
    lines = [f"rule {name} {{", "  meta:"]
    lines += [f'    {key} = "{_meta_value(value)}"' for key, value in meta.items() if value]
    lines += [f"  // not carried over: {note}" for note in notes]
    lines += ["", "  events:", f"    {events}"]
    if correlation is None:
        lines += ["", "  condition:", f"    {EVENT}"]
    else:
        lines += _correlation_sections(correlation, group_by)
    return "\n".join([*lines, "}", ""])


def _correlation_sections(correlation: Any, group_by: tuple[tuple[str, str], ...]) -> list[str]:
    """An event_count correlation: ``group_by`` (raw name, UDM field) as match variables ``over`` the timespan,
    then the count of events ``#e``."""
    if correlation.type.name.lower() != "event_count":
        raise NotImplementedError(f"a {correlation.type.name.lower()} correlation is not converted to YARA-L")
    placeholders = [f"${raw}" for raw, _ in group_by]
    op = _COMPARISONS[correlation.condition.op.name.lower()]
    return [
        *[f"    {placeholder} = {EVENT}.{udm}" for placeholder, (_, udm) in zip(placeholders, group_by, strict=True)],
        "",
        "  match:",
        f"    {', '.join(placeholders)} over {match_window(correlation.timespan.seconds)}",
        "",
        "  outcome:",
        f"    $event_count = count_distinct({EVENT}.metadata.id)",
        "",
        "  condition:",
        f"    #{EVENT[1:]} {op} {correlation.condition.count}",
    ]


def match_window(seconds: int) -> str:
    """A Sigma timespan as a YARA-L ``over`` window: whole minutes (rounded up), hours when exact, 1m to 48h."""
    minutes = min(max(math.ceil(seconds / 60), 1), 48 * 60)
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


def _meta_value(value: str) -> str:
    """A meta value on one line, its quotes and backslashes escaped (YARA-L meta values are quoted strings)."""
    return " ".join(str(value).split()).replace("\\", "\\\\").replace('"', '\\"')
