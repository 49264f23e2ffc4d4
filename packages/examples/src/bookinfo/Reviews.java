// bookinfo's reviews service, in Java (standard library only; run as `java Reviews.java`).
// VERSION picks the behaviour: v1 shows no stars; v2 black stars and v3 red stars, both from
// the ratings service, called through the weft sidecar (SIDECAR_URL/ratings/...) with the
// user's cookie and request id forwarded. v2 waits up to 10 s for ratings — longer than
// productpage waits for reviews (3 s) — and v3 only 2.5 s: the timeout conflict, and its fix.
// GET /health, GET /reviews/<id>. Listens on 127.0.0.1:$PORT.
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class Reviews {
  static final String VERSION = System.getenv().getOrDefault("VERSION", "v1");
  static final String SIDECAR = System.getenv("SIDECAR_URL");
  static final int RATINGS_TIMEOUT_MS = VERSION.equals("v3") ? 2500 : 10000;
  static final String COLOR = VERSION.equals("v3") ? "red" : "black";
  static final List<String> FORWARDED = List.of("cookie", "x-request-id", "traceparent", "tracestate");
  static final String[][] REVIEWS = {
    {"Reviewer1", "An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!"},
    {"Reviewer2", "Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare."},
  };

  public static void main(String[] args) throws IOException {
    int port = Integer.parseInt(System.getenv("PORT"));
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 64);
    server.createContext("/health", exchange -> reply(exchange, 200, "{\"status\":\"ok\"}"));
    server.createContext("/reviews/", Reviews::reviews);
    // A thread per request: a call waiting on a delayed ratings must not hold up the others.
    server.setExecutor(Executors.newCachedThreadPool());
    server.start();
  }

  static void reviews(HttpExchange exchange) throws IOException {
    String id = exchange.getRequestURI().getPath().substring("/reviews/".length());
    String ratings = VERSION.equals("v1") ? null : ratings(id, exchange);
    StringBuilder json = new StringBuilder("{\"id\":\"").append(escape(id)).append("\",\"version\":\"")
        .append(VERSION).append("\",\"reviews\":[");
    for (int i = 0; i < REVIEWS.length; i++) {
      String reviewer = REVIEWS[i][0];
      json.append(i == 0 ? "" : ",").append("{\"reviewer\":\"").append(reviewer).append("\",\"text\":\"")
          .append(REVIEWS[i][1]).append('"');
      if (!VERSION.equals("v1")) json.append(",\"rating\":").append(rating(ratings, reviewer));
      json.append('}');
    }
    reply(exchange, 200, json.append("]}").toString());
  }

  /** The ratings service's answer, or null when it did not come within RATINGS_TIMEOUT_MS. */
  static String ratings(String id, HttpExchange incoming) {
    try {
      HttpURLConnection call = (HttpURLConnection) URI.create(SIDECAR + "/ratings/ratings/" + id).toURL().openConnection();
      call.setConnectTimeout(RATINGS_TIMEOUT_MS);
      call.setReadTimeout(RATINGS_TIMEOUT_MS);
      for (String name : FORWARDED) {
        String value = incoming.getRequestHeaders().getFirst(name);
        if (value != null) call.setRequestProperty(name, value);
      }
      if (call.getResponseCode() != 200) return null;
      try (InputStream body = call.getInputStream()) {
        return new String(body.readAllBytes(), StandardCharsets.UTF_8);
      }
    } catch (IOException e) {
      return null;
    }
  }

  static String rating(String ratings, String reviewer) {
    Matcher m = ratings == null ? null : Pattern.compile('"' + reviewer + "\"\\s*:\\s*(\\d+)").matcher(ratings);
    if (m == null || !m.find()) return "{\"error\":\"Ratings service is currently unavailable\"}";
    return "{\"stars\":" + m.group(1) + ",\"color\":\"" + COLOR + "\"}";
  }

  static String escape(String s) {
    return s.replace("\\", "\\\\").replace("\"", "\\\"");
  }

  static void reply(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("content-type", "application/json");
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }
}
