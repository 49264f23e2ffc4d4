"""Drives py_eureka_client, the real Python Eureka client, against Weft's Eureka API.

Run by test/servers-registry/eureka.test.ts. Commands come one per line on stdin; every answer is
one JSON object per line on stdout (logging goes to stderr):

  start                      register the app (POST) and fetch the registry (GET apps/); the
                             client then heartbeats and fetches deltas every renewal interval
  wait-app APP present|absent [ID]
                             poll the client's OWN local copy of the registry (built from the full
                             fetch plus merged deltas) until APP (or instance ID of it) is there
                             or gone; answers the instances it holds
  call APP PATH              do_service: pick an UP instance of APP from the local copy and GET it
  status STATUS              the client's own status update (PUT .../status?value=)
  stop                       mark DOWN, cancel (DELETE), stop the heartbeat thread
"""

import asyncio
import json
import logging
import sys
import time

# py_eureka_client logs to stdout; stdout is this driver's answers, so its logs go to stderr.
ANSWERS = sys.stdout
sys.stdout = sys.stderr
from py_eureka_client import eureka_client  # noqa: E402  (after the redirect, on purpose)

SERVER, APP, PORT = sys.argv[1], sys.argv[2], int(sys.argv[3])
TIMEOUT_S = 30.0

logging.basicConfig(stream=sys.stderr, level=logging.WARNING)


def say(event, **fields):
    print(json.dumps({"event": event, **fields}), file=ANSWERS, flush=True)


def local_instances(client, app):
    apps = client.applications
    if apps is None:
        return []
    application = apps.get_application(app)
    if application is None:
        return []
    return [
        {
            "instanceId": i.instanceId,
            "app": i.app,
            "hostName": i.hostName,
            "ipAddr": i.ipAddr,
            "status": i.status,
            "port": i.port.port,
            "portEnabled": i.port.enabled,
            "securePort": i.securePort.port,
            "securePortEnabled": i.securePort.enabled,
            "metadata": i.metadata,
            "vipAddress": i.vipAddress,
            "durationInSecs": i.leaseInfo.durationInSecs,
        }
        for i in application.instances
    ]


async def main():
    client = eureka_client.EurekaClient(
        eureka_server=SERVER,
        app_name=APP,
        instance_host="127.0.0.1",
        instance_ip="127.0.0.1",
        instance_port=PORT,
        # Heartbeats and delta fetches every second, so the test sees several in a few seconds.
        renewal_interval_in_secs=1,
        duration_in_secs=30,
        metadata={"version": "v2", "weft.tags": "python"},
    )
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if line == "":
            return
        words = line.split()
        if not words:
            continue
        command = words[0]
        try:
            if command == "start":
                await client.start()
                say("started")
            elif command == "wait-app":
                app, want = words[1], words[2]
                instance_id = words[3] if len(words) > 3 else None
                deadline = time.monotonic() + TIMEOUT_S
                while True:
                    held = local_instances(client, app)
                    found = [i for i in held if instance_id is None or i["instanceId"] == instance_id]
                    if (want == "present") == (len(found) > 0):
                        say("app", app=app, instances=held)
                        break
                    if time.monotonic() > deadline:
                        say("timeout", app=app, want=want, instances=held)
                        break
                    await asyncio.sleep(0.1)
            elif command == "call":
                body = await client.do_service(words[1], words[2], prefer_ip=True)
                say("called", body=body)
            elif command == "status":
                await client.status_update(words[1])
                say("status", value=words[1])
            elif command == "stop":
                await client.stop()
                say("stopped")
                return
            else:
                say("error", message=f"unknown command {command}")
        except Exception as err:  # the test reads the failure instead of a hang
            say("error", message=f"{type(err).__name__}: {err}")


asyncio.run(main())
