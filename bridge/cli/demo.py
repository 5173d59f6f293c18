"""`bridge demo`: run the demo shop and bridge together (what `make demo` starts)."""

from __future__ import annotations

from bridge.cli import Context, main, pass_context
from bridge.demo.run import run


@main.command()
@pass_context
def demo(ctx: Context) -> None:
    """Run the demo: a WooCommerce-like shop on loopback, an SMTP catcher, bridge's web app and jobs."""
    run(ctx.config())
