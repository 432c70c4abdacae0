"""Session commands: list, show, export, mark, rename, delete, prune, and sync an outbox."""

from __future__ import annotations

import argparse

from monitor.console import format_duration, info, shown
from monitor.core import CLASSES, now
from monitor.defaults import default_outbox
from monitor.errors import EngageError
from monitor.retention import POLICY
from monitor.store import Marker, SessionInfo, StoreLocation, open_store
from monitor.text import printable


def cmd_sessions(args: argparse.Namespace) -> int:
    from rich.table import Table
    from rich.text import Text

    from monitor.console import output

    with open_store(args.db, create=False) as store:
        sessions = store.sessions(store.room_named(args.room))
        policy = store.policy(POLICY)
    info(
        f"retention: {policy}: finished sessions older are deleted at each start of live, analyze, sync and dashboard"
        if policy
        else "retention: none set: sessions stay until deleted (set one with --retention, e.g. 90d)"
    )
    if not sessions:
        where = f" in room {args.room!r}" if args.room else ""
        info(f"no sessions recorded{where} yet: run `engage live` or `engage analyze VIDEO`")
        return 0
    view = Table("id", "name", "room", "start", "duration", "status", "engagement", "faces")
    for s in sessions:
        view.add_row(
            str(s.id),
            Text(printable(s.name)),
            Text(printable(s.room)),
            f"{s.started_at:%Y-%m-%d %H:%M}",
            format_duration(s.duration_s),
            f"{s.status}, empty" if s.empty else s.status,
            shown(s.mean_engagement),
            str(s.faces_seen),
        )
    output.print(view)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from monitor.report import sparkline, summarize
    from monitor.tables import interval_table
    from monitor.usual import read, usual_level

    with open_store(args.db, create=False) as store:
        session = store.resolve(args.session, args.room)
        intervals = interval_table(store.intervals(session.id))
        markers = store.markers(session.id)
        usual = usual_level(store, session, intervals)
    summary = summarize(intervals)
    reading = read(summary.mean_engagement, usual)
    zones = session.settings.get("exclude_zones") or []
    floor = session.settings.get("min_faces")
    below = int(intervals["below_min_faces"].sum())
    lines = [
        f"session {session.id}: {printable(session.name)} ({session.status})",
        f"room        {printable(session.room)} (recorded on {printable(session.host)})",
        f"source      {printable(session.source)}",
        f"started     {session.started_at:%Y-%m-%d %H:%M:%S %z}   duration {format_duration(summary.duration_s)}",
        f"engagement  {reading.sentence() if reading else 'no faces seen yet'}",
        f"            index mean {shown(summary.mean_engagement)}   median {shown(summary.median_engagement)}   "
        "(mean of p_positive + 0.5 p_neutral over faces, 0..1; a calm room of neutral faces is near 0.5)",
        "expressions "
        + "   ".join(f"{c} {shown(summary.class_shares[c], '{:.0%}')}" for c in CLASSES)
        + "   (each face's likeliest expression)",
        f"privacy     not analyzed: {'; '.join(zones) if zones else 'no zone'}   "
        + (f"small-group floor {floor} faces ({below} interval(s) below it, not counted)" if floor else "no floor"),
        f"timeline    |{sparkline(intervals['engagement'])}|",
    ]
    if summary.mean_attention is not None and summary.lowest_attention is not None:
        at, share = summary.lowest_attention
        lines += [
            f"attention   mean {summary.mean_attention:.0%}   lowest {share:.0%} at {format_duration(at)}   "
            "(share of faces turned to the front; the room's, not a student's)",
            f"            |{sparkline(intervals['attention'])}|",
        ]
    if summary.lowest:
        lows = ", ".join(f"{format_duration(m.offset_s)} ({m.engagement:.2f})" for m in summary.lowest)
        lines.append(f"lowest      {lows}")
    lines += [f"marker      {format_duration(m.offset_s)} {printable(m.text)}" for m in markers]
    print("\n".join(lines))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    import pandas as pd

    from monitor.export import STDOUT, all_csv_name, default_csv_name, session_table, write_csv

    if args.session and args.all:
        raise EngageError("give one SESSION or --all, not both")
    with open_store(args.db, create=False) as store:
        if args.all:
            sessions = store.sessions(store.room_named(args.room))[::-1]
        else:
            sessions = [store.resolve(args.session, args.room)]
        if not sessions:
            raise EngageError("no sessions to export")
        table = pd.concat([session_table(store, s) for s in sessions], ignore_index=True)
    output = args.output or (all_csv_name(args.room) if args.all else default_csv_name(sessions[0]))
    protected = [location.path for location in (args.db,) if location.is_local]
    written = write_csv(table, output, force=args.force, protected=[*protected, default_outbox()], excel=args.excel)
    if written != STDOUT:
        info(f"{len(table)} interval(s) of {len(sessions)} session(s) written to {written}")
    return 0


