"""Helpers shared by the browser tests."""


def wait_ready(page, phase: str | None = None) -> None:
    """Until the phase label shows `phase` and every view has drawn it."""
    page.wait_for_function(
        """(phase) => {
            const b = document.body;
            const shown = document.querySelector('[data-testid="phase"]').textContent;
            return b.dataset.state === 'ready' && (!phase || (shown === phase && b.dataset.renderedPhase === phase));
        }""",
        arg=phase,
    )
