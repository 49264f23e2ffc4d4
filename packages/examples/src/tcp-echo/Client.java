// The Java client of the TCP echo example (run as `java Client.java <local port>`, Java 11+). It
// knows one thing about the echo service: the local port its sidecar exposes it on (127.0.0.1
// only; there is no way to give it a host). Each round it opens a connection, sends a line,
// prints the reply, and closes — so every round is a new connection the sidecar balances over the
// echo instances Consul lists.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

public class Client {
  public static void main(String[] args) throws Exception {
    if (args.length != 1 || !args[0].matches("\\d{1,5}")) {
      System.err.println("usage: java Client.java <local port> — the port of this client's sidecar, on 127.0.0.1");
      System.exit(2);
    }
    int port = Integer.parseInt(args[0]);
    for (int n = 1; ; n++) {
      try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
        socket.setSoTimeout(5000);
        OutputStream out = socket.getOutputStream();
        out.write(("hello " + n + " from java\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        BufferedReader in =
            new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        String reply = in.readLine();
        // The sidecar closes a connection it has no echo instance for (yet): try again shortly.
        System.out.println(reply == null ? "java #" + n + " !! closed without a reply" : "java #" + n + " -> " + reply);
      } catch (Exception e) {
        System.out.println("java #" + n + " !! " + e.getMessage());
      }
      System.out.flush();
      Thread.sleep(100);
    }
  }
}
