"""What zdlogs imports first, before any of its modules: structlog and httpx, without rich (nor pygments).

Both import rich whenever it is installed (as it is with zdlogs' CLI), for parts zdlogs never uses, and neither
has a setting that stops it:

* ``import structlog`` imports ``structlog.dev`` and ``structlog.tracebacks``, which ``try: import rich`` (its
  console, traceback and pretty modules) for rich tracebacks; ``zdlogs.logs`` renders JSON, or the console
  with ``structlog.dev.plain_traceback``;
* ``import httpx`` tries to import its command-line client, ``httpx._main``: click, pygments and five rich
  modules; without them ``httpx.main`` is a stub, and the ``httpx`` command (its own process) is unaffected.

So they are imported here with rich and pygments hidden for the while (``None`` in ``sys.modules`` makes
``import rich`` raise ImportError, which both catch, keeping their fallbacks): 30-40 ms less on each start of
``zdlogs run``. Anything importing rich later (``zdlogs.live``'s progress on a terminal, typer's help) gets it
as usual. When rich is imported already (by the program that imports zdlogs), nothing is hidden.
"""

from __future__ import annotations

import importlib
import sys

WITHOUT_RICH = ("structlog", "httpx")
HIDDEN = ("rich", "pygments")


def import_without_rich(*names: str) -> None:
    """Import ``names``, rich and pygments hidden from them while they are imported."""
    missing = [name for name in names if name not in sys.modules]
    rich_loaded = "rich" in sys.modules  # then structlog uses it, and rich needs pygments: hide nothing
    hidden = [name for name in HIDDEN if name not in sys.modules] if missing and not rich_loaded else []
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        for name in missing:
            importlib.import_module(name)
    finally:
        for name in hidden:
            del sys.modules[name]


import_without_rich(*WITHOUT_RICH)
