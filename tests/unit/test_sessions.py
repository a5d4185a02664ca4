"""Who holds a login on a node: the line each workbook connection leaves there, read back and named (no network)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from clusterkit.backends.session import Holder, Login, logins
from clusterkit.steps.logins import refusal, what_to_do

HOST = socket.gethostname()
NB = Holder(program="ipykernel_launcher.py", pid=4242, host=HOST, notebook="/home/l/notebooks/08_mpi.ipynb",
            kernel="1f2e3d4c-aaaa")


def test_processes_are_named_by_the_connection_they_belong_to():
    out = "\n".join([
        "  54    50   300 sshd: pi@notty",                     # 08's idle connection
        "  60    54    12 python3 -m ipyparallel.engine",       # an engine under it
        "  70     1   900 -bash",                               # a terminal: nobody announced it
        "--- sessions",
        f"54 1234 1234 {NB.line()}",
        f"66 999 998 {Holder(program='python', pid=1, host=HOST).line()}",   # a reused PID: not the same process
    ])
    found = {login.pid: login for login in logins(out)}
    assert found[54].holder == NB and found[60].holder == NB and found[70].holder is None
    assert [str(found[n]) for n in (54, 70)] == ["notebook 08_mpi", "process 70: -bash, for 900 s"]


def test_the_refusal_says_the_one_thing_to_do():
    found = [Login(54, 300, "sshd: pi@notty", NB), Login(60, 12, "python3", NB)]
    assert refusal("pi", found) == ("'pi' is also logged in there by notebook 08_mpi, and usermod cannot rename a "
                                    "user who is logged in: close notebook 08_mpi (Kernel > Shut Down Kernel), then "
                                    "run this cell again")
    voila = Holder(program="ipykernel_launcher.py", pid=7, host="laptop", kernel="abcdef0123")
    mixed = found + [Login(80, 5, "sshd: pi@notty", voila), Login(70, 900, "-bash")]
    assert what_to_do("pi", mixed) == (
        "close notebook 08_mpi (Kernel > Shut Down Kernel) and shut down the Jupyter kernel abcdef01 on laptop "
        "(JupyterLab's Running Terminals and Kernels) and log 'pi' out of any desktop or terminal, then run this "
        "cell again")
    assert refusal("pi", [Login(70, 900, "-bash")]).startswith(
        "'pi' is also logged in there by another program (process 70: -bash, for 900 s), and usermod")


def test_a_kernel_says_its_notebook_and_its_id():
    code = ("from clusterkit.backends.session import this_process as t; h = t(); "
            "print(h.notebook, h.kernel, h.program, h.name)")
    env = dict(os.environ, JPY_SESSION_NAME="/srv/nb/07_parallel.ipynb")
    out = subprocess.run([sys.executable, "-c", code, "-f", "/run/user/0/jupyter/kernel-0a1b2c3d-xx.json"], env=env,
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == ["/srv/nb/07_parallel.ipynb", "0a1b2c3d-xx", "python", "notebook", "07_parallel"]
    env.pop("JPY_SESSION_NAME")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split()[:3] == ["None", "None", "python"] and "program python (process" in out
