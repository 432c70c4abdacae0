"""Handlers of the `engage` sub-commands, `cmd_<name>(args)`; each returns an exit code (None = 0)."""

from engage.commands.manage import (
    cmd_config,
    cmd_delete,
    cmd_export,
    cmd_grant,
    cmd_mark,
    cmd_prune,
    cmd_rename,
    cmd_sessions,
    cmd_show,
    cmd_sync,
)
from engage.commands.record import cmd_analyze, cmd_classify, cmd_demo, cmd_live, cmd_room, cmd_zones
from engage.commands.tools import cmd_combine, cmd_convert, cmd_dashboard, cmd_evaluate, cmd_select, cmd_train

__all__ = [
    "cmd_analyze",
    "cmd_classify",
    "cmd_combine",
    "cmd_config",
    "cmd_convert",
    "cmd_dashboard",
    "cmd_delete",
    "cmd_demo",
    "cmd_evaluate",
    "cmd_export",
    "cmd_grant",
    "cmd_live",
    "cmd_mark",
    "cmd_prune",
    "cmd_rename",
    "cmd_room",
    "cmd_select",
    "cmd_sessions",
    "cmd_show",
    "cmd_sync",
    "cmd_train",
    "cmd_zones",
]
