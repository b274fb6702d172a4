"""Command line: parse options, build settings, call the pipeline, format, set the exit code.

Exit codes: 0 success, 1 a render error (bad inputs, kustomize failure), 2 wrong usage,
3 an internal error (a bug: reported without a traceback unless KSERVE_CMP_DEBUG is set).
stdout carries manifests only; every message goes to stderr.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Callable

import click

from . import __version__
from .problems import CmpError, Problem, UsageError
from .safetext import visible
from .settings import BY_NAME, build_settings


def _settings_options(func: Callable) -> Callable:
    """The render settings as options; each also read from its KSERVE_CMP_* env var."""
    for setting in reversed(BY_NAME.values()):
        if setting.kind == "bool":
            opt = click.option(f"--{setting.name}", setting.attr, is_flag=True, default=None,
                               help=setting.meaning)
        else:
            opt = click.option(f"--{setting.name}", setting.attr, default=None, metavar=setting.kind.upper(),
                               help=setting.meaning)
        func = opt(func)
    return func


def emit_problems(problems: list[Problem]) -> None:
    """Each problem on one line of stderr, in file and line order; those without a file (a tool's
    failure, a closing note) after them, in the order found."""
    for p in sorted(problems, key=lambda p: (p.file is None, p.file or "", p.line or 0)):
        click.echo(p.format(), err=True)


def _end_tools_on_sigterm() -> None:
    """On SIGTERM (Argo CD's deadline), end running kustomize builds too, then exit 143."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return

    def handler(signum: int, frame: object) -> None:
        from .source.kustomize import terminate_tools

        terminate_tools()
        os.write(2, b"terminated (SIGTERM): render stopped, nothing printed\n")
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def run_guarded(action: Callable[[], int]) -> None:
    """The one error boundary: CmpError -> message + its exit code; anything else -> exit 3."""
    _end_tools_on_sigterm()
    try:
        code = action()
    except CmpError as exc:
        emit_problems(exc.warnings + exc.problems)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # a bug: one line, no traceback, unless debugging
        if os.environ.get("KSERVE_CMP_DEBUG"):
            raise
        click.echo(visible(f"internal error: {type(exc).__name__}: {exc}") +
                   " (set KSERVE_CMP_DEBUG=1 for a traceback)", err=True)
        sys.exit(3)
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kserve-cmp")
def main() -> None:
    """Render ModelDeployment overlays into correct KServe manifests (an Argo CD plugin).

    \b
    Installed as `kserve-cmp` and as `cmp`. The `cmp` name shadows diffutils' cmp: when its
    first argument is not a kserve-cmp command (or -h/--help/--version), `cmp` runs the next
    `cmp` on PATH with the same arguments and exit status, so `cmp -s a b` keeps working.
    """


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml",
              help="yaml (a stream, what Argo CD reads) or json (one document: the object, or a v1 List of "
                   "several, as kubectl -o json prints).")
@_settings_options
def render(paths: tuple[str, ...], fmt: str, **options: Any) -> None:
    """Render the apps at PATHS (default: the current directory) to stdout.

    Each PATH is an app (a directory or a manifest file; - reads a YAML stream from stdin), rendered
    on its own; the outputs follow in the order given. Two apps producing the same object, or any
    problem, and nothing is printed.
    """
    from .emit import as_text
    from .renders import render_paths

    def action() -> int:
        done = render_paths(list(paths or (".",)), build_settings(options), lambda: sys.stdin.buffer)
        text = as_text(done.objects, fmt)
        emit_problems(done.warnings)
        sys.stdout.write(text)
        sys.stdout.flush()
        return 0

    run_guarded(action)


@main.command()
@click.option("--server", is_flag=True,
              help="Through the warm render server (started when none runs; rendered here meanwhile).")
def generate(server: bool) -> None:
    """Render the current directory as Argo CD's sidecar does (settings from PARAM_*, ARGOCD_ENV_*, env)."""
    if server:
        from .argocd import client

        client.main(["generate"])
    from .argocd.run import outcome

    _end_tools_on_sigterm()
    out, err, code = outcome(os.environ)  # the bytes the console script's click-free path writes
    sys.stderr.write(err)
    sys.stdout.write(out)
    sys.stdout.flush()
    sys.exit(code)


@main.command()
def serve() -> None:
    """Start the warm render server for `generate --server` (socket under $TMPDIR); exits at once if one runs."""
    from .argocd import server

    server.main()


def _exclude_option(func: Callable) -> Callable:
    return click.option("--exclude", "excludes", multiple=True, metavar="GLOB",
                        help="Skip directories matching GLOB (gitignore syntax, from the repository root; "
                             "repeatable), on top of .kserve-cmp-ignore.")(func)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github", "junit"]), default="text",
              help="How problems are printed (to stdout): text, json, github (workflow annotations) or junit "
                   "(JUnit XML, one testcase per app, for CI test reports).")
