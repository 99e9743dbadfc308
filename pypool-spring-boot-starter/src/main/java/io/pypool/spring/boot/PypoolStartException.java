package io.pypool.spring.boot;

/** A pool of the starter could not be made: its settings contradict each other, or it did not start. */
final class PypoolStartException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String action;

    PypoolStartException(String message, String action, Throwable cause) {
        super(message, cause);
        this.action = action;
    }

    /** What to change, for Spring Boot's failure report. */
    String action() {
        return action;
    }
}
