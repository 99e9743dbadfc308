package io.pypool;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/** Collects what the pool itself logs (logger {@code io.pypool.PythonPool}), for messages naming one pool. */
final class LogLines implements AutoCloseable {
    private final Logger logger = (Logger) LoggerFactory.getLogger(PythonPool.class);
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
    private final String poolName;

    LogLines(String poolName) {
        this.poolName = poolName;
        appender.start();
        logger.addAppender(appender);
    }

    /** "LEVEL message" for each event that names the pool. */
    List<String> lines() {
        synchronized (appender) {
            return appender.list.stream().map(e -> e.getLevel() + " " + e.getFormattedMessage())
                    .filter(line -> line.contains("pool '" + poolName + "'")).toList();
        }
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        appender.stop();
    }
}
