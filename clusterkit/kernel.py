"""Whether this code runs inside a Jupyter kernel, and BokehJS for that kernel's page.

The one place that asks: a progress bar, a chart or the dashboard shows a
widget in a notebook and plain text elsewhere (a terminal, CI, a test).
"""

from __future__ import annotations


def in_kernel() -> bool:
    """True inside a Jupyter kernel (a notebook, Voila); False in a plain Python process or IPython shell."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def load_bokehjs() -> None:
    """Put BokehJS itself into the page (inline, so no internet is needed): BokehModel views need it.

    Only inside a kernel; a plain Python process has no page.
    """
    if in_kernel():
        from bokeh.io import output_notebook
        from bokeh.resources import INLINE
        output_notebook(resources=INLINE, hide_banner=True)


#: The title of the folded box that holds an exercise solution's output.
SOLUTION_TITLE = "The solution's output: open it once you have tried"


def solution(line: str, cell: str) -> None:
    """``%%solution``: run an exercise's solution now, and fold its output away until the learner opens it.

    The solution cell's code is hidden by the notebook (``source_hidden``), but JupyterLab
    unfolds a cell's output whenever the cell runs, so *Run All* would show the answer before
    the learner tried. The solution still runs with everything else (later cells may use
    what it made, and CI executes it); what it prints and shows goes into a closed box. A
    solution that fails shows its output plainly and fails the cell, as any cell would.
    """
    import ipywidgets as widgets
    from IPython import get_ipython
    from IPython.display import display
    from IPython.utils.capture import capture_output

    shell = get_ipython()
    with capture_output() as captured:
        result = shell.run_cell(cell, store_history=False)
    if not result.success:
        captured.show()
        result.raise_error()
        return
    out = widgets.Output()
    with out:
        captured.show()
    box = widgets.Accordion(children=[out], titles=(SOLUTION_TITLE,), selected_index=None)
    box.add_class("ck-solution")
    display(box)


def register_magics() -> None:
    """Make ``%%solution`` known to this IPython (a kernel or a shell); nothing outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        shell.register_magic_function(solution, magic_kind="cell", magic_name="solution")
