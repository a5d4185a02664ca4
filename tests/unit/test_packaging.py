"""environment.yml, binder/ and pyproject.toml name the same dependencies."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def norm(req: str) -> tuple[str, str]:
    m = re.match(r"\s*([A-Za-z0-9_.-]+)\s*(.*)", req)
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def conda_deps(path: Path) -> set[tuple[str, str]]:
    deps = yaml.safe_load(path.read_text())["dependencies"]
    return {norm(d) for d in deps if isinstance(d, str) and not d.startswith(("python=", "pip"))}


def test_environment_files_match_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {norm(d) for d in project["dependencies"]}
    assert conda_deps(ROOT / "environment.yml") == wanted
    assert conda_deps(ROOT / "binder" / "environment.yml") == wanted


def test_environment_installs_the_package_and_binder_builds_it():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip
    post = (ROOT / "binder" / "postBuild").read_text()
    assert "pip install --no-deps ." in post


def test_ci_calls_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    test_cmd = re.search(r"^(scripts/test\.sh)\s", readme, re.M).group(1)
    assert f"bash {test_cmd}" in ci


def test_bokeh_is_never_loaded_from_a_cdn():
    """Offline first: every bokeh output in the library and notebooks uses inline resources."""
    cdn = re.compile(r"import CDN|resources\.CDN|resources=['\"]cdn|mode=['\"]cdn")
    bare = re.compile(r"output_notebook\((?![^)]*INLINE)")
    for path in list((ROOT / "clusterkit").rglob("*.py")) + list((ROOT / "notebooks").glob("*.ipynb")):
        text = path.read_text()
        assert not cdn.search(text), f"{path} loads bokeh from a CDN"
        assert not bare.search(text), f"{path} calls output_notebook without INLINE resources"
