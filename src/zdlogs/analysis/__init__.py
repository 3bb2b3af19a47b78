"""Reading collected audit logs back: CSV export, reports, Zendesk's own export request.

This package face defines nothing and imports nothing: DuckDB (the ``analysis`` extra) is loaded only
when an export or report runs (:func:`zdlogs.analysis.engine.open_audit`), never by ``import zdlogs``.
"""
