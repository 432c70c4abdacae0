import pytest

from monitor.errors import EngageError
from monitor.store import StoreLocation, StoreUnavailable, open_store
from tests.postgres import PASSWORD


def test_paths_and_urls():
    assert StoreLocation.parse("sessions/engage.db").path.as_posix() == "sessions/engage.db"
    assert StoreLocation.parse("sqlite:///tmp/x.db").is_local
    central = StoreLocation.parse(f"postgresql://engage:{PASSWORD}@db.school.example/engage")
    assert not central.is_local and central.url.drivername == "postgresql+psycopg"
    assert PASSWORD not in str(central) and str(central) == "postgresql://engage:***@db.school.example/engage"


@pytest.mark.parametrize("text", ["mysql://u@h/db", "postgresql://u:pw@h:notaport/db", "sqlite://"])
def test_unsupported_or_malformed_urls_are_one_line_errors_without_the_password(text):
    with pytest.raises(EngageError) as error:
        StoreLocation.parse(text)
    assert "pw" not in str(error.value) and "\n" not in str(error.value)


def test_wrong_password_is_an_error_that_never_shows_a_password(postgres):
    wrong = postgres.url(password="not-the-password")
    with pytest.raises(EngageError) as error:
        open_store(wrong)
    assert not isinstance(error.value, StoreUnavailable)  # no retry will fix it
    assert "authentication failed" in str(error.value) and "not-the-password" not in str(error.value)


def test_unreachable_server_is_unavailable_without_the_password(postgres):
    url = postgres.url().replace(f":{postgres.port}/", ":9/")
    with pytest.raises(StoreUnavailable) as error:
        open_store(url)
    assert "unreachable" in str(error.value) and PASSWORD not in str(error.value)
