"""A small FastAPI app written the usual way, with statusguard installed in one line.

    pip install statusguard fastapi uvicorn
    python examples/fastapi_app.py                        # http://127.0.0.1:8000, mode "fix"
    STATUSGUARD_MODE=strict python examples/fastapi_app.py    # violations raise (500 + traceback)
    STATUSGUARD_MODE=off python examples/fastapi_app.py       # the app as it would be without statusguard

Try:
    curl -i http://127.0.0.1:8000/me                   # HTTPException(401): no challenge
    curl -i -X DELETE http://127.0.0.1:8000/items       # two routes on one path: Allow lists one
    curl -i -X PUT http://127.0.0.1:8000/reports/7      # HTTPException(405): no Allow
    curl -i -X DELETE http://127.0.0.1:8000/items/7     # JSONResponse(status_code=204): a body on a 204
    curl -i http://127.0.0.1:8000/export                # HTTPException(429): cacheable
"""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

from statusguard.contrib.starlette import StatusGuardMiddleware

app = FastAPI()
app.add_middleware(StatusGuardMiddleware, www_authenticate='Bearer realm="example"')  # <- the one line


@app.get("/me")
def me() -> dict[str, str]:
    raise HTTPException(status_code=401, detail="Not authenticated")


@app.get("/items")
def list_items() -> list[dict[str, int]]:
    return [{"id": 7}]


@app.post("/items", status_code=201)
def create_item() -> dict[str, int]:
    return {"id": 8}


@app.delete("/items/{item_id}")
def delete_item(item_id: int) -> JSONResponse:
    return JSONResponse(status_code=204, content=None)


@app.api_route("/reports/{report_id}", methods=["GET", "PUT"])
def report(report_id: int, request: Request) -> dict[str, int]:
    if request.method == "PUT":
        raise HTTPException(status_code=405, detail="Reports are read-only")
    return {"id": report_id}


@app.get("/export")
def export() -> dict[str, str]:
    raise HTTPException(status_code=429, detail="One export per hour")


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app)