@_exclude_option
@_settings_options
def validate(paths: tuple[str, ...], fmt: str, excludes: tuple[str, ...], **options: Any) -> None:
    """Render every app found in PATHS (default: .) without printing manifests; report every problem.

    Apps are found by walking down from each PATH: directories with a kustomization, or with a
    ModelDeployment or KServe object, that no other app pulls in. Hidden directories, those in
    .kserve-cmp-ignore at the repository root and those matching --exclude are skipped; a PATH
    that is itself an app (or a file) is always rendered.
    """
    from .pipeline import render as do_render
    from .report import REPORTERS, junit
    from .spec.apps import discover

    def action() -> int:
        settings = build_settings(options)
        outcomes: list[tuple[str, list[Problem], bool]] = []
        apps = discover(paths or (".",), excludes)
        if not apps:
            raise UsageError(f"no app found in {', '.join(paths or ('.',))} (an app is a directory with a "
                             "kustomization, a ModelDeployment or a KServe object)")
        for path in apps:
            try:
                outcomes.append((path, do_render(path, settings).warnings, False))
            except CmpError as exc:
                if isinstance(exc, UsageError):
                    raise
                outcomes.append((path, exc.warnings + [_with_app(p, path) for p in exc.problems], True))
        failed = sum(1 for _, _, bad in outcomes if bad)
        if fmt == "junit":
            sys.stdout.write(junit(outcomes))
        else:
            sys.stdout.write(REPORTERS[fmt]([p for _, found, _ in outcomes for p in found]))
        if fmt == "text":
            click.echo(f"{len(apps) - failed} of {len(apps)} apps rendered cleanly", err=True)
        return 1 if failed else 0

    run_guarded(action)


@main.command()
@click.argument("path", default=".", type=click.Path())
@click.option("--model", "model", default=None, metavar="NAME", help="Only the model (InferenceService) NAME.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default=None,
              help="Text (the default) for people, JSON for tools (to stdout).")
@click.option("--output", "output", type=click.Choice(["text", "json"]), default=None, hidden=True,
              help="The former name of --format.")
@_settings_options
def explain(path: str, model: str | None, fmt: str | None, output: str | None, **options: Any) -> None:
    """Show the predictor container KServe will build for each model at PATH, and where each arg came from."""
    from .explain import explain as do_explain
    from .explain import to_json, to_text
    from .pipeline import render as do_render

    def action() -> int:
        if fmt and output and fmt != output:
            raise UsageError(f"--format {fmt} and --output {output} disagree (--output is the former name of --format)")
        chosen = fmt or output or "text"
        result = do_render(path, build_settings(options))
        emit_problems(result.warnings)
        views = do_explain(result.units, result.objects, result.provenance)
        if model is not None:
            names = sorted(v.name for v in views)
            views = [v for v in views if v.name == model]
            if not views:
                raise UsageError(f"no model {model!r}; models: {', '.join(names) or 'none'}")
        sys.stdout.write(to_json(views) if chosen == "json" else to_text(views))
        return 0

    run_guarded(action)


def _with_app(problem: Problem, path: str) -> Problem:
    if problem.file:
        return problem
    return Problem(problem.message, file=path, line=problem.line, path=problem.path, rule=problem.rule,
                   level=problem.level)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--base", metavar="REF", help="Git revision to compare against (the PR's target branch).")
@click.option("--head", metavar="REF", help="Git revision with the change (default: the working tree).")
@click.option("--merge-base", is_flag=True, help="Compare against the common ancestor of --base and --head.")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text",
              help="text (a terminal), markdown (a PR comment) or json (for bots).")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto",
              help="Colour text output: on a terminal (auto), always or never.")
@click.option("--show-secrets", is_flag=True, help="Show Secret values (refused when CI is set).")
@click.option("--max-size", type=click.IntRange(min=2000), default=65536, show_default=True,
              help="Largest markdown output, in characters (GitHub's comment limit).")
@click.option("--comment-key", default="", help="Key in the markdown marker, for several comments per PR.")
@click.option("--parts-dir", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="With --format markdown: also write each comment of a report split over "
                   "--max-size to DIR/part-N.md (one part when it fits).")
@click.option("--param", "parameters", multiple=True, metavar="NAME=VALUE",
              help="An Argo CD plugin parameter of the Application (repeatable).")
@click.option("--env", "app_env", multiple=True, metavar="NAME=VALUE",
              help="An entry of the Application's plugin env, e.g. KSERVE_CMP_NAMESPACE=ml (repeatable).")
@click.option("--all", "all_apps", is_flag=True,
              help="Render every app, not only those whose inputs the change touches.")
