"""onprem.stack.credential: generated secrets under <credentials>/<scope>/<service>/<name>.

The core function is driven directly on a temporary directory; the lookup itself
(option parsing, the scope default, check mode) through ansible-playbook on localhost
in tests/functional/test_lookup_credential_playbook.py.
"""
import multiprocessing
import os
import stat
import string
from pathlib import Path

import pytest
from ansible.errors import AnsibleLookupError

from ansible_collections.onprem.stack.plugins.lookup import credential as cred

REPO = Path(__file__).resolve().parents[2]
ALNUM = cred.candidate_chars(["ascii_letters", "digits"])


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def base(tmp_path):
    return str(tmp_path / "credentials")


def test_generates_once_then_reuses(base):
    first = cred.credential(base, "db1", "postgresql", "app", length=40, chars=ALNUM)
    path = Path(base, "db1", "postgresql", "app")
    assert len(first) == 40 and set(first) <= set(ALNUM)
    assert path.read_text() == first + "\n"
    again = cred.credential(base, "db1", "postgresql", "app", length=12, chars="xyz")
    assert again == first, "an existing secret must be returned as stored, whatever length/chars say"
    other = cred.credential(base, "db1", "postgresql", "other", chars=ALNUM)
    assert other != first and len(other) == 32


def test_modes_of_directories_and_files(base):
    old = os.umask(0o022)
    try:
        cred.credential(base, "site", "registry", "onprem", chars=ALNUM)
    finally:
        os.umask(old)
    for path in (base, os.path.join(base, "site"), os.path.join(base, "site", "registry")):
        assert _mode(path) == 0o700, path
    assert _mode(os.path.join(base, "site", "registry", "onprem")) == 0o600
    # No temporary file is left behind.
    assert os.listdir(os.path.join(base, "site", "registry")) == ["onprem"]


@pytest.mark.parametrize("level", ["", "site", "site/registry"])
def test_refuses_a_directory_open_to_others(base, level):
    cred.credential(base, "site", "registry", "onprem", chars=ALNUM)
    target = os.path.join(base, level) if level else base
    os.chmod(target, 0o755)
    with pytest.raises(AnsibleLookupError) as exc:
        cred.credential(base, "site", "registry", "onprem", chars=ALNUM)
    assert target in str(exc.value) and "0755" in str(exc.value) and "chmod 0700" in str(exc.value)


def test_refuses_an_existing_world_accessible_credentials_dir_before_writing(base):
    os.makedirs(base, mode=0o755)
    os.chmod(base, 0o750)
    with pytest.raises(AnsibleLookupError, match="0750"):
        cred.credential(base, "h1", "redis", "app", chars=ALNUM)
    assert os.listdir(base) == [], "nothing may be created under a refused directory"


def test_refuses_a_readable_secret_file(base):
    cred.credential(base, "h1", "redis", "app", chars=ALNUM)
    path = os.path.join(base, "h1", "redis", "app")
    os.chmod(path, 0o644)
    with pytest.raises(AnsibleLookupError, match=r"secret file .*app has mode 0644"):
        cred.credential(base, "h1", "redis", "app", chars=ALNUM)


def test_empty_file_is_an_error_not_a_new_secret(base):
    os.makedirs(os.path.join(base, "h1", "redis"), mode=0o700)
    os.chmod(base, 0o700)
    os.chmod(os.path.join(base, "h1"), 0o700)
    path = os.path.join(base, "h1", "redis", "app")
    with open(path, "w", encoding="utf-8"):
        pass
    os.chmod(path, 0o600)
    with pytest.raises(AnsibleLookupError, match="is empty"):
        cred.credential(base, "h1", "redis", "app", chars=ALNUM)
    assert Path(path).read_text() == ""


@pytest.mark.parametrize("kind,value", [
    ("scope", "../etc"), ("scope", "a/b"), ("service", ".."), ("service", ""), ("name", "x/y"),
    ("name", ".hidden"), ("name", "-rf"), ("name", "a..b"), ("name", "with space"), ("name", "nl\n"),
    ("name", "back\\slash"),
])
def test_bad_names_are_refused(base, kind, value):
    args = {"scope": "h1", "service": "redis", "name": "app", kind: value}
    with pytest.raises(AnsibleLookupError, match="is not a valid file name"):
        cred.credential(base, args["scope"], args["service"], args["name"], chars=ALNUM)
    assert not os.path.exists(base)


@pytest.mark.parametrize("name", ["app", "app.v2", "user@example", "10.0.0.5", "db_1-x"])
def test_good_names(base, name):
    assert len(cred.credential(base, name, "svc", name, chars=ALNUM)) == 32


