"""Local S3 for tests and `npm start`: moto, served one request at a time.

moto's own `moto_server` command serves on threads, and its conditional-PUT
check (If-Match / If-None-Match) is then not atomic. Served single-threaded,
each request runs to completion before the next, as S3's conditional writes
behave. The chosen port is printed as one JSON line on stdout so that the
parent process never has to guess a free port.
"""

import json
import os
import sys

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    create_backend_app,
)
from werkzeug.serving import make_server


def main() -> None:
    host = os.environ.get("LOCAL_S3_HOST", "127.0.0.1")
    port = int(os.environ.get("LOCAL_S3_PORT", "0"))
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(host, port, app, threaded=False, processes=1)
    print(json.dumps({"host": host, "port": server.server_port}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    # werkzeug logs each request on stderr; keep it unless asked to be quiet.
    if os.environ.get("LOCAL_S3_QUIET") == "1":
        import logging

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
    sys.exit(main())
