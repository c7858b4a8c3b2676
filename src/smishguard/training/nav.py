"""The console's "Awareness" menu section, which every training area's pages join (``accounts.nav``)."""

from __future__ import annotations

NAV_SECTION = "training"
