#!/usr/bin/env bash
# Run `ansible-test sanity` on the collection.
#
# ansible-test finds the collection from its working directory, which must be
# .../ansible_collections/onprem/stack as a real path: it reads os.getcwd(), which
# resolves symbolic links, so collections/ansible_collections/onprem/stack (a link
# to the checkout) is not enough. The files git tracks or would track (untracked,
# not ignored; collections/ left out) are therefore copied to
# .cache/ansible_collections/onprem/stack and ansible-test runs there. The copy gets
# its own (empty) git repository: ansible-test looks for version control upwards from
# the collection and would otherwise list files with the checkout's git, which
# ignores .cache/, and find nothing to test.
#
# Each sanity test runs in its own virtual environment, created once under
# ~/.ansible/test/venv from ansible-test's pinned requirements (PyPI, --requirements)
# and reused. ansible-test puts pip into those environments with a get-pip.py it
# downloads from a host that is not reachable here: scripts/get-pip-offline.py takes
# its place in ansible-test's download cache.
# Usage: scripts/sanity.sh [ansible-test sanity options, e.g. --test pep8]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest=$root/.cache/ansible_collections/onprem/stack
pip_version=$(python3 -c 'import re, ansible_test, pathlib
p = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
print(re.search(r"pip=.([0-9.]+).", p.read_text()).group(1))')
get_pip=~/.ansible/test/cache/get_pip_${pip_version//./_}.py
if ! cmp -s "$root/scripts/get-pip-offline.py" "$get_pip"; then
  mkdir -p "$(dirname "$get_pip")"
  cp "$root/scripts/get-pip-offline.py" "$get_pip"
fi
rm -rf "$dest"
mkdir -p "$dest"
cd "$root"
git ls-files -z --cached --others --exclude-standard \
  | grep -zv '^collections/' \
  | tar --null --ignore-failed-read -T - -cf - 2>/dev/null \
  | tar -xf - -C "$dest"
cd "$dest"
git init --quiet .
exec ansible-test sanity --python 3.11 --local --requirements "$@"
