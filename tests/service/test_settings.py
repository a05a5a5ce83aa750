"""Settings from the environment: defaults, parsing, and errors that name the variable."""

from __future__ import annotations

import pytest

from backend.paths import FRONTEND_DIR, MODEL_DIR
from backend.service.settings import Settings, SettingsError, body_cap_for


def test_defaults_serve_the_repos_weights_and_page_on_localhost():
    settings = Settings.from_env({})
    assert settings.model_dir == MODEL_DIR
    assert settings.frontend_dir == FRONTEND_DIR
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.cors_origins == ()
    assert settings.batch_max == 1000
    assert settings.body_max_bytes == body_cap_for(1000)
    assert settings.log_level == "info"


def test_environment_values_are_parsed():
    settings = Settings.from_env(
        {
            "MODEL_DIR": "/srv/weights",
            "PORT": "9000",
            "HOST": "0.0.0.0",
            "CORS_ORIGINS": "https://a.example, https://b.example/",
            "BATCH_MAX": "10",
            "LOG_LEVEL": "WARNING",
            "WORKERS": "3",
            "UNRELATED": "x",
        }
    )
    assert str(settings.model_dir) == "/srv/weights"
    assert (settings.host, settings.port, settings.workers) == ("0.0.0.0", 9000, 3)
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.log_level == "warning"
    assert settings.body_max_bytes == body_cap_for(10), "the cap follows the batch maximum"


def test_the_body_cap_fits_the_longest_legal_batch():
    longest_number = len(repr(2.2250738585072014e-308)) + len(", ")
    assert body_cap_for(1000) >= 1000 * (784 * longest_number + len("[], "))


@pytest.mark.parametrize(
    "environ, variable",
    [
        ({"PORT": "eighty"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"BATCH_MAX": "0"}, "BATCH_MAX"),
        ({"BODY_MAX_BYTES": "1000"}, "BODY_MAX_BYTES"),
        ({"CORS_ORIGINS": "*"}, "CORS_ORIGINS"),
        ({"CORS_ORIGINS": "https://a.example/path"}, "CORS_ORIGINS"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL"),
        ({"WORKERS": "0"}, "WORKERS"),
    ],
)
def test_bad_values_raise_an_error_naming_the_variable(environ, variable):
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env(environ)


def test_settings_are_frozen():
    settings = Settings.from_env({})
    with pytest.raises(ValueError):
        settings.port = 1
