"""Where a store lives: `--db` / `$ENGAGE_DB` as a SQLite path or a database URL, printable without secrets."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from monitor.errors import EngageError
from monitor.text import SECRET_KEY, redacted


@dataclass(frozen=True)
class StoreLocation:
    """A parsed `--db` value: an SQLAlchemy URL for SQLite (a local file) or PostgreSQL (a server)."""

    url: URL

    @classmethod
    def parse(cls, text: str | os.PathLike[str]) -> StoreLocation:
        text = os.fspath(text)
        if "://" not in text:
            return cls(URL.create("sqlite", database=str(Path(text))))
        try:
            url = make_url(text)
        except (ArgumentError, ValueError):
            raise EngageError(f"--db {redacted(text)}: not a database URL or file path") from None
        if url.get_backend_name() == "postgresql":
            return cls(url.set(drivername="postgresql+psycopg"))
        if url.get_backend_name() == "sqlite" and url.database:
            return cls(url)
        raise EngageError(
            f"--db {url.render_as_string(hide_password=True)}: use a file path, sqlite:///PATH or postgresql://"
        )

    @classmethod
    def of(cls, value: StoreLocation | str | os.PathLike[str]) -> StoreLocation:
        return value if isinstance(value, StoreLocation) else cls.parse(value)

    @property
    def is_local(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

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
        assert self.is_local and self.url.database
        return Path(self.url.database)

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
        if self.is_local:
            url = self.url
            if read_only:
                media = bool(os.statvfs(self.path.resolve().parent).f_flag & os.ST_RDONLY)
                mode = {"mode": "ro", "uri": "true", **({"immutable": "1"} if media else {})}
                url = URL.create("sqlite", database=f"file:{self.path.resolve().as_posix()}", query=mode)
            return sa.create_engine(url, connect_args={"timeout": 10, "check_same_thread": False})
        return sa.create_engine(self.url, pool_pre_ping=True, pool_size=2, connect_args={"connect_timeout": 5})
