"""The client-secret hasher: salted SHA-256 for generated high-entropy secrets."""

from django.contrib.auth.hashers import check_password, identify_hasher, make_password

from oauth_server.hashers import GeneratedSecretHasher


def test_round_trip_and_salt():
    """Same secret, different salts, different hashes; both verify."""
    first = make_password("s3cret-value", hasher="generated_secret_sha256")
    second = make_password("s3cret-value", hasher="generated_secret_sha256")

    assert first != second
    assert check_password("s3cret-value", first)
    assert check_password("s3cret-value", second)
    assert not check_password("s3cret-valuE", first)
    assert isinstance(identify_hasher(first), GeneratedSecretHasher)


def test_summary_masks_the_hash():
    encoded = make_password("value", hasher="generated_secret_sha256")
    summary = GeneratedSecretHasher().safe_summary(encoded)
    assert summary["algorithm"] == "generated_secret_sha256"
    assert encoded.split("$")[2] not in summary["hash"]


def test_user_passwords_keep_pbkdf2():
    """People's passwords keep Django's PBKDF2; the fast hasher is last, by name only."""
    from config import settings as project_settings

    assert project_settings.PASSWORD_HASHERS[0].endswith("PBKDF2PasswordHasher")
    assert (
        project_settings.PASSWORD_HASHERS[-1]
        == "oauth_server.hashers.GeneratedSecretHasher"
    )
