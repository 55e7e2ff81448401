import time
from datetime import datetime, timedelta, timezone

import jwt
import pytest
from pydantic import ValidationError

from api.security import InvalidToken, issue_token, read_token
from domain.incident.facts import Centre
from domain.values import Role
from infra.eventstore import event_store_env
from infra.settings import Settings, TelephonySettings

REAL_SECRET = "x" * 40
REAL_MASTER_KEY = "eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHg="  # base64 of 32 bytes
REAL = {"token_secret": REAL_SECRET, "citizen_key": REAL_SECRET, "master_key": REAL_MASTER_KEY}


def test_with_no_settings_vaern_keeps_events_in_a_local_sqlite_file(tmp_path):
    settings = Settings(_env_file=None, data_dir=tmp_path)
    env = event_store_env(settings)
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite"
    assert env["SQLITE_DBNAME"] == str(tmp_path / "vaern.sqlite")
    assert settings.kafka_bootstrap_servers is None


def test_a_database_url_switches_the_store_to_postgresql():
    settings = Settings(database_url="postgresql://vaern:pw@db.internal:6432/cases", **REAL)
    env = event_store_env(settings)
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"], env["POSTGRES_DBNAME"]) == ("db.internal", "6432", "cases")
    assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"]) == ("vaern", "pw")
    assert env["POSTGRES_LOCK_TIMEOUT"] == "5"


def test_settings_are_read_from_vaern_variables(monkeypatch):
    monkeypatch.setenv("VAERN_KAFKA_BOOTSTRAP_SERVERS", "k1:9092")
    monkeypatch.setenv("VAERN_TOPIC_PREFIX", "kk")
    settings = Settings(**REAL)
    assert settings.kafka_bootstrap_servers == "k1:9092"
    assert settings.restrictions_topic == "kk.contact-restrictions.v1"


@pytest.mark.parametrize("field", ["token_secret", "citizen_key", "master_key"])
def test_a_placeholder_secret_is_refused_outside_development(field):
    others = {"token_secret": REAL_SECRET, "citizen_key": REAL_SECRET, "master_key": REAL_MASTER_KEY}
    others.pop(field)
    with pytest.raises(ValidationError, match=f"VAERN_{field.upper()}"):
        Settings(environment="production", **others)
    Settings(environment="production", token_secret=REAL_SECRET, citizen_key=REAL_SECRET, master_key=REAL_MASTER_KEY)


OFF_THE_EMBEDDED_DEFAULT = {
    "PostgreSQL": {"database_url": "postgresql://vaern@db.internal/vaern"},
    "Kafka": {"kafka_bootstrap_servers": "kafka1:9092"},
    "every address": {"host": "0.0.0.0"},
    "a network address": {"host": "10.0.0.7"},
    "a name": {"host": "vaern.internal"},
}


@pytest.mark.parametrize("where", OFF_THE_EMBEDDED_DEFAULT)
@pytest.mark.parametrize("field", ["token_secret", "citizen_key", "master_key"])
def test_a_placeholder_secret_is_refused_off_the_embedded_default_even_in_development(field, where):
    others = {**REAL}
    others.pop(field)
    given = OFF_THE_EMBEDDED_DEFAULT[where]
    with pytest.raises(ValidationError, match=f"VAERN_{field.upper()}.*only in development on the embedded default"):
        Settings(_env_file=None, environment="development", **given, **others)
    assert not Settings(_env_file=None, environment="development", **given, **REAL).embedded_development


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_placeholders_are_accepted_in_development_on_sqlite_listening_on_loopback(host, tmp_path):
    settings = Settings(_env_file=None, data_dir=tmp_path, host=host)
    assert settings.embedded_development
    assert settings.token_secret.get_secret_value().startswith("change-me")


def test_the_telephony_consumer_holding_none_of_vaern_s_secrets_is_not_asked_for_them():
    consumer = TelephonySettings(_env_file=None, kafka_bootstrap_servers="kafka1:9092", host="0.0.0.0")
    assert consumer.kafka_bootstrap_servers == "kafka1:9092"
    with pytest.raises(ValidationError, match="VAERN_TOKEN_SECRET"):
        Settings(_env_file=None, kafka_bootstrap_servers="kafka1:9092")


def test_the_page_s_client_needs_the_provider_it_signs_in_at():
    with pytest.raises(ValidationError, match="VAERN_OIDC_PAGE_CLIENT_ID needs VAERN_OIDC_ISSUER"):
        Settings(_env_file=None, oidc_page_client_id="vaern-front-desk")
    given = Settings(
        _env_file=None, oidc_issuer="https://login.example/t", oidc_audience="api://vaern",
        oidc_page_client_id="vaern-front-desk",
    )
    assert (given.oidc_page_client_id, given.oidc_page_scope) == ("vaern-front-desk", "openid")


def test_a_short_secret_is_refused_outside_development():
    with pytest.raises(ValidationError):
        Settings(environment="production", token_secret="short", citizen_key=REAL_SECRET)


