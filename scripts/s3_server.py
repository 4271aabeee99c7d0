"""A real S3-compatible server on loopback for the test suite: moto's server
app, with one lock around each request.

moto checks `If-None-Match: *` and then stores the object as two separate
steps; with concurrent requests, two conditional puts of one key could both
pass the check. Amazon S3 decides conditional puts atomically, and
omnigraph's catalog relies on that, so this runner serializes requests (the
app still serves many connections). Usage: s3_server.py PORT BUCKET
"""

import sys
import threading

from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

port = int(sys.argv[1])
bucket = sys.argv[2]

app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()


def serialized(environ, start_response):
    with lock:
        body = app(environ, start_response)
        # Drain the response under the lock too.
        return [b"".join(body)]


server = make_server("127.0.0.1", port, serialized, threaded=True)
threading.Thread(target=server.serve_forever, daemon=True).start()

import boto3  # noqa: E402  (after the server is up)

boto3.client(
    "s3",
    endpoint_url=f"http://127.0.0.1:{port}",
    aws_access_key_id="testing",
    aws_secret_access_key="testing",
    region_name="us-east-1",
).create_bucket(Bucket=bucket)
print("ready", flush=True)
threading.Event().wait()
