package io.pypool;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/** Collects what workers write to stderr, as the pool logs it, for one pool's name. */
final class LogCapture implements AutoCloseable {
    private final Logger logger = (Logger) LoggerFactory.getLogger("io.pypool.python");
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>() {
        @Override
        protected void append(ILoggingEvent event) {
            event.prepareForDeferredProcessing(); // keep the logging thread's MDC, which names the pool
            super.append(event);
        }
    };
    private final String poolName;

    LogCapture(String poolName) {
        this.poolName = poolName;
        appender.start();
        logger.addAppender(appender);
        logger.setLevel(ch.qos.logback.classic.Level.DEBUG); // Python's DEBUG records too; nothing prints them

    }

    List<String> lines() {
        synchronized (appender) {
            return appender.list.stream()
                    .filter(e -> poolName.equals(e.getMDCPropertyMap().get("pypool.pool")))
                    .map(ILoggingEvent::getFormattedMessage)
                    .toList();
        }
    }

    /** What was logged for the pool, each as "LEVEL logger-name: message". */
    List<String> events() {
        synchronized (appender) {
            return appender.list.stream()
                    .filter(e -> poolName.equals(e.getMDCPropertyMap().get("pypool.pool")))
                    .map(e -> e.getLevel() + " " + e.getLoggerName() + ": " + e.getFormattedMessage())
                    .toList();
        }
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        appender.stop();
    }
}
