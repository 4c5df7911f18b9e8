"""The audit's coverage run reports pytest's verdict and the lines the tests reach; metric recomputations are
compared to float32 rounding."""

from circuitlib.learn import loading
from circuitlib.report import audit

BODY = "from circuitlib.core.circuit import Edge\n\n\ndef test_edge():\n    assert Edge(r_ohm=1.0).edge_class == 'R'\n\n\n"


def test_coverage_run_writes_its_report_and_reports_a_failing_test(tmp_path):
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "test_one.py").write_text(BODY + "def test_wrong():\n    assert Edge(c_f=1.0).edge_class == 'R'\n")
    status, summary = audit.run_coverage(tmp_path / "cov.json", tmp_path / "t", workers=0)
    assert status == 1 and "1 failed, 1 passed" in summary and "test_one.py::test_wrong" in summary
    rows = {r["module"]: r for r in audit.coverage_by_module(tmp_path / "cov.json")}
    assert 0 < rows["core/circuit.py"]["covered"] < rows["core/circuit.py"]["statements"]


def test_metric_differences_ignore_float32_rounding_and_report_real_changes():
    stored = {"median_rel_f_err": 0.05689020307551946, "topology_exact": 0.9, "q": None, "gone": 1.0,
              "unbounded": float("inf")}
    rounding = {**stored, "median_rel_f_err": 0.05689083598325269}  # seen between two runs of the same weights
    assert loading.metric_differences(stored, rounding) == []
    changed = {**stored, "topology_exact": 0.89, "unbounded": 3.0}
    changed.pop("gone")
    found = loading.metric_differences(stored, changed)
    assert [f.split(":")[0] for f in found] == ["gone", "topology_exact", "unbounded"]


def test_a_recorded_report_is_reused_only_for_the_code_it_measured(tmp_path, monkeypatch):
    report = tmp_path / "coverage.json"
    report.write_text("{}")
    monkeypatch.setattr(audit, "sources_sha256", lambda **_: "code-a")
    audit.record_coverage(report, 0, "1700 passed in 300.00s")
    ran = []
    monkeypatch.setattr(audit, "run_coverage", lambda path, workers=2: ran.append(path) or (1, "1 failed"))
    assert audit.coverage(report) == (0, "1700 passed in 300.00s", True) and not ran
    monkeypatch.setattr(audit, "sources_sha256", lambda **_: "code-b")  # the code changed since: run again
    assert audit.coverage(report) == (1, "1 failed", False) and ran == [report]


def test_the_sources_hash_follows_the_files(tmp_path):
    pkg, tests = tmp_path / "circuitlib", tmp_path / "tests"
    pkg.mkdir(), tests.mkdir()
    (pkg / "a.py").write_text("x = 1\n")
    (tests / "test_a.py").write_text("def test(): pass\n")
    before = audit.sources_sha256(pkg, tests)
    assert audit.sources_sha256(pkg, tests) == before
    (pkg / "a.py").write_text("x = 2\n")
    assert audit.sources_sha256(pkg, tests) != before


def test_the_verdict_is_the_failures_and_the_closing_line(tmp_path):
    out = "....F.\n\nFAILED tests/test_x.py::test_y - assert 1 == 2\n1 failed, 5 passed in 1.00s\n"
    assert audit.verdict(out) == "FAILED tests/test_x.py::test_y - assert 1 == 2\n1 failed, 5 passed in 1.00s"
    log = tmp_path / "unit.log"
    log.write_text(out)
    assert audit.main(["record-coverage", str(tmp_path / "c.json"), str(log), "1"]) == 0
    assert audit.main(["record-coverage"]) == 2
