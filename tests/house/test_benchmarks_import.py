"""The benchmarks stay runnable: every module `python -m benchmarks.run` knows imports and has a title and a
`run()`, and `--help` / `--list` work. Nothing here runs a benchmark (they time things; tests never do)."""

from __future__ import annotations

import importlib

import pytest

from benchmarks import run as bench_run


@pytest.mark.parametrize("name", sorted(bench_run.BENCHMARKS))
def test_every_benchmark_module_imports(name: str) -> None:
    module = importlib.import_module(bench_run.BENCHMARKS[name])
    assert isinstance(module.TITLE, str) and module.TITLE
    assert callable(module.run)


def test_help_and_list_work(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        bench_run.main(["--help"])
    assert stop.value.code == 0 and "benchmarks.run" in capsys.readouterr().out
    assert bench_run.main(["--list"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in bench_run.BENCHMARKS)
