"""Values as the database takes them."""

from __future__ import annotations

import json
import math
from typing import Any


def jsonb_text(value: Any) -> str:
    """JSON that PostgreSQL's jsonb accepts: it refuses NaN/Infinity and the NUL
    character, both of which a terminal can send; they are kept as text."""

    def clean(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return str(v)
        if isinstance(v, str):
            return v.replace("\x00", "\ufffd")
        if isinstance(v, dict):
            return {clean(str(k)): clean(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [clean(x) for x in v]
        return v

    return json.dumps(clean(value), default=str, allow_nan=False)
