"""One progress bar over a whole table: every epoch of every net it trains, with its ETA.

:mod:`vgglib.plan` makes it from the plan's expected epochs; the training loop
(:func:`vgglib.train.train`) counts each epoch and each finished net into it."""
from __future__ import annotations

from tqdm.auto import tqdm


class TableBar:
    """One progress bar over a whole table: every epoch of every net it trains, with its ETA.
    A net the schedule stops before its expected epochs takes its remaining ones off the total."""

    def __init__(self, expected: dict[tuple[str, int], int], desc: str, enabled: bool = True):
        self.expected = dict(expected)
        self.done, self.total = 0, sum(expected.values())
        self.bar = tqdm(total=max(self.total, 1), desc=desc, unit="epoch", disable=not enabled or not expected,
                        dynamic_ncols=True)

    def epoch_done(self, row: str, seed: int) -> None:
        """One epoch of (row, seed) has finished (a net outside the plan, or one running past
        its expected epochs, adds to the total)."""
        left = self.expected.get((row, seed), 0)
        self.expected[(row, seed)] = left - 1
        if left <= 0:
            self.total += 1
        self.done += 1
        self.bar.total = max(self.total, 1)
        self.bar.update(1)

    def net_done(self, row: str, seed: int) -> None:
        """(row, seed) has finished: its epochs not run leave the total."""
        left = self.expected.pop((row, seed), 0)
        if left > 0:
            self.total -= left
            self.bar.total = max(self.total, 1)
            self.bar.refresh()

    def close(self) -> None:
        """Close the bar (its last state stays on screen)."""
        self.bar.close()
