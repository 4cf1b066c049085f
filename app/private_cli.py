"""`evalboard private`: register private held-out benchmarks (admin, on the server that holds them)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from app.config import get_settings

private_app = typer.Typer(
    help="Private held-out benchmarks: items stay on this server; scores are public.", no_args_is_help=True
)
console = Console(stderr=True, soft_wrap=True)


class Kind(StrEnum):
    multiple_choice = "multiple_choice"
    generation = "generation"


class Language(StrEnum):
    en = "en"
    ko = "ko"
    both = "en+ko"


@private_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Benchmark id: lowercase letters, digits and _.")],
    data: Annotated[Path, typer.Option("--data", help="JSONL file, one item per line.")],
    template: Annotated[
        str | None,
        typer.Option("--template", help="A private-set template (SUITE/NAME, see `private templates`)."),
    ] = None,
    fewshot_data: Annotated[
        Path | None, typer.Option("--fewshot-data", help="Templates: few-shot examples (JSONL).")
    ] = None,
    kind: Annotated[Kind | None, typer.Option("--kind", help="multiple_choice or generation.")] = None,
    title_en: Annotated[str | None, typer.Option("--title-en", help="English title on the board.")] = None,
    title_ko: Annotated[str | None, typer.Option("--title-ko", help="Korean title on the board.")] = None,
    fewshot: Annotated[int, typer.Option("--fewshot", min=0, help="Few-shot examples per item.")] = 0,
    language: Annotated[Language, typer.Option("--language", help="Items' language (prompt).")] = Language.en,
) -> None:
    """Validate a JSONL file and register it (the same name again replaces the earlier one).

    With --template SUITE/NAME the items must follow the template's schema (`private templates`
    shows it) and the benchmark joins that suite. Otherwise give --kind and both titles:
    multiple_choice lines: {"question": str, "choices": [str, ...], "answer": index};
    generation lines: {"question": str, "answer": str, "aliases": [str, ...] (optional)}.
    Either may carry "lang": "en" or "ko" to pick the prompt language per item."""
    from benchmarks.private import PRIVATE_SUITE, PrivateBenchmarkError, register
    from benchmarks.private_templates import register_template

    private_dir = get_settings().resolved_private_dir
    try:
        if template is not None:
            entry = register_template(private_dir, name, template, data, fewshot_data)
        elif kind is None or not title_en or not title_ko:
            raise PrivateBenchmarkError("give --template SUITE/NAME, or --kind, --title-en and --title-ko")
        else:
            entry = register(
                private_dir, name, data, kind.value, title_en, title_ko,
                num_fewshot=fewshot, language=language.value,
            )  # fmt: skip
    except PrivateBenchmarkError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    suite = entry.template.split("/")[0] if entry.template else PRIVATE_SUITE
    console.print(
        f"registered {entry.name}: {entry.items} {entry.kind} items in {private_dir}; "
        f"submit models to the suite {suite!r} to score them"
    )


@private_app.command("templates")
def list_templates() -> None:
    """The private-set templates an operator who holds the real items can activate, each with the
    item fields its --data file must have."""
    from benchmarks.private_templates import item_schema, templates

    registered = {entry.template for entry in _registry().values() if entry.template}
    out = Console(soft_wrap=True)
    for template, spec in sorted(templates().items()):
        state = "registered here" if template in registered else "not registered (bundled stand-in)"
        out.print(
            f"{template}  {spec.display_en} · {spec.num_fewshot}-shot · {spec.primary_metric} · {state}"
        )
        fields = ", ".join(f"{field} ({kind})" for field, kind in item_schema(spec).items())
        out.print(f"    item fields: {fields}", markup=False)


def _registry() -> dict[str, Any]:
    from benchmarks.private import read_registry

    return read_registry(get_settings().resolved_private_dir)


@private_app.command("list")
def list_benchmarks() -> None:
    """The registered private benchmarks."""
    from benchmarks.private import read_registry

    private_dir = get_settings().resolved_private_dir
    registry = read_registry(private_dir)
    if not registry:
        console.print(f"no private benchmarks in {private_dir}")
        return
    table = Table(title=f"private benchmarks · {private_dir}")
    for column in ("name", "kind", "items", "few-shot", "language", "title", "registered"):
        table.add_column(column)
    for entry in registry.values():
        table.add_row(
            entry.name,
            entry.template or entry.kind,
            str(entry.items),
            str(entry.num_fewshot),
            entry.language,
            f"{entry.display_en} · {entry.display_ko}",
            entry.registered_at,
        )
    Console().print(table)
