"""Settings: embedded defaults, service URLs, and the production start without SECRET_KEY."""

from __future__ import annotations

from pathlib import Path

import pytest

from maillage import settings
from maillage.app import create_app
from maillage.settings import SettingsError


def test_no_variable_means_the_embedded_mode(tmp_path: Path) -> None:
    config = settings.load({"MAILLAGE_INSTANCE": str(tmp_path)})
    assert config["DATABASE_URL"] == f"sqlite:///{tmp_path}/maillage.db"
    assert config["MAIL_DIR"] == tmp_path / "mail"
    assert config["REDIS_URL"] is None
    assert config["SMTP_URL"] is None
    assert config["PRODUCTION"] is False


def test_service_variables_switch_to_the_services() -> None:
    config = settings.load({"DATABASE_URL": "postgres://u:p@db/maillage",
                            "REDIS_URL": "redis://cache:6379/0",
                            "SMTP_URL": "smtp://mail:587"})
    assert config["DATABASE_URL"] == "postgresql+psycopg://u:p@db/maillage"
    assert config["REDIS_URL"] == "redis://cache:6379/0"
    assert config["SMTP_URL"] == "smtp://mail:587"


def test_a_production_start_refuses_a_missing_secret_key(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="SECRET_KEY is not set"):
        create_app({"PRODUCTION": True, "SECRET_KEY": None, "INSTANCE_PATH": tmp_path,
                    "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})


def test_development_keeps_a_generated_secret_key_in_the_instance(tmp_path: Path) -> None:
    config = {"PRODUCTION": False, "SECRET_KEY": None, "INSTANCE_PATH": tmp_path}
    first = settings.secret_key(config)
    assert len(first) > 40
    assert settings.secret_key(config) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_event_max_tries_is_a_whole_number_above_zero() -> None:
    assert settings.load({})["EVENT_MAX_TRIES"] == 5
    assert settings.load({"EVENT_MAX_TRIES": "8"})["EVENT_MAX_TRIES"] == 8
    for wrong in ("0", "-1", "five", "2.5", "٣"):
        with pytest.raises(SettingsError, match="EVENT_MAX_TRIES is a number of tries above 0"):
            settings.load({"EVENT_MAX_TRIES": wrong})


def test_the_health_settings_are_checked(tmp_path: Path) -> None:
    config = settings.load({"MAILLAGE_INSTANCE": str(tmp_path)})
    assert (config["LOG_FORMAT"], config["METRICS_TOKEN"],
            config["PROMETHEUS_MULTIPROC_DIR"]) == ("text", None, None)
    config = settings.load({"LOG_FORMAT": "json", "METRICS_TOKEN": "s3cret",
                            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)})
    assert (config["LOG_FORMAT"], config["METRICS_TOKEN"],
            config["PROMETHEUS_MULTIPROC_DIR"]) == ("json", "s3cret", str(tmp_path))
    with pytest.raises(SettingsError, match="LOG_FORMAT is text or json, not 'xml'"):
        settings.load({"LOG_FORMAT": "xml"})
    with pytest.raises(SettingsError, match="PROMETHEUS_MULTIPROC_DIR is an existing folder"):
        settings.load({"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "missing")})


def test_event_batch_is_a_whole_number_of_events_above_zero() -> None:
    assert settings.load({})["EVENT_BATCH"] == 10
    assert settings.load({"EVENT_BATCH": "1"})["EVENT_BATCH"] == 1
    for wrong in ("0", "ten", "1.5"):
        with pytest.raises(SettingsError, match="EVENT_BATCH is a number of events above 0"):
            settings.load({"EVENT_BATCH": wrong})


def test_connections_and_shares_of_a_digest_run_are_whole_numbers_above_zero() -> None:
    """Half a connection would be none: a run with no sender claims its digests and sends
    nothing."""
    config = settings.load({})
    assert (config["SMTP_CONNECTIONS"], config["DIGEST_PARTS"]) == (4, 1)
    config = settings.load({"SMTP_CONNECTIONS": "8", "DIGEST_PARTS": "3"})
    assert (config["SMTP_CONNECTIONS"], config["DIGEST_PARTS"]) == (8, 3)
    for name, unit in (("SMTP_CONNECTIONS", "connections"), ("DIGEST_PARTS", "jobs")):
        for wrong in ("0", "0.5", "-2", "four", "2.5"):
            with pytest.raises(SettingsError, match=f"{name} is a number of {unit} above 0"):
                settings.load({name: wrong})
