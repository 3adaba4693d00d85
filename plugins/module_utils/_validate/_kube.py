# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Kubernetes and k3s syntax shared by the role validators: qualified names, label values and
the labels the kubelet accepts in --node-labels, taints, object metadata, and k3s' component
arguments. Pure predicates that never raise (see ``_common``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.onprem.stack.plugins.module_utils._validate import _common as c


# Qualified names and label values (k8s.io/apimachinery pkg/util/validation IsQualifiedName,
# IsValidLabelValue): a name part of at most 63 letters, digits, '-', '_', '.', starting and
# ending with a letter or digit, after an optional DNS-1123 subdomain prefix and '/'.
_QUALIFIED_PART = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"


QUALIFIED_NAME_RE = re.compile(r"^(%s/)?%s$" % (r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*",
                                                _QUALIFIED_PART))


LABEL_VALUE_RE = re.compile(r"^(%s)?$" % _QUALIFIED_PART)


# Labels the kubelet sets on itself in the kubernetes.io and k8s.io namespaces
# (k8s.io/kubelet pkg/apis well_known_labels.go: KubeletLabelNamespaces, KubeletLabels).
KUBELET_LABEL_NAMESPACES = ("kubelet.kubernetes.io", "node.kubernetes.io")


KUBELET_LABELS = ("beta.kubernetes.io/arch", "beta.kubernetes.io/instance-type", "beta.kubernetes.io/os",
                  "failure-domain.beta.kubernetes.io/region", "failure-domain.beta.kubernetes.io/zone",
                  "kubernetes.io/arch", "kubernetes.io/hostname", "kubernetes.io/os", "node.kubernetes.io/instance-type",
                  "topology.kubernetes.io/region", "topology.kubernetes.io/zone")


SRC_KUBELET_LABELS = ("kubelet --node-labels (k8s.io/kubernetes cmd/kubelet/app/options ValidateKubeletFlags, "
                      "k8s.io/kubelet pkg/apis IsKubeletLabel; k8s.io/apimachinery IsQualifiedName, IsValidLabelValue)")


SRC_K3S_ARGS = ("k3s component arguments: kubelet-arg, kube-apiserver-arg, ... (docs.k3s.io/cli/agent, "
                "docs.k3s.io/cli/server; k3s-io/k3s pkg/util/args.go GetArgs)")


def is_qualified_name(value):
    """True when ``value`` (str) is a qualified name: ``[prefix/]name``, prefix a DNS-1123
    subdomain of at most 253 characters, name at most 63 characters of letters, digits, '-',
    '_', '.', starting and ending with a letter or digit (k8s.io/apimachinery IsQualifiedName)."""
    if not isinstance(value, str) or not QUALIFIED_NAME_RE.match(value):
        return False
    return "/" not in value or len(value.split("/", 1)[0]) <= 253


def is_label_value(value):
    """True when ``value`` (str) is a label value: empty, or at most 63 letters, digits, '-', '_',
    '.', starting and ending with a letter or digit (k8s.io/apimachinery IsValidLabelValue)."""
    return isinstance(value, str) and bool(LABEL_VALUE_RE.match(value))


def is_kubelet_label(key):
    """True when the kubelet may set label ``key`` (str) on its own node: a key outside the
    kubernetes.io and k8s.io namespaces, one under kubelet.kubernetes.io or node.kubernetes.io,
    or one of KUBELET_LABELS (k8s.io/kubelet pkg/apis IsKubeletLabel, the rule behind
    ValidateKubeletFlags; the kubelet refuses to start otherwise)."""
    namespace = key.split("/", 1)[0] if isinstance(key, str) and "/" in key else ""
    if not any(namespace == d or namespace.endswith("." + d) for d in ("kubernetes.io", "k8s.io")):
        return True
    return key in KUBELET_LABELS or any(namespace == d or namespace.endswith("." + d) for d in KUBELET_LABEL_NAMESPACES)


def label_problem(value):
    """What is wrong (str) with a ``key=value`` node label as the kubelet's ``--node-labels``
    takes it, or '' when the kubelet accepts it (ValidateKubeletFlags: qualified-name key,
    label value, and no kubernetes.io/k8s.io key but the kubelet's own)."""
    if not isinstance(value, str):
        return "is a %s, expected a str key=value" % c.type_name(value)
    key, sep, label = value.partition("=")
    if not sep:
        return "has no '=' (expected key=value)"
    if not is_qualified_name(key):
        return ("has key '%s', which is not a qualified name ([DNS-subdomain/]name, the name at most 63 letters, "
                "digits, '-', '_', '.', starting and ending with a letter or digit)" % key)
    if not is_label_value(label):
        return ("has value '%s', which is not a label value (at most 63 letters, digits, '-', '_', '.', starting and "
                "ending with a letter or digit, or empty)" % label)
    if not is_kubelet_label(key):
        return ("has key '%s' in the kubernetes.io/k8s.io namespace, which the kubelet refuses in --node-labels "
                "(allowed there: %s/..., %s/..., %s)"
                % (key, KUBELET_LABEL_NAMESPACES[0], KUBELET_LABEL_NAMESPACES[1], ", ".join(KUBELET_LABELS)))
    return ""


def metadata_problems(mapping, values=True):
    """The faults (list of str, one per bad entry) of an object's ``metadata.labels``
    (``values`` True: qualified-name keys, label values) or ``metadata.annotations``
    (``values`` False: qualified-name keys, string values of any form), as the API server's
    ValidateLabels / ValidateAnnotations (k8s.io/apimachinery) check them."""
    found = []
    for key, value in mapping.items():
        if not is_qualified_name(key):
            found.append("key '%s' is not a qualified name ([DNS-subdomain/]name, the name at most 63 letters, digits, "
                         "'-', '_', '.', starting and ending with a letter or digit)" % c.text(key))
        elif values and not is_label_value(c.text(value) if isinstance(value, (str, int)) and not isinstance(value, bool)
                                           else None):
            found.append("'%s' has value '%s', which is not a label value (at most 63 letters, digits, '-', '_', '.', "
                         "starting and ending with a letter or digit)" % (c.text(key), c.text(value)))
        elif not values and not isinstance(value, str):
            found.append("'%s' has a %s value; annotation values are strings" % (c.text(key), c.type_name(value)))
    return found


def parse_k8s_label(value):
    """Split a ``key=value`` node label as the kubelet's ``--node-labels`` takes it.

    :param value: str.
    :returns: (key, value) tuple of str, or None when label_problem finds a fault
        (kubernetes.io/docs/concepts/overview/working-with-objects/labels, ValidateKubeletFlags).
    """
    if label_problem(value):
        return None
    key, _sep, label = value.partition("=")
    return (key, label)


TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


def taint_problem(value):
    """What is wrong (str) with a ``key[=value]:Effect`` taint as k3s' ``node-taint`` (the kubelet's
    ``--register-with-taints``) takes it, or '' when it is accepted (k8s.io/kubernetes
    pkg/util/taints ParseTaint: qualified-name key, label value, effect NoSchedule,
    PreferNoSchedule or NoExecute)."""
    if not isinstance(value, str):
        return "is a %s, expected a str key[=value]:Effect" % c.type_name(value)
    spec, sep, effect = value.rpartition(":")
    if not sep or not spec:
        return "has no effect (expected key[=value]:Effect, e.g. nvidia.com/gpu=true:NoSchedule)"
    key, _sep, taint = spec.partition("=")
    if not is_qualified_name(key):
        return ("has key '%s', which is not a qualified name ([DNS-subdomain/]name, the name at most 63 letters, "
                "digits, '-', '_', '.', starting and ending with a letter or digit)" % key)
    if not is_label_value(taint):
        return "has value '%s', which is not a label value (at most 63 letters, digits, '-', '_', '.')" % taint
    if effect not in TAINT_EFFECTS:
        return "has effect '%s', expected one of %s" % (effect, ", ".join(TAINT_EFFECTS))
    return ""


def parse_k8s_taint(value):
    """Split a ``key[=value]:Effect`` taint as k3s' ``node-taint`` and the kubelet take it.

    :param value: str.
    :returns: (key, value, effect) tuple of str, or None when taint_problem finds a fault
        (k8s.io/kubernetes pkg/util/taints ParseTaint).
    """
    if taint_problem(value):
        return None
    spec, _sep, effect = value.rpartition(":")
    key, _sep, taint = spec.partition("=")
    return (key, taint, effect)


# One argument of a Kubernetes component as k3s passes it on (pkg/util/args.go GetArgs): an
# optional leading "--", the flag name, an optional "+" (append to k3s' value) or "-" (prepend),
# then "=value" (without it the value is "true").
_COMPONENT_ARG_RE = re.compile(r"^(--)?(?P<name>[a-z0-9]([a-z0-9.-]*[a-z0-9])?)[+-]?(=(?P<value>.*))?$", re.S)


def component_arg_problem(value):
    """What is wrong (str) with one component argument (``kubelet-arg``, ``kube-apiserver-arg``
    ...), or '' when k3s passes it on as ``--name=value``: ``[--]name[+|-][=value]``, the
    name lower-case letters, digits, '-' and '.' (the components' pflag names), no newline
    (k3s-io/k3s pkg/util/args.go GetArgs; docs.k3s.io/cli/agent)."""
    if not isinstance(value, str):
        return "is a %s, expected a str [--]name=value" % c.type_name(value)
    if "\n" in value:
        return "has a line break"
    match = _COMPONENT_ARG_RE.match(value)
    if not match:
        return ("is not [--]name[=value] (a flag name of lower-case letters, digits and '-', then '=' and the value; "
                "one flag per list item, no spaces before '=')")
    return ""