@_exclude_option
@_settings_options
def diff(paths: tuple[str, ...], base: str | None, head: str | None, merge_base: bool, fmt: str, color: str,
         show_secrets: bool, max_size: int, comment_key: str, parameters: tuple[str, ...],
         app_env: tuple[str, ...], all_apps: bool, excludes: tuple[str, ...], parts_dir: str | None,
         **options: Any) -> None:
    """Show what a change does to the rendered manifests and to each model's pod.

    \b
    cmp diff --base REF [--head REF] [PATH...]   apps under PATHs at two git revisions
    cmp diff DIR_A DIR_B                         apps of two directories
    Settings resolve as in the Argo CD sidecar: --param and --env as the Application's plugin
    parameters and env, KSERVE_CMP_* variables as the sidecar's env; setting options win.
    Only apps whose inputs (their directory, what their kustomizations name, a relative cluster
    profile) hold a changed file are rendered; --all renders every app. Apps are discovered as by
    validate (.kserve-cmp-ignore at the root of each side, --exclude).
    Exit status: 0 no change, 1 changes, 2 an app the change broke or bad usage (apps that render
    on neither side are listed, never fatal).
    """
    from .diff.command import DiffRequest, run_diff
    from .diff.sidecar import diff_settings

    def action() -> int:
        if show_secrets and os.environ.get("CI"):
            raise UsageError("--show-secrets is refused when CI is set (the output may be published)")
        colour = color == "always" or (color == "auto" and fmt == "text" and sys.stdout.isatty())
        if parts_dir and fmt != "markdown":
            raise UsageError("--parts-dir needs --format markdown")
        request = DiffRequest(paths, base, head, merge_base, fmt, colour, show_secrets, max_size, comment_key,
                              all_apps, excludes, parts_dir)
        try:
            settings = diff_settings(options, list(parameters), list(app_env), os.environ)
            text, code = run_diff(request, settings)
        except CmpError as exc:
            emit_problems(exc.warnings + exc.problems)
            return 2
        sys.stdout.write(text)
        sys.stdout.flush()
        return code

    run_guarded(action)


@main.command()
@click.option("--kserve-version", "version", default=None, metavar="V",
              help="The KServe release (default: the newest shipped); same as a ClusterProfile's spec.kserve.version.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              help="Text for people, JSON for tools (to stdout).")
def runtimes(version: str | None, fmt: str) -> None:
    """List the built-in runtimes of a KServe release: formats, protocols, priorities, images."""
    from . import catalog
    from .runtimes import to_json, to_text

    def action() -> int:
        try:
            release = catalog.resolve(version)
        except catalog.UnknownRelease as exc:
            raise UsageError(f"--kserve-version: {exc}") from None
        render = to_json if fmt == "json" else to_text
        sys.stdout.write(render(release, catalog.default_tag()))
        return 0

    run_guarded(action)


@main.command()
@click.option("--kind", type=click.Choice(["ModelDeployment", "ClusterProfile"]), default="ModelDeployment",
              show_default=True, help="The document kind whose schema is printed.")
@click.option("--dir", "directory", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="Write the schema of every kind to DIR instead, named as kubeconform looks them up "
                   "({kind}-{group}-{version}.json); schemas/ in the repository is made this way.")
def schema(kind: str, directory: str | None) -> None:
    """Print the JSON Schema (draft 2020-12) of a kind, for editors (yaml-language-server) and kubeconform."""
    from .spec import jsonschema

    def action() -> int:
        if directory is None:
            sys.stdout.write(jsonschema.to_json(kind))
            return 0
        os.makedirs(directory, exist_ok=True)
        for name in jsonschema.KINDS:
            path = os.path.join(directory, jsonschema.file_name(name))
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(jsonschema.to_json(name))
            click.echo(f"wrote {path}", err=True)
        return 0

    run_guarded(action)


@main.command()
@click.argument("directory", metavar="NAME")
@click.option("--format", "fmt", required=True, metavar="F",
              help="Model format exactly as the runtime lists it (sklearn, huggingface, vLLM...; see `runtimes`).")
@click.option("--storage-uri", required=True, metavar="URI",
              help="Where the model is (gs://, s3://, hf://, pvc://...).")
@click.option("--runtime", default=None, metavar="R",
              help="Built-in runtime (default: the one KServe auto-selects for the format).")
@click.option("--kustomize", is_flag=True,
              help="Write base/ (the ModelDeployment) and dev/, prod/ overlays patching it.")
@click.option("--schema-location", default=None, metavar="URL|PATH",
              help="Schema named in the yaml-language-server modeline: a URL, or a path from the working "
                   "directory (written relative to the file). Default: the schema's $id.")
def init(directory: str, fmt: str, storage_uri: str, runtime: str | None, kustomize: bool,
         schema_location: str | None) -> None:
    """Write a commented starter app into the directory NAME (its last part names the model).

    NAME must not exist or be empty: nothing is overwritten. The ModelDeployment is rendered once
    before it is written, so the app renders as written.
    """
    from .scaffold import Request, check_renders, plan, refuse_existing, write

    def action() -> int:
        planned = plan(Request(directory, fmt, storage_uri, runtime, kustomize, schema_location))
        refuse_existing(directory)
        emit_problems(check_renders(planned))
        for path in write(directory, planned):
            click.echo(f"wrote {path}", err=True)
        targets = [os.path.join(directory, env) for env in ("dev", "prod")] if kustomize else [directory]
        click.echo(f"runtime {planned.runtime}: {planned.runtime_reason}", err=True)
        click.echo("render with: " + ", ".join(f"kserve-cmp render {t}" for t in targets), err=True)
        return 0

    run_guarded(action)
