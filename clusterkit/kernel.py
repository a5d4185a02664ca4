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
