"""What a deployment changes about the rules, from the config file or the environment (``DetectSettings``):
who and which addresses give no finding, the thresholds of the counting rules, the hours of the off-hours
rule and the new-address baseline. Checked here once, so a bad value is one line before any query runs."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from zdlogs.analysis.filters import split_actors
from zdlogs.analysis.reports.offhours import OffHoursOptions, check_options
from zdlogs.analysis.times import parse_duration
from zdlogs.config import DetectSettings, env_name
from zdlogs.errors import ConfigError

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# rule -> the settings of its (count, window): the two counting rules
THRESHOLD_SETTINGS = {
    "zendesk_mass_rule_deletion": ("detect_mass_rule_deletion_count", "detect_mass_rule_deletion_window"),
    "zendesk_access_bulk_api": ("detect_bulk_api_count", "detect_bulk_api_window"),
}


@dataclass(frozen=True)
class Threshold:
    """A counting rule's override: at least ``count`` records within ``window``; None keeps the rule's own."""

    count: int | None = None
    window: timedelta | None = None


@dataclass(frozen=True)
class Tuning:
    allow_ids: tuple[int, ...] = ()
    allow_names: tuple[str, ...] = ()  # lower case
    allow_networks: tuple[IpNetwork, ...] = ()
    thresholds: dict[str, Threshold] = field(default_factory=dict)
    hours: OffHoursOptions = field(default_factory=lambda: check_options("08:00-18:00", "UTC", "mon-fri"))
    baseline: timedelta | None = None

    def allowed_ips(self, addresses: Iterable[str | None]) -> list[str]:
        """Those of ``addresses`` inside an allow-listed network (exact addresses are /32 and /128 networks)."""
        return [address for address in addresses if address and self._allowed(address)]

    def _allowed(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.allow_networks if network.version == ip.version)


def load_tuning(config: str | None = None) -> Tuning:
    """The tuning of the settings (``config``: the --config file, else ZDLOGS_CONFIG), every value checked."""
    settings = DetectSettings.load(config)
    ids, names = split_actors(settings.detect_allow_actors)
    return Tuning(
        allow_ids=ids,
        allow_names=names,
        allow_networks=tuple(_network(text) for text in settings.detect_allow_ips),
        thresholds={rule: _threshold(settings, *fields) for rule, fields in THRESHOLD_SETTINGS.items()},
        hours=_hours(settings),
        baseline=_duration(settings.detect_new_ip_baseline, "detect_new_ip_baseline"),
    )


def _network(text: str) -> IpNetwork:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise ConfigError(
            f"{_where('detect_allow_ips')}: {text!r} is not an IP address or CIDR range: write e.g. 203.0.113.7 "
            "or 10.0.0.0/8"
        ) from None


def _threshold(settings: DetectSettings, count_field: str, window_field: str) -> Threshold:
    count = getattr(settings, count_field)
    return Threshold(count, _duration(getattr(settings, window_field), window_field))


def _duration(value: str | None, field_name: str) -> timedelta | None:
    return None if value is None else parse_duration(value, _where(field_name))


def _hours(settings: DetectSettings) -> OffHoursOptions:
    """The off-hours rule's hours, checked by ``report offhours``'s own parser (its messages name the flags)."""
    return check_options(settings.detect_business_hours, settings.detect_timezone, settings.detect_workdays)


def _where(field_name: str) -> str:
    return f"{env_name(field_name)} ({field_name} in the config file)"