def cmd_mark(args: argparse.Namespace) -> int:
    with open_store(args.db, create=False) as store:
        args.room = next((r for r in store.rooms() if r.casefold() == args.room.casefold()), args.room)
        running = store.running_sessions(args.room)
        if args.session:
            running = [s for s in running if s.id == store.resolve(args.session, args.room).id]
        if not running:
            which = f"session {args.session!r} is not running" if args.session else "no session is running"
            raise EngageError(f"{which} in room {args.room!r}; start one with `engage live`")
        if len(running) > 1:
            listed = ", ".join(f"{s.id} ({s.name}, since {s.started_at:%H:%M})" for s in running)
            raise EngageError(
                f"{len(running)} lectures are running in room {args.room!r}: {listed}; give one with --session"
            )
        session = running[0]
        offset = (now() - session.started_at).total_seconds()
        store.add_marker(session.id, Marker(offset, now(), args.text))
    info(f"marker '{args.text}' added to session {session.id} at {format_duration(offset)}")
    return 0


def cmd_rename(args: argparse.Namespace) -> int:
    with open_store(args.db, create=False) as store:
        session = store.resolve(args.session, args.room)
        store.rename(session.id, args.name)
    info(f"session {session.id} renamed to '{args.name}'")
    return 0


def _confirm_delete(sessions: list[SessionInfo], yes: bool) -> bool:
    from monitor.retention import confirm

    return confirm("delete " + ", ".join(f"{s.id} ({s.name})" for s in sessions), yes)


def cmd_delete(args: argparse.Namespace) -> int:
    with open_store(args.db, create=False) as store:
        session = store.resolve(args.session, args.room)
        if session.status == "running":
            raise EngageError(f"session {session.id} is running; stop it before deleting")
        if _confirm_delete([session], args.yes):
            store.delete([session.id])
            info(f"session {session.id} '{session.name}' deleted")
        else:
            info(f"kept session {session.id}: nothing deleted")
    return 0


def cmd_prune(args: argparse.Namespace) -> int:
    from monitor.retention import parse_age

    try:
        age = parse_age(args.older_than)
    except EngageError as exc:
        raise EngageError(f"--older-than {exc}") from None
    with open_store(args.db, create=False) as store:
        room = store.room_named(args.room)
        old = [s for s in store.older_than(age) if room is None or s.room == room]
        if not old:
            info(f"no session older than {args.older_than}")
        elif _confirm_delete(old, args.yes):
            store.delete([s.id for s in old])
            info(f"deleted {len(old)} session(s) older than {args.older_than}")
        else:
            info("kept them all: nothing deleted")
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    from monitor.settings import describe, settings_of

    print("\n".join(describe(args, args.sources, [s.key for s in settings_of("config")])))
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    from monitor import retention
    from monitor.store.outbox import push

    location: StoreLocation = args.db
    if location.is_local:
        raise EngageError("--db: give the central store's postgresql:// URL (or set ENGAGE_DB) to sync to")
    if not args.outbox.is_file():
        info(f"nothing to send: no outbox at {args.outbox}")
        return 0
    with open_store(StoreLocation.parse(args.outbox)) as outbox, open_store(location) as central:
        retention.enforce(central, args.retention, yes=args.yes)
        held = push(outbox, central)
    info(f"{len(held)} session(s) of {args.outbox} sent to {location} ({sum(held.values())} intervals)")
    return 0


def cmd_grant(args: argparse.Namespace) -> int:
    """Create or upgrade the central schema (as its owner) and grant the recording and staff roles."""
    from monitor.store.roles import grant_roles

    roles = {part: role for part, role in (("recorder", args.recorder), ("staff", args.staff)) if role}
    if not roles:
        raise EngageError("name a role: --recorder ROLE for the room boxes, --staff ROLE for dashboards")
    with open_store(args.db) as store:
        grant_roles(store, roles)
    for part, role in roles.items():
        what = "add sessions, intervals and markers, never delete" if part == "recorder" else "read, rename, prune"
        info(f"role {role} on {args.db}: may {what}")
    return 0
