"""The lower-left slot: panels that take turns, ``Tab`` bringing the next one up.

A :class:`PanelSwitcher` holds the panels of the cycle in their order. ``index`` is the
panel up, and ``side_by_side`` how many are shown from there: one, or two when the
terminal is wide enough (the one up and the next). Every panel keeps being fed while hidden, so
the one brought up is current at once.

The title of the panel up is a strip of the cycle's names with those shown picked out,
so a person sees which one is up, what else there is, and that ``Tab`` moves along.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from textual.containers import Horizontal
from textual.reactive import reactive

from llm_gateway.dashboard.panels import Panel

TAB_HINT = "Tab ▸"


def _muted(text: str) -> str:
    return f"[$foreground-muted not bold]{text}[/]"


def strip(names: Sequence[str], shown: Collection[int]) -> str:
    """``Models · Upstreams  Tab ▸`` (markup): every name, those ``shown`` in the title's style.

    The rest are muted, in grey rather than dimmer: a person tells them apart at a glance.
    """
    parts = [name if i in shown else _muted(name) for i, name in enumerate(names)]
    return _muted(" · ").join(parts) + _muted(f"  {TAB_HINT}")


class PanelSwitcher(Horizontal):
    """Shows ``side_by_side`` of ``panels`` from ``index`` on, wrapping around."""

    DEFAULT_CSS = """
    PanelSwitcher {
        height: 1fr;
    }
    /* A table wider than its panel loses its last columns rather than wrapping. */
    PanelSwitcher > .panel > * {
        text-wrap: nowrap;
        text-overflow: clip;
    }
    """

    index: reactive[int] = reactive(0, init=False)
    side_by_side: reactive[int] = reactive(1, init=False)

    def __init__(self, panels: Sequence[Panel], *, id: str | None = None) -> None:
        super().__init__(*panels, id=id)
        self._panels = tuple(panels)

    @property
    def panels(self) -> tuple[Panel, ...]:
        """The cycle, in order."""
        return self._panels

    @property
    def names(self) -> tuple[str, ...]:
        """The cycle's panel titles, in order."""
        return tuple(panel.TITLE for panel in self._panels)

    @property
    def showing(self) -> tuple[Panel, ...]:
        """The panels shown, left to right."""
        count = min(self.side_by_side, len(self._panels))
        return tuple(self._panels[(self.index + i) % len(self._panels)] for i in range(count))

    def step(self, by: int) -> None:
        """Bring up the panel ``by`` places along the cycle (negative: back)."""
        self.index = (self.index + by) % len(self._panels)

    def on_mount(self) -> None:
        self._arrange()

    def watch_index(self) -> None:
        self._arrange()

    def watch_side_by_side(self) -> None:
        self._arrange()

    def _arrange(self) -> None:
        showing = self.showing
        for panel in self._panels:
            panel.display = panel in showing
        # Children are laid out in DOM order; the one up goes first, so it is on the left
        # even when the next one wrapped around to the start of the cycle.
        self.move_child(showing[0], before=0)
        # The strip on the left names the cycle; a second panel beside it has its name.
        first, *others = showing
        first.title(strip(self.names, {self._panels.index(p) for p in showing}))
        for panel in others:
            panel.title(panel.TITLE)
