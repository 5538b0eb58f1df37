"""The alert rules (deploy/prometheus/alerts.yml) against the code and the runbook: every metric they read is one the
service exports, every alert has its severity, summary and a runbook section, and its unit tests have a firing and a
quiet case. promtool itself runs in CI (.ci/promtool); here too when it is installed."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.core.cache import cache
from prometheus_client import generate_latest

from tunee import metrics

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "alerts_test.yml"
RUNBOOK = ROOT / "docs" / "operations.md"


def alerts() -> list[dict]:
    return [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"] if "alert" in rule]


def test_every_tunee_metric_the_rules_read_is_exported(settings):
    settings.MUSIC_PROVIDER = "suno"  # the credits gauges exist with Suno and a first reading
    cache.set(metrics.SUNO_CREDITS_KEY, {"credits": 1000, "at": 0})
    exported = generate_latest(metrics.export_registry()).decode()
    families = set(re.findall(r"^# TYPE (\S+) ", exported, flags=re.M))
    read = {name for rule in alerts() for name in re.findall(r"\b(tunee_[a-z_]+)", rule["expr"])}

    assert read  # the rules do read our metrics
    for name in read:
        family = re.sub(r"_(bucket|count|sum)$", "", name)
        assert family in families, f"{name} is read by an alert but not exported"


def test_every_alert_has_a_severity_a_summary_and_a_runbook_section():
    headings = {line[4:].strip().lower() for line in RUNBOOK.read_text().splitlines() if line.startswith("### ")}
    names = [rule["alert"] for rule in alerts()]

    assert len(names) == len(set(names))
    for rule in alerts():
        assert rule["labels"]["severity"] in ("critical", "warning"), rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]
        page, _, anchor = rule["annotations"]["runbook_url"].partition("#")
        assert page == "docs/operations.md" and anchor in headings, rule["alert"]


def test_every_alert_has_a_firing_and_a_quiet_unit_test():
    cases = [case for test in yaml.safe_load(RULE_TESTS.read_text())["tests"] for case in test["alert_rule_test"]]
    for name in (rule["alert"] for rule in alerts()):
        outcomes = {bool(case["exp_alerts"]) for case in cases if case["alertname"] == name}
        assert outcomes == {True, False}, name


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed (.ci/promtool installs it)")
def test_promtool_checks_and_tests_the_rules():
    for args in (["check", "rules", str(RULES)], ["test", "rules", str(RULE_TESTS)]):
        result = subprocess.run([shutil.which("promtool"), *args], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
