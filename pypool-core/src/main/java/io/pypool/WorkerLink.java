package io.pypool;

/**
 * One worker of a {@link WorkerBackend}: a byte pipe to pypool's Python runtime, wherever it
 * runs. The pool writes its protocol frames in, and reads the worker's protocol output, its stderr
 * lines and its end from the {@link Listener}.
 */
public interface WorkerLink {

    /** What a link reports. Called from the backend's threads; none may block for long. */
    interface Listener {
        /**
         * Bytes the worker wrote to its protocol output, in order; chunk boundaries mean nothing.
         *
         * @param bytes the next bytes; the listener keeps them
         */
        void output(byte[] bytes);

        /**
         * One line the worker wrote to stderr.
         *
         * @param line the line, without its end
         */
        void stderrLine(String line);

        /**
         * The worker is gone; told exactly once, after its last output.
         *
         * @param exitCode    its exit status (128 + n for signal n), or null when unknown
         * @param lostBecause why it was lost when there is no exit status ("its Ray actor died: ..."), or null
         */
        void ended(Integer exitCode, String lostBecause);
    }

    /** Starts delivering to the listener; called once, after the pool has recorded this link. */
    void start();

    /**
     * Sends bytes to the worker's input, in order, without blocking on the worker.
     *
     * @param bytes whole protocol frames; the link may send several at once
     */
    void write(byte[] bytes);

    /** End of input: a healthy worker finishes what it runs and exits. */
    void closeInput();

    /**
     * Ends the worker and what it started, now, without waiting; {@link Listener#ended} follows.
     *
     * @param why the pool's reason, for the backend's logs
     */
    void kill(String why);

    /**

     * Returns the worker's process id on its machine, or -1 when not known.

     *

     * @return the worker's process id on its machine, or -1 when not known

     */
    long pid();

    /**

     * Returns where the worker runs, for logs and stats ("Ray actor 3f9a… on node 10.0.0.7, pid 4242").

     *

     * @return where the worker runs, for logs and stats ("Ray actor 3f9a… on node 10.0.0.7, pid 4242")

     */
    String where();
}
