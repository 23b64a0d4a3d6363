"""``python -m wgan.experiments docs/reproductions``: rewrite every reproduction page's protocol table and claims
block from the registry (a test checks the committed pages are current)."""

import sys
from pathlib import Path

from . import Context, all_experiments, full_table
from ._claims import CLAIMS_BEGIN, CLAIMS_END, claims_markdown
from ._protocol import sync_block, sync_page


def main(argv: list[str]) -> int:
    """``python -m wgan.experiments DOCS_DIR``: rewrite every page's table from the registry."""
    if len(argv) != 1:
        print("usage: python -m wgan.experiments docs/reproductions", file=sys.stderr)
        return 2
    folder = Path(argv[0])
    for name in all_experiments():
        page = folder / f"{name}.md"
        if not page.is_file():
            print(f"{page}: no page", file=sys.stderr)
            continue
        changed = sync_page(page, full_table(name, Context(out=Path("."))))
        specs = all_experiments()[name].claims
        if specs:
            changed |= sync_block(page, CLAIMS_BEGIN, CLAIMS_END, claims_markdown(specs),
                                  "**Claims.** What the paper says, and how each sentence is judged:")
        print(f"{page}: {'updated' if changed else 'current'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
