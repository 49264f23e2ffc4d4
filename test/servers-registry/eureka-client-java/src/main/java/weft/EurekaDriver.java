package weft;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.netflix.appinfo.ApplicationInfoManager;
import com.netflix.appinfo.EurekaInstanceConfig;
import com.netflix.appinfo.InstanceInfo;
import com.netflix.appinfo.MyDataCenterInstanceConfig;
import com.netflix.appinfo.providers.EurekaConfigBasedInstanceInfoProvider;
import com.netflix.config.ConfigurationManager;
import com.netflix.discovery.DefaultEurekaClientConfig;
import com.netflix.discovery.DiscoveryClient;
import com.netflix.discovery.shared.Application;
import com.netflix.discovery.shared.transport.jersey3.Jersey3TransportClientFactories;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Drives Netflix's eureka-client against Weft's Eureka API (test/servers-registry/eureka.test.ts).
 * Arguments: the service URL (…/eureka/v2/), the application name, the port to register. Commands
 * one per line on stdin, answers one JSON object per line on stdout (logs go to stderr):
 *
 *   start                          build the DiscoveryClient (full fetch), go UP (registration)
 *   wait-app APP present|absent [ID]  poll the client's own copy of the registry (full fetch plus
 *                                  merged deltas) until APP (or instance ID of it) is there or gone
 *   stop                           shut the client down (it cancels its registration)
 */
public final class EurekaDriver {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final PrintStream ANSWERS = System.out;

  public static void main(String[] args) throws Exception {
    System.setOut(System.err); // anything the libraries print is not an answer
    String server = args[0];
    String app = args[1];
    int port = Integer.parseInt(args[2]);
    var config = ConfigurationManager.getConfigInstance();
    config.setProperty("eureka.serviceUrl.default", server);
    config.setProperty("eureka.shouldUseDns", "false");
    config.setProperty("eureka.registration.enabled", "true");
    config.setProperty("eureka.shouldFetchRegistry", "true");
    // Fetch (deltas) and heartbeat every second, register at once.
    config.setProperty("eureka.client.refresh.interval", "1");
    config.setProperty("eureka.appinfo.initial.replicate.time", "0");
    config.setProperty("eureka.appinfo.replicate.interval", "1");
    config.setProperty("eureka.name", app);
    config.setProperty("eureka.port", String.valueOf(port));
    config.setProperty("eureka.vipAddress", app.toLowerCase());
    config.setProperty("eureka.lease.renewalInterval", "1");
    config.setProperty("eureka.lease.duration", "30");
    config.setProperty("eureka.metadata.version", "v5");

    EurekaInstanceConfig instanceConfig =
        new MyDataCenterInstanceConfig() {
          @Override
          public String getHostName(boolean refresh) {
            return "127.0.0.1";
          }

          @Override
          public String getIpAddress() {
            return "127.0.0.1";
          }

          @Override
          public String getInstanceId() {
            return "java-1";
          }
        };
    DiscoveryClient client = null;
    ApplicationInfoManager manager = null;
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line; (line = in.readLine()) != null; ) {
      String[] words = line.trim().split("\\s+");
      if (words[0].isEmpty()) continue;
      try {
        switch (words[0]) {
          case "start" -> {
            InstanceInfo info = new EurekaConfigBasedInstanceInfoProvider(instanceConfig).get();
            manager = new ApplicationInfoManager(instanceConfig, info);
            client = new DiscoveryClient(manager, new DefaultEurekaClientConfig(), new Jersey3TransportClientFactories());
            manager.setInstanceStatus(InstanceInfo.InstanceStatus.UP); // registers, on demand
            say("started");
          }
          case "wait-app" -> {
            String name = words[1];
            boolean present = words[2].equals("present");
            String id = words.length > 3 ? words[3] : null;
            long deadline = System.currentTimeMillis() + 30_000;
            while (true) {
              List<Map<String, Object>> held = held(client, name);
              boolean found = held.stream().anyMatch(i -> id == null || id.equals(i.get("instanceId")));
              if (found == present) {
                say("app", "app", name, "instances", held);
                break;
              }
              if (System.currentTimeMillis() > deadline) {
                say("timeout", "app", name, "instances", held);
                break;
              }
              Thread.sleep(100);
            }
          }
          case "stop" -> {
            client.shutdown();
            say("stopped");
            System.exit(0);
          }
          default -> say("error", "message", "unknown command " + words[0]);
        }
      } catch (Exception e) {
        say("error", "message", e.toString());
      }
    }
  }

  private static List<Map<String, Object>> held(DiscoveryClient client, String app) {
    List<Map<String, Object>> out = new ArrayList<>();
    Application application = client.getApplication(app);
    if (application == null) return out;
    for (InstanceInfo i : application.getInstancesAsIsFromEureka()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("instanceId", i.getInstanceId());
      m.put("app", i.getAppName());
      m.put("ipAddr", i.getIPAddr());
      m.put("port", i.getPort());
      m.put("status", i.getStatus().name());
      m.put("metadata", i.getMetadata());
      m.put("vipAddress", i.getVIPAddress());
      out.add(m);
    }
    return out;
  }

  /** One answer line: `event` first (the test reads lines starting with it), then key/value pairs. */
  private static void say(String event, Object... pairs) throws Exception {
    Map<String, Object> answer = new LinkedHashMap<>();
    answer.put("event", event);
    for (int i = 0; i + 1 < pairs.length; i += 2) answer.put((String) pairs[i], pairs[i + 1]);
    ANSWERS.println(JSON.writeValueAsString(answer));
    ANSWERS.flush();
  }
}
