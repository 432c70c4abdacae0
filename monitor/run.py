"""Drivers of the pipeline: `live` paces a live source in real time, `analyze` runs a recording flat out."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from monitor.console import StatusLine, format_duration, info, progress_bar, status_text, warn
from monitor.core import now
from monitor.pipeline import Pipeline
from monitor.preview import PreviewWindow
from monitor.source import Frame, FramesAhead, LatestFrameReader
from monitor.store.outbox import Sender

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
LARGE_BLOCK_BYTES = 256 * 1024

STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))
STOP_REQUESTED = threading.Event()  # a stop signal arrived: a service (`engage room`) ends after this lecture


def map_large_blocks() -> bool:
    """Ask glibc to map every block from LARGE_BLOCK_BYTES up (frames, network buffers) and unmap it when freed,
    instead of keeping freed frames in a heap that never shrinks: a long `live` stays small. False where the C
    library has no `mallopt` (macOS, Windows), which changes nothing there."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        return bool(libc.mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK_BYTES))
    except (OSError, AttributeError, TypeError):
        return False


@contextmanager
def stop_signals_as_interrupt(with_ctrl_c: bool = False) -> Iterator[None]:
    """Let `kill` (SIGTERM) and a closed terminal (SIGHUP), and with `with_ctrl_c` also Ctrl-C, end a session as
    cleanly as Ctrl-C does; each sets STOP_REQUESTED."""

    def interrupt(signum: int, frame: object) -> None:
        STOP_REQUESTED.set()
        raise KeyboardInterrupt

    numbers = (*STOP_SIGNALS, signal.SIGINT) if with_ctrl_c else STOP_SIGNALS
    previous = {number: signal.signal(number, interrupt) for number in numbers}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def run_live(
    pipeline: Pipeline,
    reader: LatestFrameReader,
    preview: PreviewWindow | None,
    sender: Sender | None = None,
    stop_at: datetime | None = None,
) -> None:
    """Analyze the newest frame at most `fps` times a second until the source ends, `stop_at`, `q`, Ctrl-C,
    SIGTERM or SIGHUP; `sender` (pushing to a central store) is woken as each interval closes and reports on the
    status line."""
    period = 1.0 / pipeline.settings.fps
    started = time.monotonic()
    next_due = started
    shown_interval = None
    try:
        with stop_signals_as_interrupt(), StatusLine() as status:
            reader.start()
            while not reader.finished.is_set() and (stop_at is None or now() < stop_at):
                time.sleep(max(0.0, next_due - time.monotonic()))
                image = reader.latest(timeout=period)  # the newest frame; waits a period for one if none is new
                elapsed = time.monotonic() - started
                if image is None:
                    pipeline.idle(elapsed)
                    if sender and not reader.connected:
                        sender.activity = "camera lost"
                    continue
                next_due = max(next_due + period, time.monotonic())
                result = pipeline.process(image, elapsed)
                if pipeline.frames == 1:
                    info(f"first frame analyzed {time.monotonic() - started:.1f} s after the source opened")
                fps = pipeline.frames / elapsed if elapsed > 0 else 0.0
                faces = len(result.faces) if result else 0
                counted = result is not None and len(result.faces) >= pipeline.settings.min_faces
                engagement = result.engagement if counted else None  # the floor holds on screen too
                new_interval = pipeline.last_interval is not shown_interval
                shown_interval = pipeline.last_interval
                if sender:
                    sender.activity = "recording" if reader.connected else "camera lost"
                    if new_interval:
                        sender.nudge()
                store = "; ".join(filter(None, [pipeline.writer.status, sender.status if sender else ""]))
                status.update(status_text(elapsed, fps, faces, engagement, reader.connected, store), force=new_interval)
                if preview and result is not None:
                    key = preview.show(image, result)
                    if key == "q":
                        break
                    if key == "m":
                        pipeline.mark("marker", elapsed)
    except KeyboardInterrupt:
        pass
    except BaseException:
        pipeline.finish("interrupted", time.monotonic() - started, notify=warn)
        raise
    finally:
        reader.stop()
        if preview:
            preview.close()
    pipeline.finish("completed", time.monotonic() - started, notify=warn)


def run_analyze(pipeline: Pipeline, frames: FramesAhead, advance: Callable[[float, str], None] | None = None) -> None:
    """Analyze a recording's `frames` (decoding at the pipeline's rate) as fast as possible, and close them; session
    time is media time. Ctrl-C, SIGTERM and SIGHUP end it
    cleanly: the session keeps what was analyzed and is marked interrupted. `advance(seconds, detail)` (a batch's
    shared progress bar, from a worker thread) replaces the recording's own bar and its signal handling: the
    batch sets STOP_REQUESTED instead."""
    duration = frames.duration_s
    status = "completed"
    try:
        with contextlib.ExitStack() as stack:
            if advance is None:
                stack.enter_context(stop_signals_as_interrupt())
                progress = stack.enter_context(progress_bar())
                task = progress.add_task("analyze", total=duration or None, detail="")

                def advance(seconds: float, detail: str) -> None:
                    progress.update(task, advance=seconds, detail=detail)

            frame: Frame | None = None
            done = 0.0
            for frame in frames:
                if STOP_REQUESTED.is_set() and threading.current_thread() is not threading.main_thread():
                    raise KeyboardInterrupt
                result = pipeline.process(frame.image, frame.offset_s)
                detail = f"{format_duration(frame.offset_s)}  faces {len(result.faces) if result else 0}"
                store = pipeline.writer.status
                advance(frame.offset_s - done, f"{detail}  [{store}]" if store else detail)
                done = frame.offset_s
            end = duration or (frame.offset_s if frame else 0.0)
            advance(end - done, "")
    except KeyboardInterrupt:
        warn("analysis stopped early; the session keeps what was analyzed")
        status, end = "interrupted", pipeline.last_offset_s
    except BaseException:
        pipeline.finish("interrupted", notify=warn)
        raise
    finally:
        frames.close()
    pipeline.finish(status, end, notify=warn)
