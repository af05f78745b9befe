"""A small Flask app written the usual way, with statusguard installed in one line.

    pip install statusguard flask flask-limiter
    python examples/flask_app.py                   # http://127.0.0.1:5000, mode "fix"
    flask --app examples/flask_app run --debug     # debug: mode "strict" (violations raise)
    STATUSGUARD_MODE=off python examples/flask_app.py   # the app as it would be without statusguard

Try:
    curl -i http://127.0.0.1:5000/me                      # abort(401): no challenge
    curl -i -X DELETE http://127.0.0.1:5000/articles/1     # abort(405): no Allow
    curl -i http://127.0.0.1:5000/search; curl -i http://127.0.0.1:5000/search   # flask-limiter 429
"""

from __future__ import annotations

from flask import Flask, abort, jsonify, request
from flask.typing import ResponseReturnValue
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from statusguard.contrib.flask import StatusGuard

app = Flask(__name__)
app.config["RATELIMIT_HEADERS_ENABLED"] = True
app.config["STATUSGUARD_WWW_AUTHENTICATE"] = 'Bearer realm="example"'  # the challenge 401s should carry
limiter = Limiter(get_remote_address, app=app, storage_uri="memory://")

StatusGuard(app)  # <- the one line


@app.get("/me")
def me() -> ResponseReturnValue:
    abort(401)  # Flask's idiom; Werkzeug sends no WWW-Authenticate unless told to


@app.route("/articles/<int:article_id>", methods=["GET", "DELETE"])
def article(article_id: int) -> ResponseReturnValue:
    if request.method == "DELETE":
        abort(405)  # archived articles are read-only: no valid_methods, so no Allow
    return jsonify(id=article_id, title="Hello")


@app.get("/search")
@limiter.limit("1/minute")
def search() -> ResponseReturnValue:
    return jsonify(results=[])


if __name__ == "__main__":
    app.run()