@pytest.mark.parametrize("length", [0, 7, 1025, "32", True])
def test_length_out_of_range(base, length):
    with pytest.raises(AnsibleLookupError, match="length"):
        cred.credential(base, "h1", "redis", "app", length=length, chars=ALNUM)


def test_character_sets():
    assert cred.candidate_chars(["digits"]) == string.digits
    assert cred.candidate_chars(["hexdigits"]) == "".join(sorted(set(string.hexdigits)))
    assert cred.candidate_chars(["digits", "ab", "a"]) == string.digits + "ab"
    secret = cred.generate(200, cred.candidate_chars(["punctuation"]))
    assert set(secret) <= set(string.punctuation) and len(secret) == 200
    for bad in (["a b"], ["\t"], [], ["x\x01"]):
        with pytest.raises(AnsibleLookupError, match="chars"):
            cred.candidate_chars(bad)


def test_legacy_file_is_moved_not_regenerated(base):
    # The layout of the previous releases: <credentials>/<host>/redis_<user>, written by
    # ansible.builtin.password (secret + newline, mode 0600).
    legacy_dir = os.path.join(base, "h1")
    os.makedirs(legacy_dir, mode=0o700)
    os.chmod(base, 0o700)
    legacy = os.path.join(legacy_dir, "redis_app")
    with open(legacy, "w", encoding="utf-8") as handle:
        handle.write("OldSecret123\n")
    os.chmod(legacy, 0o600)
    value = cred.credential(base, "h1", "redis", "app", chars=ALNUM, legacy=legacy)
    assert value == "OldSecret123"
    assert not os.path.exists(legacy)
    new = os.path.join(base, "h1", "redis", "app")
    assert Path(new).read_text() == "OldSecret123\n" and _mode(new) == 0o600
    # Later calls read the new file (the legacy one is gone for good).
    assert cred.credential(base, "h1", "redis", "app", chars=ALNUM, legacy=legacy) == "OldSecret123"


def test_legacy_directory_removed_when_left_empty(base):
    # <credentials>/registry/<user> -> <credentials>/site/registry/<user>
    legacy_dir = os.path.join(base, "registry")
    os.makedirs(legacy_dir, mode=0o700)
    os.chmod(base, 0o700)
    for user in ("onprem", "ci"):
        path = os.path.join(legacy_dir, user)
        Path(path).write_text("pw-%s\n" % user)
        os.chmod(path, 0o600)
    assert cred.credential(base, "site", "registry", "onprem", chars=ALNUM,
                           legacy=os.path.join(legacy_dir, "onprem")) == "pw-onprem"
    assert os.listdir(legacy_dir) == ["ci"]
    assert cred.credential(base, "site", "registry", "ci", chars=ALNUM,
                           legacy=os.path.join(legacy_dir, "ci")) == "pw-ci"
    assert not os.path.exists(legacy_dir)


def test_legacy_in_check_mode_is_read_and_left_in_place(base):
    os.makedirs(base, mode=0o700)
    legacy = os.path.join(base, "old")
    Path(legacy).write_text("kept\n")
    os.chmod(legacy, 0o600)
    assert cred.credential(base, "site", "registry", "onprem", chars=ALNUM, legacy=legacy, check_mode=True) == "kept"
    assert os.path.exists(legacy)
    assert not os.path.exists(os.path.join(base, "site", "registry", "onprem"))


def test_missing_legacy_file_generates(base):
    value = cred.credential(base, "site", "registry", "onprem", chars=ALNUM, legacy=os.path.join(base, "nope"))
    assert len(value) == 32


def test_both_present_new_wins_and_identical_legacy_is_removed(base):
    value = cred.credential(base, "h1", "redis", "app", chars=ALNUM)
    same = os.path.join(base, "h1", "redis_app")
    Path(same).write_text(value + "\n")
    assert cred.credential(base, "h1", "redis", "app", chars=ALNUM, legacy=same) == value
    assert not os.path.exists(same)
    different = os.path.join(base, "h1", "redis_other")
    Path(different).write_text("something else\n")
    assert cred.credential(base, "h1", "redis", "app", chars=ALNUM, legacy=different) == value
    assert os.path.exists(different), "a legacy file with another value is kept for the operator"


def _worker(args):
    base, name = args
    return cred.credential(base, "site", "k3s", name, chars=ALNUM)


def test_concurrent_first_use_returns_one_value(base):
    """Forks of one run templating the same site secret at once all get the value on disk."""
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(8) as pool:
        values = pool.map(_worker, [(base, "token")] * 32)
    assert len(set(values)) == 1
    assert Path(base, "site", "k3s", "token").read_text() == values[0] + "\n"
    assert os.listdir(os.path.join(base, "site", "k3s")) == ["token"]
