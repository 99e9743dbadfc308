package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

class PythonLogLineTest {

    @Test
    void aRecordLineGivesItsLevelLoggerAndMessageWithNewlinesRestored() {
        PythonLogLine r = PythonLogLine.parse("\u001Epypool-log 40 my.module\tfailed\\nTraceback (most recent call last):\\n  x \\\\ y");
        assertThat(r).isNotNull();
        assertThat(r.level()).isEqualTo(40);
        assertThat(r.name()).isEqualTo("my.module");
        assertThat(r.message()).isEqualTo("failed\nTraceback (most recent call last):\n  x \\ y");
    }

    @Test
    void plainLinesAndLinesThatOnlyLookLikeRecordsArePlainOutput() {
        assertThat(PythonLogLine.parse("hello from print()")).isNull();
        assertThat(PythonLogLine.parse("\u001Epypool-log WARNING x\tmsg")).isNull();
        assertThat(PythonLogLine.parse("\u001Epypool-log 30 no-tab")).isNull();
        assertThat(PythonLogLine.parse("")).isNull();
    }

    @Test
    void aRecordOfATracedCallCarriesItsTraceparentIntoTheMdc() {
        String tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        PythonLogLine r = PythonLogLine.parse("\u001Epypool-log 30;" + tp + " my.module\tslow");
        assertThat(r).isEqualTo(new PythonLogLine(30, "my.module", "slow", tp));
        assertThat(PythonLogLine.parse("\u001Epypool-log 30 my.module\tslow").traceparent()).isNull();
        assertThat(PythonLogLine.parse("\u001Epypool-log 30; my.module\tslow").traceparent()).isNull();

        Logger logger = (Logger) LoggerFactory.getLogger("io.pypool.test.PythonLogLineTest");
        ListAppender<ILoggingEvent> events = new ListAppender<>();
        events.start();
        logger.addAppender(events);
        try {
            r.logTo(logger, "[p w1]");
            PythonLogLine.parse("\u001Epypool-log 30 my.module\tuntraced").logTo(logger, "[p w1]");
        } finally {
            logger.detachAppender(events);
        }
        assertThat(events.list).extracting(e -> e.getMDCPropertyMap().get("traceparent")).containsExactly(tp, null);
        assertThat(MDC.get("traceparent")).isNull();
    }
}
