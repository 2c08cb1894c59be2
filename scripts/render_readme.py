"""Render README.rst from the readme/ fragments (OCA layout, .rst fragments).

Hand-made because OCA's own generator (oca-gen-addon-readme) is not
published on PyPI; it follows the same fragment names and order.

``python scripts/render_readme.py`` writes README.rst; ``--check`` exits 1
when README.rst is not what the fragments give (the test command runs it).
"""

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = [
    ("DESCRIPTION", None),
    ("INSTALL", "Installation"),
    ("CONFIGURE", "Configuration"),
    ("USAGE", "Usage"),
    ("ARCHITECTURE", "Architecture"),
    ("WEBHOOKS", "Webhook contract and processing"),
    ("CANONICAL", "Canonical model"),
    ("PROCURE_TO_PAY", "Procure-to-pay inbound flows"),
    ("DOCUMENTS", "Documents the hub reads"),
    ("MONEY", "Money policies"),
    ("OUTBOUND", "Outbound synchronisation"),
    ("OPERATIONS", "Operations cockpit"),
    ("PUBLICATIONS", "Publications to reporting platforms"),
    ("SECURITY", "Security and governance"),
    ("DEPLOYMENT", "Deployment on several nodes"),
    ("BENCHMARKS", "Benchmarks"),
    ("ROADMAP", "Known issues / Roadmap"),
    ("CONTRIBUTORS", "Contributors"),
]


def render():
    manifest = ast.literal_eval((ROOT / "__manifest__.py").read_text())
    title = manifest["name"]
    lines = [
        "=" * len(title),
        title,
        "=" * len(title),
        "",
        f"*{manifest['summary']}* — Odoo {manifest['version'][:4]}, "
        f"license {manifest['license']}.",
        "",
        "This file is generated from ``readme/`` by ``scripts/render_readme.py``.",
        "",
        ".. contents::",
        "   :local:",
        "",
    ]
    for fragment, heading in SECTIONS:
        path = ROOT / "readme" / f"{fragment}.rst"
        if not path.exists():
            continue
        if heading:
            lines += [heading, "=" * len(heading), ""]
        lines += [path.read_text().rstrip(), ""]
    return "\n".join(lines)


def check_structure(text):
    """The README must parse without errors (a broken table, inconsistent
    title levels), as PyPI and GitHub render it."""
    import docutils.core  # noqa: PLC0415 - only the check needs it
    import docutils.utils  # noqa: PLC0415

    try:
        docutils.core.publish_doctree(
            text, settings_overrides={"report_level": 5, "halt_level": 3}
        )
    except docutils.utils.SystemMessage as exc:
        sys.stderr.write(f"README.rst does not parse: {exc}\n")
        return 1
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    target = ROOT / "README.rst"
    text = render()
    if args.check:
        if not target.exists() or target.read_text() != text:
            sys.stderr.write("README.rst is stale: run scripts/render_readme.py\n")
            return 1
        return check_structure(text)
    target.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
