"""bookinfo's productpage, in Python (standard library only). It shows a book: its details from
the details service and its reviews from the reviews service, both called through its weft
sidecar (SIDECAR_URL/<service>/<path>). It forwards the user's cookie and the request id, so the
mesh's rules can route and fault by user across every hop.

It waits at most REVIEWS_TIMEOUT seconds (3) for reviews. Reviews v2 waits up to 10 s for
ratings, longer than that: the conflict the 7 s delay exposes. Reviews v3 waits 2.5 s.

GET /health, GET /api/v1/products/0 (JSON), GET /productpage (the same as a page)."""
import html
import json
import os
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(os.environ["PORT"])
SIDECAR = os.environ["SIDECAR_URL"]
DETAILS_TIMEOUT = 3.0
REVIEWS_TIMEOUT = 3.0
FORWARDED = ("cookie", "x-request-id", "traceparent", "tracestate")
PRODUCT = {"id": 0, "title": "The Comedy of Errors"}


def call(service, path, headers, timeout):
    """GET a service through the sidecar: its JSON, or {"error": why}."""
    request = urllib.request.Request(f"{SIDECAR}/{service}/{path}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as res:
            return json.loads(res.read())
    except urllib.error.HTTPError as err:
        return {"error": f"{service} answered HTTP {err.code}"}
    except (urllib.error.URLError, TimeoutError, OSError) as err:
        reason = getattr(err, "reason", err)
        return {"error": f"no answer from {service} within {timeout:g} s ({reason})"}


def product(incoming):
    headers = {name: incoming[name] for name in FORWARDED if incoming.get(name) is not None}
    started = time.monotonic()
    details = call("details", "details/0", headers, DETAILS_TIMEOUT)
    reviews = call("reviews", "reviews/0", headers, REVIEWS_TIMEOUT)
    if "error" in reviews:
        reviews["message"] = "Sorry, product reviews are currently unavailable for this book."
    return {
        "product": PRODUCT,
        "details": details,
        "reviews": reviews,
        "elapsed_ms": round((time.monotonic() - started) * 1000),
    }


def page(view):
    lines = [f"<h1>{html.escape(view['product']['title'])}</h1>"]
    details = view["details"]
    if "error" in details:
        lines.append("<p>Sorry, product details are currently unavailable for this book.</p>")
    else:
        lines.append(f"<p>{html.escape(details['type'])}, {details['pages']} pages, {html.escape(details['author'])}</p>")
    reviews = view["reviews"]
    if "error" in reviews:
        lines.append(f"<p>{html.escape(reviews['message'])}</p>")
    else:
        for review in reviews["reviews"]:
            rating = review.get("rating")
            if rating is None:
                stars = ""
            elif "error" in rating:
                stars = f"<em>{html.escape(rating['error'])}</em>"
            else:
                stars = f"<span style=\"color:{rating['color']}\">{'★' * rating['stars']}{'☆' * (5 - rating['stars'])}</span>"
            lines.append(f"<blockquote>{html.escape(review['text'])} — {html.escape(review['reviewer'])} {stars}</blockquote>")
        lines.append(f"<small>reviews served by {html.escape(reviews['version'])}</small>")
    return "\n".join(lines) + "\n"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/health":
            return self.reply(200, "application/json", b'{"status":"ok"}')
        incoming = {name.lower(): value for name, value in self.headers.items()}
        if self.path == "/api/v1/products/0":
            return self.reply(200, "application/json", json.dumps(product(incoming)).encode())
        if self.path in ("/", "/productpage"):
            return self.reply(200, "text/html; charset=utf-8", page(product(incoming)).encode())
        self.reply(404, "application/json", b'{"error":"not found"}')

    def reply(self, status, content_type, body):
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
