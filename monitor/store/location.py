"""Where a store lives: `--db` / `$ENGAGE_DB` as a SQLite path or a database URL, printable without secrets."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.errors import EngageError
from monitor.text import SECRET_KEY, redacted

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import URL


@dataclass(frozen=True, repr=False)
class StoreLocation:
    """A parsed `--db` value: a SQLite file path, or a SQLite or PostgreSQL URL. A path needs no SQLAlchemy until
    the store opens, so a command can start its real work (say, decoding a recording) while SQLAlchemy loads."""

    spec: str  # the file path, or the URL as SQLAlchemy renders it (password included: never print it)

    @classmethod
    def parse(cls, text: str | os.PathLike[str]) -> StoreLocation:
        text = os.fspath(text)
        if "://" not in text:
            return cls(str(Path(text)))
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(text)
        except (ArgumentError, ValueError):
            raise EngageError(f"--db {redacted(text)}: not a database URL or file path") from None
        if url.get_backend_name() == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        elif url.get_backend_name() != "sqlite" or not url.database:
            raise EngageError(
                f"--db {url.render_as_string(hide_password=True)}: use a file path, sqlite:///PATH or postgresql://"
            )
        return cls(url.render_as_string(hide_password=False))

    @cached_property
    def url(self) -> URL:
        from sqlalchemy.engine import URL, make_url

        return make_url(self.spec) if "://" in self.spec else URL.create("sqlite", database=self.spec)

    @classmethod
    def of(cls, value: StoreLocation | str | os.PathLike[str]) -> StoreLocation:
        return value if isinstance(value, StoreLocation) else cls.parse(value)

    @property
    def is_local(self) -> bool:
        return "://" not in self.spec or self.spec.startswith("sqlite")

    @property
    def writable(self) -> bool:
        """Whether engage may write the local store (its folder on writable media, the file writable if present)."""
        folder = self.path.resolve().parent
        if os.statvfs(folder).f_flag & os.ST_RDONLY or not os.access(folder, os.W_OK):
            return False
        return not self.path.exists() or os.access(self.path, os.W_OK)

    @property
    def path(self) -> Path:
        """The SQLite file (local stores only)."""
        assert self.is_local
        return Path(self.spec if "://" not in self.spec else str(self.url.database))

    def __repr__(self) -> str:
        return f"StoreLocation({str(self)!r})"

    def __str__(self) -> str:
        if self.is_local:
            return str(self.path.absolute())  # every message names the file wherever the command runs
        return redacted(self.url.set(drivername="postgresql").render_as_string(hide_password=True))

    def scrub(self, message: str) -> str:
        """`message` (say, a driver's error) with this location's passwords blanked out, wherever they stand."""
        secrets = [self.url.password, *(v for k, v in self.url.query.items() if SECRET_KEY.fullmatch(k))]
        for secret in secrets:
            for value in secret if isinstance(secret, tuple) else (secret,):
                if value:
                    message = message.replace(str(value), "***")
        return redacted(message)

    def engine(self, read_only: bool = False) -> sa.Engine:
        """An engine; `read_only` (local stores) opens the file without ever writing to it or beside it."""
        import sqlalchemy as sa
        from sqlalchemy.engine import URL

        if self.is_local:
            url = self.url
            if read_only:
                media = bool(os.statvfs(self.path.resolve().parent).f_flag & os.ST_RDONLY)
                mode = {"mode": "ro", "uri": "true", **({"immutable": "1"} if media else {})}
                url = URL.create("sqlite", database=f"file:{self.path.resolve().as_posix()}", query=mode)
            return sa.create_engine(url, connect_args={"timeout": 10, "check_same_thread": False})
        return sa.create_engine(self.url, pool_pre_ping=True, pool_size=2, connect_args={"connect_timeout": 5})
