"""Value-chain tests: their helper modules (``gvc_naive``, ``gvc_worlds``) live beside them."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)
