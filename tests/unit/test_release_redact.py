"""module_utils._release.redact_manifest: the diff's manifest stays a valid multi-document YAML
stream (each `---` on its own line) with every Secret's data redacted. A glued separator
(`<redacted>---`) made the whole stream unparsable; found against a real cluster."""
import yaml

from ansible_collections.onprem.stack.plugins.module_utils._release import redact_manifest

MANIFEST = """---
# Source: a/templates/secret.yaml
apiVersion: v1
kind: Secret
metadata: {name: s}
data:
  password: c2VjcmV0
stringData:
  token: abc
---
# Source: a/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata: {name: c}
data:
  greeting: hi
"""


def test_every_document_parses_and_secrets_are_redacted():
    text = redact_manifest(MANIFEST)
    docs = [d for d in yaml.safe_load_all(text) if d]
    assert [d["kind"] for d in docs] == ["Secret", "ConfigMap"]
    assert docs[0]["data"] == {"password": "<redacted>"} and docs[0]["stringData"] == {"token": "<redacted>"}
    assert docs[1]["data"] == {"greeting": "hi"}
    assert "c2VjcmV0" not in text and "abc" not in text
    assert "# Source: a/templates/secret.yaml" in text
