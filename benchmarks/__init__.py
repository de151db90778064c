"""Side-by-side benchmarks of session-middleware and the session libraries users would otherwise pick.

Run ``python -m benchmarks`` (what ``make bench`` does); ``--quick`` for a smoke run. See README.md.
"""

from __future__ import annotations
