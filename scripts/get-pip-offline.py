"""Stand-in for pypa's get-pip.py, which ansible-test downloads from
ci-files.testing.ansible.com to put pip into each sanity test's virtual environment.
That host is not reachable here (PyPI is), so scripts/sanity.sh stores this file where
ansible-test caches the download (~/.ansible/test/cache/get_pip_<version>.py).

It installs pip with Python's own ensurepip, then runs ``pip install`` with the
arguments get-pip.py would get (the pinned packages, e.g. ``pip==24.2``) from PyPI.
get-pip.py's own flags ``--no-setuptools`` and ``--no-wheel`` mean "do not add these",
which is already the case, so they are dropped. The pip that ensurepip brings trusts
only its own certifi bundle, and ansible-test clears SSL_CERT_FILE/PIP_CERT, so the
system's CA bundle (OpenSSL's default, where it exists) is given with ``--cert``, as
the pinned pip (which uses the system trust store) does by itself afterwards.
"""
import ensurepip
import os
import ssl
import subprocess
import sys

OWN_FLAGS = ("--no-setuptools", "--no-wheel")

ensurepip.bootstrap(upgrade=True)
args = [a for a in sys.argv[1:] if a not in OWN_FLAGS]
cafile = ssl.get_default_verify_paths().cafile
if cafile and os.path.exists(cafile):
    args = ["--cert", cafile] + args
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "--quiet"] + args))
