"""What the booth says to a visitor: the race's outcome in plain words, and the battery's time left."""

from __future__ import annotations


def seconds_text(seconds: float) -> str:
    """``3.4 seconds``, ``0.8 seconds``, ``1 minute 5 seconds``."""
    if seconds >= 60:
        m, s = divmod(round(seconds), 60)
        return f"{m} minute{'s' if m != 1 else ''} {s} second{'s' if s != 1 else ''}"
    return f"{seconds:.1f} seconds"


def race_words(one: float, together: float, *, nodes: int) -> str:
    """The race's result as a child would say it; honest when the team was not faster."""
    head = f"One computer alone: {seconds_text(one)}. All {nodes} together: {seconds_text(together)}."
    if together <= 0 or one <= 0:
        return head
    speedup = one / together
    if speedup >= 1.15:
        times = f"{speedup:.1f}".rstrip("0").rstrip(".")
        return (f"{head} Working together they were {times} times as fast! "
                f"What took one computer {seconds_text(one)}, the team did in {seconds_text(together)}, "
                "like friends sharing a big jigsaw puzzle.")
    return (f"{head} This time the team was not faster: these {nodes} computers share the same few processors, "
            "so sharing the work did not help. On real separate boards it does!")


def battery_text(node: str, battery: dict) -> str | None:
    """``pc0: battery 63 %, about 2 h 05 min left`` from an agent's battery reading; None when it says nothing."""
    if not battery or battery.get("percent") is None:
        return None
    text = f"{node}: battery {battery['percent']:.0f} %"
    left = battery.get("secs_left")
    if battery.get("plugged"):
        text += ", charging"
    elif left is not None:
        text += f", about {left // 3600} h {left % 3600 // 60:02d} min left"
    return text


__all__ = ["race_words", "battery_text", "seconds_text"]
