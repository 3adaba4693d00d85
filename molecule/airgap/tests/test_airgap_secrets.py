"""The air-gap bundle carries no secret (issue 8, section 3): every file of the bundle the scenario built and
shipped is searched for every generated secret (credentials directory: registry, PostgreSQL and Redis
passwords, the site CA's and the hosts' private keys) and every supplied one. The default scenario's secret scan
covers logs, journals and the control node; this scenario is the one with a bundle.
"""

import onprem_verify


def test_bundle_holds_no_secret():
    """Zero hits over the whole bundle directory, and the scan really read it (files and bytes > 0)."""
    secrets = {**onprem_verify.generated_secrets(), **onprem_verify.supplied_secrets()}
    assert secrets, "no secret found to look for: the credentials directory is empty"
    scan = onprem_verify.SecretScan(secrets)
    scan.tree(onprem_verify.bundle_dir())
    figures = scan.figures()
    print("bundle secret scan: %(files)d files, %(bytes)d bytes, %(secrets)d secrets, %(hits)d hits" % figures)
    assert figures["files"] > 0 and figures["bytes"] > 0, "nothing scanned under %s" % onprem_verify.bundle_dir()
    assert scan.hits == [], "secrets in the bundle (file, secret label): %s" % scan.hits
