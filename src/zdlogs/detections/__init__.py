"""Detections as code: the Sigma rules for Zendesk shipped in ``rules/``, loaded and validated with pySigma
(``loader``), turned into DuckDB SQL (``sql``) and evaluated over the collected data (``evaluate``) by
``zdlogs detect`` (``cli``). pySigma is the optional ``detect`` extra: imported only on these paths."""
