import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;

/**
 * Embedded Neo4j Community with the Bolt connector on 127.0.0.1, authentication off, for the
 * conformance suites. Usage: {@code java EngramNeo4jServer <home directory> <bolt port>}. Prints
 * "Started." once Bolt accepts connections and runs until it is killed (SIGTERM shuts the
 * database down cleanly).
 */
public final class EngramNeo4jServer {
  private EngramNeo4jServer() {}

  public static void main(String[] arguments) throws InterruptedException {
    if (arguments.length != 2) {
      System.err.println("usage: java EngramNeo4jServer <home directory> <bolt port>");
      System.exit(2);
    }
    Path home = Path.of(arguments[0]).toAbsolutePath();
    int port = Integer.parseInt(arguments[1]);
    DatabaseManagementService service =
        new DatabaseManagementServiceBuilder(home)
            .setConfig(BoltConnector.enabled, true)
            .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
            .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
            .setConfig(HttpConnector.enabled, false)
            .setConfig(GraphDatabaseSettings.auth_enabled, false)
            .setConfig(GraphDatabaseSettings.pagecache_memory, 128L * 1024 * 1024)
            .build();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  service.shutdown();
                  stopped.countDown();
                }));
    System.out.println("Started.");
    System.out.flush();
    stopped.await();
  }
}
