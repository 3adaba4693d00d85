"""The credential files on the control node after the upgrade from the previous release."""
import os
import stat

import pytest

# service/user recorded before the upgrade -> path under the credentials directory now.
MOVED = {
    "postgresql/app": "{host}/postgresql/app",
    "redis/app": "{host}/redis/app",
    "redis/default": "{host}/redis/default",
    "registry/onprem": "site/registry/onprem",
}


def test_the_previous_release_generated_every_password(before):
    assert sorted(before) == sorted(MOVED)
    assert all(len(value) == 32 and value.isalnum() for value in before.values())


@pytest.mark.parametrize("old", ["{host}/redis_app", "{host}/redis_default", "registry/onprem", "registry"])
def test_old_layout_is_gone(creds, host_name, old):
    path = creds / old.format(host=host_name)
    assert not path.exists(), f"{path} of the old layout is still there"


@pytest.mark.parametrize("key", sorted(MOVED))
def test_moved_files_keep_the_passwords(creds, host_name, before, key):
    path = creds / MOVED[key].format(host=host_name)
    assert path.read_text(encoding="utf-8") == before[key] + "\n", f"{path} does not hold the password of {key}"


@pytest.mark.parametrize("supplied", [
    "{host}/postgresql/vaulted", "{host}/redis/vaulted", "site/registry/vaulted",
    "{host}/redis_vaulted", "registry/vaulted",
])
def test_no_file_for_a_supplied_password(creds, host_name, supplied):
    path = creds / supplied.format(host=host_name)
    assert not path.exists(), f"{path} exists although the password is supplied in the inventory"


def test_modes(creds):
    """Every directory 0700; every secret and private key 0600; no temporary file left."""
    seen = 0
    assert stat.S_IMODE(creds.stat().st_mode) == 0o700
    for root, dirs, files in os.walk(creds):
        for name in dirs:
            mode = stat.S_IMODE(os.stat(os.path.join(root, name)).st_mode)
            assert mode == 0o700, f"{root}/{name} has mode {mode:04o}"
        for name in files:
            path = os.path.join(root, name)
            assert not name.startswith("."), f"temporary file left: {path}"
            if name.endswith((".crt",)):
                continue  # certificates are public
            mode = stat.S_IMODE(os.stat(path).st_mode)
            assert mode == 0o600, f"{path} has mode {mode:04o}"
            seen += 1
    assert seen >= 4 + 2  # the four passwords, the CA key and at least one host key
