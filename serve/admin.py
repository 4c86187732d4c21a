"""`POST /admin/rollout`: confine the path, validate the build, move every replica to it.

The admin key was checked at the edge (`middleware.BearerToken`) before the body is read.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from ray.serve.handle import DeploymentHandle

from retrieval.artifacts import ArtifactError, read_manifest
from serve.api import ApiError
from serve.config import RecsplainSettings
from serve.rollout import RolloutRequest, roll_out

# How a roll-out's outcome reads to the admin.
ROLLOUT_OUTCOMES = {
    "converged": (200, "", ""),
    "failed": (504, "rollout_failed", "a replica could not load it: {failures}; moved back"),
    "timeout": (504, "rollout_timeout", "replicas not all on it after {elapsed_s} s; moved back"),
    "superseded": (409, "rollout_superseded", "another roll-out moved the registry meanwhile"),
}


async def rollout(settings: RecsplainSettings, registry: DeploymentHandle, raw: bytes) -> Response:
    """Roll out the build named in `raw` (a `RolloutRequest`), and wait until every replica
    serves it or the roll-out is moved back."""
    try:
        body = RolloutRequest.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None
    root = settings.rollout_root()
    path = settings.resolve(Path(body.artifacts)).resolve()
    if path == root or not path.is_relative_to(root) or not path.is_dir():
        # One answer whether the path exists or not: no probing of the filesystem.
        raise ApiError(422, "invalid_artifacts", f"artifacts: not a build folder under {root}")
    try:
        manifest = await asyncio.to_thread(read_manifest, path)
    except ArtifactError as exc:
        raise ApiError(422, "invalid_artifacts", f"artifacts: {exc}") from None
    answer = await roll_out(registry, str(path), manifest["data_hash"], settings.rollout)
    status, code, message = ROLLOUT_OUTCOMES[answer["outcome"]]
    if status == 200:
        return JSONResponse(answer)
    return JSONResponse(
        {"error": {"code": code, "message": message.format(**answer)}, "rollout": answer},
        status_code=status,
    )
