"""The access log without query strings: a mailed password-reset token (``?t=…``) and what
people search for are not the log's business. nginx logs the same way (its ``shopd`` format)."""

from __future__ import annotations

import copy
import logging
from typing import Any


class WithoutQueryStrings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # uvicorn's access record: (client, method, path with query, http version, status)
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def log_config() -> dict[str, Any]:
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["no_query"] = {
        "()": "shopd.server.access_log.WithoutQueryStrings"
    }
    config["handlers"]["access"]["filters"] = ["no_query"]
    return config
