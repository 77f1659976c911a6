"""Local S3 for tests and `npm start`: moto, served one request at a time.

moto's own `moto_server` command serves on threads, and its conditional-PUT
check (If-Match / If-None-Match) is then not atomic. Served single-threaded,
each request runs to completion before the next, as S3's conditional writes
behave. The chosen port is printed as one JSON line on stdout so that the
parent process never has to guess a free port.

The parent starts this server in a process group of its own, so that a Ctrl-C
in the terminal reaches the parent alone and the parent decides when the
server stops (after it has saved what the server holds). Its stdin is a pipe
from the parent: when that pipe closes, whatever way the parent ended, the
server stops too and is never left behind.
"""

import json
import os
import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    create_backend_app,
)
from werkzeug.serving import make_server


def read_retention_directly() -> None:
    """For each message a ReceiveMessage returns, moto (5.2) checks its
    retention by computing every attribute of the queue three times, each a
    scan of all its messages: a receive of 10 from a queue of 1,000 took
    about a second, and a burst of commands measured moto, not the product.
    The check reads the one attribute instead; what it decides is unchanged.
    """
    from moto.core.utils import unix_time
    from moto.sqs.models import SQSBackend

    def is_message_valid_based_on_retention_period(self, queue_name, message):
        queue = self.get_queue(queue_name)
        retain_until = int(queue.message_retention_period) + message.sent_timestamp / 1000
        return retain_until > unix_time()

    SQSBackend.is_message_valid_based_on_retention_period = (
        is_message_valid_based_on_retention_period
    )


def keep_newer_noncurrent_versions() -> None:
    """moto (5.2) accepts a lifecycle rule's
    NoncurrentVersionExpiration.NewerNoncurrentVersions but drops it: the
    configuration then reads back without it, and doctor would find the
    stack's own rule incomplete. Kept on the rule and given back, as S3 does;
    moto expires nothing either way."""
    from moto.s3.models import FakeBucket
    from moto.s3.responses import S3Response

    set_lifecycle = FakeBucket.set_lifecycle

    def set_lifecycle_keeping(self, rules):
        set_lifecycle(self, rules)
        for stored, given in zip(self.rules, rules):
            expiration = given.get("NoncurrentVersionExpiration") or {}
            stored.nve_newer_versions = expiration.get("NewerNoncurrentVersions")

    get_bucket_lifecycle = S3Response.get_bucket_lifecycle

    def get_bucket_lifecycle_keeping(self):
        serialized = self.serialized

        def with_newer_versions(result):
            rules = self.backend.get_bucket_lifecycle(self.bucket_name)
            for stored, shown in zip(rules, result.result["Rules"]):
                newer = getattr(stored, "nve_newer_versions", None)
                if newer is not None and "NoncurrentVersionExpiration" in shown:
                    shown["NoncurrentVersionExpiration"]["NewerNoncurrentVersions"] = newer
            return serialized(result)

        self.serialized = with_newer_versions
        try:
            return get_bucket_lifecycle(self)
        finally:
            del self.serialized

    FakeBucket.set_lifecycle = set_lifecycle_keeping
    S3Response.get_bucket_lifecycle = get_bucket_lifecycle_keeping


def give_back_eventbridge_configuration() -> None:
    """moto (5.2) keeps a bucket's EventBridgeConfiguration (and sends its
    events to EventBridge) but leaves it out of
    GetBucketNotificationConfiguration: doctor would find the notifications
    off on a bucket that has them. Given back, as S3 does."""
    from moto.s3.responses import S3Response

    get_bucket_notification = S3Response.get_bucket_notification

    def get_bucket_notification_with_eventbridge(self):
        serialized = self.serialized

        def with_eventbridge(result):
            stored = self.backend.get_bucket_notification_configuration(self.bucket_name)
            if stored is not None and stored.event_bridge is not None:
                result.result["EventBridgeConfiguration"] = {}
            return serialized(result)

        self.serialized = with_eventbridge
        try:
            return get_bucket_notification(self)
        finally:
            del self.serialized

    S3Response.get_bucket_notification = get_bucket_notification_with_eventbridge


def main() -> None:
    read_retention_directly()
    keep_newer_noncurrent_versions()
    give_back_eventbridge_configuration()
    host = os.environ.get("LOCAL_S3_HOST", "127.0.0.1")
    port = int(os.environ.get("LOCAL_S3_PORT", "0"))
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(host, port, app, threaded=False, processes=1)
    print(json.dumps({"host": host, "port": server.server_port}), flush=True)
    if os.environ.get("LOCAL_S3_LIFELINE") == "1":
        threading.Thread(target=stop_when_parent_goes, args=(server,), daemon=True).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def stop_when_parent_goes(server) -> None:
    """Reads stdin until the parent closes it (or dies), then stops serving."""
    try:
        while sys.stdin.buffer.read(4096):
            pass
    except OSError:
        pass
    server.shutdown()


if __name__ == "__main__":
    # werkzeug logs each request on stderr; keep it unless asked to be quiet.
    if os.environ.get("LOCAL_S3_QUIET") == "1":
        import logging

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
    sys.exit(main())
