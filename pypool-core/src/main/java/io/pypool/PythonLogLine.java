package io.pypool;

import org.slf4j.Logger;
import org.slf4j.MDC;

/**
 * A Python {@code logging} record as a worker writes it to stderr (see {@code python/pypool/logbridge.py}):
 * {@code \u001Epypool-log LEVELNO NAME<tab>MESSAGE}, newlines in the message escaped; a record logged
 * in a traced call has {@code LEVELNO;TRACEPARENT}. Logged at its own level, the traceparent in the
 * MDC as {@value #MDC_TRACEPARENT}; any other stderr line is plain output.
 *
 * @param level       Python's level number (10 DEBUG, 20 INFO, 30 WARNING, 40 ERROR, 50 CRITICAL)
 * @param name        the Python logger's name
 * @param message     the formatted message, traceback included, newlines restored
 * @param traceparent the W3C traceparent of the call it was logged in, or null
 */
record PythonLogLine(int level, String name, String message, String traceparent) {
    static final String MDC_TRACEPARENT = "traceparent";
    static final String MARK = "\u001Epypool-log ";

    /** The record on this line, or null for a plain line (or one that only looks like a record). */
    static PythonLogLine parse(String line) {
        if (!line.startsWith(MARK)) {
            return null;
        }
        int space = line.indexOf(' ', MARK.length());
        int tab = space < 0 ? -1 : line.indexOf('\t', space + 1);
        if (tab < 0) {
            return null;
        }
        String levelToken = line.substring(MARK.length(), space);
        int semicolon = levelToken.indexOf(';');
        int level;
        try {
            level = Integer.parseInt(semicolon < 0 ? levelToken : levelToken.substring(0, semicolon));
        } catch (NumberFormatException e) {
            return null;
        }
        String traceparent = semicolon < 0 || semicolon == levelToken.length() - 1 ? null : levelToken.substring(semicolon + 1);
        return new PythonLogLine(level, line.substring(space + 1, tab), unescape(line.substring(tab + 1)), traceparent);
    }

    private static String unescape(String text) {
        if (text.indexOf('\\') < 0) {
            return text;
        }
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\' && i + 1 < text.length()) {
                char next = text.charAt(++i);
                out.append(next == 'n' ? '\n' : next == 'r' ? '\r' : next);
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /**
     * Logs it at the SLF4J level matching Python's: ERROR from 40 (CRITICAL too), WARN from 30, INFO
     * from 20, DEBUG from 10, else TRACE; its traceparent is in the MDC while it does.
     */
    void logTo(Logger log, String prefix) {
        if (traceparent == null) {
            log(log, prefix);
            return;
        }
        MDC.put(MDC_TRACEPARENT, traceparent);
        try {
            log(log, prefix);
        } finally {
            MDC.remove(MDC_TRACEPARENT);
        }
    }

    private void log(Logger log, String prefix) {
        if (level >= 40) {
            log.error("{} {}: {}", prefix, name, message);
        } else if (level >= 30) {
            log.warn("{} {}: {}", prefix, name, message);
        } else if (level >= 20) {
            log.info("{} {}: {}", prefix, name, message);
        } else if (level >= 10) {
            log.debug("{} {}: {}", prefix, name, message);
        } else {
            log.trace("{} {}: {}", prefix, name, message);
        }
    }
}
