"""A small Starlette app written the usual way, with statusguard installed in one line.

    pip install statusguard starlette uvicorn
    python examples/starlette_app.py                      # http://127.0.0.1:8000, mode "fix"
    STATUSGUARD_MODE=off python examples/starlette_app.py     # the app as it would be without statusguard

Try:
    curl -i -X DELETE http://127.0.0.1:8000/notes       # one route per method: Allow lists one
    curl -i -H 'Range: bytes=1000000-' http://127.0.0.1:8000/source   # FileResponse: an empty 416
    curl -i http://127.0.0.1:8000/admin                 # HTTPException(401): no challenge
"""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from statusguard.contrib.starlette import StatusGuardMiddleware

SOURCE = Path(__file__)  # any file will do


async def list_notes(request: Request) -> Response:
    return JSONResponse([{"id": 1, "text": "buy milk"}])


async def add_note(request: Request) -> Response:
    return JSONResponse({"id": 2}, status_code=201)


async def source(request: Request) -> Response:
    return FileResponse(SOURCE, media_type="text/plain")


async def admin(request: Request) -> Response:
    raise HTTPException(status_code=401)


app = Starlette(
    routes=[
        Route("/notes", list_notes, methods=["GET"]),
        Route("/notes", add_note, methods=["POST"]),
        Route("/source", source),
        Route("/admin", admin),
    ]
)
app.add_middleware(StatusGuardMiddleware, www_authenticate='Basic realm="admin"')  # <- the one line


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app)