def test_a_token_round_trips_the_user_role_and_title():
    token = issue_token(REAL_SECRET, Role.LEADER, "l1", "Lone Hansen", "Afdelingsleder")
    principal = read_token(REAL_SECRET, token)
    assert (principal.user_id, principal.name, principal.role, principal.title) == ("l1", "Lone Hansen", Role.LEADER, "Afdelingsleder")
    assert principal.official.title == "Afdelingsleder"


def test_a_leader_without_a_title_is_named_with_the_default_title():
    principal = read_token(REAL_SECRET, issue_token(REAL_SECRET, Role.LEADER, "l1", "Lone Hansen"))
    assert principal.official.name == "Lone Hansen" and principal.official.title == "Leder"


@pytest.mark.parametrize(
    "token",
    [
        issue_token("another-secret-of-sufficient-length!!", Role.GUARD, "g1", "Gitte"),
        issue_token(REAL_SECRET, Role.GUARD, "g1", "Gitte", lifetime=timedelta(seconds=-1)),
        "not.a.token",
    ],
)
def test_a_forged_expired_or_malformed_token_is_refused(token):
    with pytest.raises(InvalidToken):
        read_token(REAL_SECRET, token)


def _signed(**claims):
    """A token we signed, with these claims over a usable guard's."""
    now = int(time.time())
    base = {"iss": "vaern", "sub": "g1", "name": "Gitte Vagt", "role": "guard", "iat": now, "exp": now + 3600}
    return jwt.encode({k: v for k, v in {**base, **claims}.items() if v is not None}, REAL_SECRET, algorithm="HS256")


@pytest.mark.parametrize(
    "claims",
    [
        {"name": ""},
        {"name": "   "},
        {"name": "Gitte\x00Vagt"},
        {"name": "Gitte\nVagt"},
        {"name": "Gitte\u202eVagt"},  # a bidirectional override: shows another name than it holds
        {"name": "G" * 201},
        {"name": 42},
        {"sub": ""},
        {"sub": " "},
        {"title": ""},
        {"title": "Leder\r\nBcc: x"},
    ],
)
def test_a_signed_token_naming_no_usable_user_is_refused(claims):
    with pytest.raises(InvalidToken):
        read_token(REAL_SECRET, _signed(**claims))


def test_a_signed_token_living_longer_than_the_longest_lifetime_is_refused():
    now = int(time.time())
    with pytest.raises(InvalidToken):
        read_token(REAL_SECRET, _signed(iat=now, exp=now + 100 * 365 * 24 * 3600))
    with pytest.raises(InvalidToken):
        read_token(REAL_SECRET, _signed(iat=now, exp=now + 3 * 3600), max_lifetime=timedelta(hours=2))
    assert read_token(REAL_SECRET, _signed(iat=now, exp=now + 3 * 3600), max_lifetime=timedelta(hours=4)).user_id == "g1"


def test_a_signed_token_without_an_issue_time_or_issued_in_the_future_is_refused():
    now = int(time.time())
    with pytest.raises(InvalidToken):
        read_token(REAL_SECRET, _signed(iat=None))
    with pytest.raises(InvalidToken):
        read_token(REAL_SECRET, _signed(iat=now + 3600, exp=now + 7200))


@pytest.mark.parametrize(("user", "name", "title"), [("g1", " ", None), ("", "Gitte", None), ("g1", "Gitte", "\t")])
def test_no_token_is_issued_for_a_user_no_letter_could_name(user, name, title):
    with pytest.raises(ValueError):
        issue_token(REAL_SECRET, Role.GUARD, user, name, title)


def test_the_longest_token_lifetime_is_a_setting_of_a_day_by_default():
    assert Settings().token_max_hours == 24
    with pytest.raises(ValidationError):
        Settings(token_max_hours=0)


def test_a_token_names_the_caller_s_centre_and_one_naming_an_unknown_centre_is_refused():
    secret = "unit-token-secret-0123456789abcdef-centre"
    minted = issue_token(secret, Role.CASEWORKER, "c1", "Carl Berg", centre=Centre.JKA)
    principal = read_token(secret, minted)
    assert principal.centre is Centre.JKA and principal.sees(Centre.JKA) and not principal.sees(Centre.JKI)
    assert read_token(secret, issue_token(secret, Role.CASEWORKER, "c1", "Carl Berg")).sees(Centre.JKI)
    assert read_token(secret, issue_token(secret, Role.LEADER, "l1", "Lone", centre=Centre.JKA)).sees(Centre.JKI)
    now = datetime.now(timezone.utc)
    forged = jwt.encode({"iss": "vaern", "sub": "c1", "name": "Carl", "role": "caseworker", "centre": "Mars",
                         "iat": now, "exp": now + timedelta(hours=1)}, secret, algorithm="HS256")
    with pytest.raises(InvalidToken):
        read_token(secret, forged)
