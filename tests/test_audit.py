"""The audit's coverage run reports pytest's verdict and the lines the tests reach; metric recomputations are
compared to float32 rounding."""

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
    assert audit.metric_differences(stored, rounding) == []
    changed = {**stored, "topology_exact": 0.89, "unbounded": 3.0}
    changed.pop("gone")
    found = audit.metric_differences(stored, changed)
    assert [f.split(":")[0] for f in found] == ["gone", "topology_exact", "unbounded"]
