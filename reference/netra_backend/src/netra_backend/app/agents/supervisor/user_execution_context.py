"""Re-export of the user context at the path the supervisor code imports it from."""

from __future__ import annotations

from netra_backend.app.services.user_execution_context import (
    PLACEHOLDER_IDS,
    InvalidContextError,
    UserExecutionContext,
    validate_id,
)

__all__ = ["PLACEHOLDER_IDS", "InvalidContextError", "UserExecutionContext", "validate_id"]
