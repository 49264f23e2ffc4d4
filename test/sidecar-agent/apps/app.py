"""A Python service on the mesh: answers /hello, and /call/<service>/<path> calls another
service through its sidecar (SIDECAR_URL), as any app in any language would. It starts a
long-running child process (the test looks for both in /proc after the sidecar stops, to prove
the whole process group went) and exits 0 on SIGTERM."""
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(os.environ["APP_PORT"])
SIDECAR = os.environ["SIDECAR_URL"]
# The test passes a marker as the argument, to find this process and its child in /proc.
MARKER = sys.argv[1]


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/hello":
            return self.reply(200, b"hello from python")
        if self.path.startswith("/call/"):
            try:
                with urllib.request.urlopen(SIDECAR + "/" + self.path[len("/call/"):], timeout=5) as res:
                    return self.reply(res.status, res.read())
            except urllib.error.HTTPError as err:
                return self.reply(err.code, err.read())
        self.reply(404, b"not found")

    def reply(self, status, body):
        self.send_response(status)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
# A grandchild of the sidecar: it must die with the app's process group.
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", MARKER])
ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
