"""pfconf-lsp, the language server for main.cf and master.cf (see pfconf.lsp.server).

Its answers come from pfconf.lsp.analysis, which speaks no protocol; pygls and lsprotocol
are needed only to serve (``pip install pfconf[lsp]``).
"""

from __future__ import annotations


def main() -> None:
    """The ``pfconf-lsp`` command: a language server on stdin and stdout."""
    import click

    from .. import __version__

    @click.command(context_settings={"help_option_names": ["-h", "--help"]})
    @click.version_option(__version__, prog_name="pfconf-lsp")
    def cli() -> None:
        """Serve main.cf and master.cf to an editor over the Language Server Protocol, on
        stdin and stdout (docs/editors.md says how to set up Neovim, Helix, Emacs and VS
        Code)."""
        try:
            from .server import main as serve
        except ImportError as exc:  # pygls is an extra
            click.echo(
                f"pfconf-lsp: {exc.name} is not installed: pip install 'pfconf[lsp]'", err=True
            )
            raise SystemExit(2) from None
        serve()

    cli(prog_name="pfconf-lsp")
