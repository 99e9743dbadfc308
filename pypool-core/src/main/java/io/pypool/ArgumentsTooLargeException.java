package io.pypool;

/**
 * A call's arguments (their JSON and binary attachments together) are larger than
 * {@code maxFrameBytes}: nothing was sent, and nothing else is affected. Thrown on the caller's
 * thread. An {@link IllegalArgumentException}, as it was before it had a type of its own.
 */
public final class ArgumentsTooLargeException extends IllegalArgumentException {
    /** The request body's size in bytes. */
    private final long size;
    /** The pool's maxFrameBytes when the call was refused. */
    private final long limit;

    ArgumentsTooLargeException(String message, long size, long limit) {
        super(message);
        this.size = size;
        this.limit = limit;
    }

    /**
     * The size of the request's body in bytes.
     *
     * @return the JSON and its binary attachments together, in bytes
     */
    public long size() {
        return size;
    }

    /**
     * The pool's {@code maxFrameBytes}.
     *
     * @return the largest frame the pool accepts, in bytes
     */
    public long limit() {
        return limit;
    }
}
