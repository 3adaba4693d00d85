"""Run a module's main() in-process with real argument specs (ansible-core's patch_module_args)."""
import json

import pytest
from ansible.module_utils.testing import patch_module_args


@pytest.fixture
def run_module(capsys):
    """Return run(main, args, check=False, diff=False) -> (failed: bool, result: dict)."""

    def run(main, args, check=False, diff=False):
        args = dict(args, _ansible_check_mode=check, _ansible_diff=diff)
        with patch_module_args(args):
            with pytest.raises(SystemExit) as exc:
                main()
        out = capsys.readouterr().out
        result = json.loads(out)
        return exc.value.code != 0, result

    return run
