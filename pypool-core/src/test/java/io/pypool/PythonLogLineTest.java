package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

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
}
