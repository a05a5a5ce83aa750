"""The feedback settings: read from the environment, secrets kept out of reprs and messages."""

from __future__ import annotations

import pytest

from backend.service.settings import Settings, SettingsError


def test_feedback_settings_read_from_the_environment_and_keep_secrets_out_of_repr() -> None:
    settings = Settings.from_env(
        {"DATABASE_URL": "postgresql://app:hunter2@db/feedback", "ADMIN_TOKEN": "t0ken", "FEEDBACK_RATE": "2.5", "FEEDBACK_MAX_ROWS": "10"}
    )
    assert settings.database_url.get_secret_value() == "postgresql://app:hunter2@db/feedback"
    assert settings.feedback_rate == 2.5 and settings.feedback_max_rows == 10
    assert "hunter2" not in repr(settings) and "t0ken" not in repr(settings)
    with pytest.raises(SettingsError, match="FEEDBACK_BURST"):
        Settings.from_env({"FEEDBACK_BURST": "0"})
    with pytest.raises(SettingsError, match="FEEDBACK_RATE"):
        Settings.from_env({"FEEDBACK_RATE": "-1"})


@pytest.mark.parametrize("url", ["mysql://root:pw@db/x", "nonsense", "sqlite:relative.db"])
def test_a_database_url_we_do_not_speak_is_refused_without_echoing_it(url: str) -> None:
    with pytest.raises(SettingsError, match="DATABASE_URL: .*is not a database this service uses") as caught:
        Settings.from_env({"DATABASE_URL": url})
    assert "pw@" not in str(caught.value)
