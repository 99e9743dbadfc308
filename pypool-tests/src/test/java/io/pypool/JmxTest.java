package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.pypool.testkit.PypoolExtension;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Map;
import javax.management.JMX;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

class JmxTest {

    @RegisterExtension
    final PypoolExtension pools = PypoolExtension.create();

    private final MBeanServer server = ManagementFactory.getPlatformMBeanServer();

    private static ObjectName nameOf(String pool) throws Exception {
        return new ObjectName("io.pypool:type=PythonPool,name=" + pool);
    }

    @Test
    void attributesReadThroughThePlatformServerMatchTheStats() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().name("jmx-stats").workers(2).jmx(true));
        await().until(() -> TestPools.allReady(pool, 2));
        assertThat(pool.call("add", Map.of("a", 1, "b", 2), Integer.class)).isEqualTo(3);
        ObjectName on = nameOf("jmx-stats");
        assertThat(server.isRegistered(on)).isTrue();

        PoolStats stats = pool.stats();
        assertThat(server.getAttribute(on, "Name")).isEqualTo("jmx-stats");
        assertThat(server.getAttribute(on, "RunId")).isEqualTo(stats.runId());
        assertThat(server.getAttribute(on, "Workers")).isEqualTo(2);
        assertThat(server.getAttribute(on, "ReadyWorkers")).isEqualTo(2);
        assertThat(server.getAttribute(on, "CallsInFlight")).isEqualTo(0);
        assertThat(server.getAttribute(on, "QueuedCalls")).isEqualTo(stats.queuedCalls());
        assertThat(server.getAttribute(on, "Sessions")).isEqualTo(stats.sessions());
        assertThat(server.getAttribute(on, "Restarts")).isEqualTo(stats.restarts());
        assertThat(server.getAttribute(on, "HealthStatus")).isEqualTo(pool.health().status().name());
        assertThat((String[]) server.getAttribute(on, "HealthProblems"))
                .containsExactlyElementsOf(pool.health().problems());
        assertThat((String[]) server.getAttribute(on, "WorkerDetails")).hasSize(2)
                .allSatisfy(line -> assertThat(line).contains("state=READY"));

        // The same, through a typed proxy, as a JMX client would read it.
        PythonPoolMXBean proxy = JMX.newMXBeanProxy(server, on, PythonPoolMXBean.class);
        assertThat(proxy.getWorkers()).isEqualTo(2);
        assertThat(proxy.getRunId()).isEqualTo(stats.runId());

        try (PythonSession session = pool.newSession()) {
            assertThat(session.call("add", Map.of("a", 1, "b", 1), Integer.class)).isEqualTo(2);
            assertThat(proxy.getSessions()).isEqualTo(pool.stats().sessions());
        }
    }

    @Test
    void theBeanDisappearsWhenThePoolCloses() throws Exception {
        PythonPool pool = TestPools.builder().name("jmx-close").workers(1).jmx(true).build();
        ObjectName on = nameOf("jmx-close");
        assertThat(server.isRegistered(on)).isTrue();
        pool.close();
        assertThat(server.isRegistered(on)).isFalse();
        pool.close(); // a second close is harmless

        // The name is free again for a new pool.
        PythonPool again = pools.start(TestPools.builder().name("jmx-close").workers(1).jmx(true));
        assertThat(server.isRegistered(on)).isTrue();
        assertThat(server.getAttribute(on, "RunId")).isEqualTo(again.stats().runId());
    }

    @Test
    void offByDefault() throws Exception {
        pools.start(TestPools.builder().name("jmx-off").workers(1));
        assertThat(server.isRegistered(nameOf("jmx-off"))).isFalse();
        assertThat(server.queryNames(new ObjectName("io.pypool:type=PythonPool,name=jmx-off"), null)).isEmpty();
    }

    @Test
    void aSecondPoolOfTheSameNameServesWithoutJmx() throws Exception {
        // Tests run in parallel: SLF4J hands out stand-in loggers until its first initialisation ends.
        await().until(() -> LoggerFactory.getLogger(PythonPool.class) instanceof Logger);
        Logger logger = (Logger) LoggerFactory.getLogger(PythonPool.class);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        boolean additive = logger.isAdditive();
        logger.setAdditive(false); // the expected warning is checked here, not printed
        try {
            PythonPool first = pools.start(TestPools.builder().name("jmx-twin").workers(1).jmx(true));
            PythonPool second = pools.start(TestPools.builder().name("jmx-twin").workers(1).jmx(true));
            assertThat(second.call("add", Map.of("a", 2, "b", 2), Integer.class)).isEqualTo(4);
            ObjectName on = nameOf("jmx-twin");
            assertThat(server.getAttribute(on, "RunId")).isEqualTo(first.stats().runId());
            List<ILoggingEvent> events;
            synchronized (appender) {
                events = List.copyOf(appender.list);
            }
            assertThat(events).anySatisfy(e -> {
                assertThat(e.getLevel().toString()).isEqualTo("WARN");
                assertThat(e.getFormattedMessage()).contains("jmx-twin").contains("serves without JMX");
            });

            // Closing the second leaves the first's bean in place.
            second.close();
            assertThat(server.isRegistered(on)).isTrue();
            assertThat(server.getAttribute(on, "RunId")).isEqualTo(first.stats().runId());
            first.close();
            assertThat(server.isRegistered(on)).isFalse();
        } finally {
            logger.setAdditive(additive);
            logger.detachAppender(appender);
            appender.stop();
        }
    }

    @Test
    void aNameThatNeedsQuotingStillRegisters() throws Exception {
        assertThat(PoolJmx.objectName("plain-name.1").getKeyProperty("name")).isEqualTo("plain-name.1");
        assertThat(ObjectName.unquote(PoolJmx.objectName("a,b=c").getKeyProperty("name"))).isEqualTo("a,b=c");
    }
}
