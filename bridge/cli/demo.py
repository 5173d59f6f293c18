"""`bridge demo`: run the demo shop and bridge together (what `make demo` starts)."""

from __future__ import annotations

from bridge.cli import Context, main, pass_context


@main.command()
@pass_context
def demo(ctx: Context):
    """Run the demo: a WooCommerce-like shop on loopback, an SMTP catcher, bridge's web app and jobs."""
    from bridge.demo.run import run

    run(ctx.config())
