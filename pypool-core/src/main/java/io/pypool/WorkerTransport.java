package io.pypool;

import java.util.List;

/**
 * The seam between the engine and "a worker": how frames reach one Python runtime and come back,
 * and how its end is seen. Pipes to a local process today ({@link ProcessTransport}); an in-JVM
 * fake in the engine's tests; other launchers (a fork server, actors on a cluster) plug in here
 * without touching routing or sessions. Everything the engine knows of a worker's process goes
 * through this interface.
 */
interface WorkerTransport {

    /** What a transport reports back. Neither method may block for long: they run on the transport's own threads. */
    interface Events {
        /** A frame from the worker (hello, reply, startup failure). */
        void onFrame(FrameCodec.Frame frame);

        /** The worker is gone, told exactly once, after its output ended or its process exited. */
        void onDeath(Death death);
    }

    /** Thrown by {@link Events#onFrame} for a frame that breaks the protocol: the transport then ends the worker. */
    final class Violation extends RuntimeException {
        Violation(String what) {
            super(what, null, false, false);
        }
    }

    /**
     * How a worker ended.
     *
     * @param exitCode       the process's exit status (128 + n for signal n), or null if unknown
     * @param endedByPool    why the pool ended it, or null if it ended on its own
     * @param protocolError  what was wrong with its output, or null
     * @param stderrTail     its last stderr lines
     * @param lostBecause    why a remote worker was lost when there is no exit status, or null
     */
    record Death(Integer exitCode, String endedByPool, String protocolError, List<String> stderrTail, String lostBecause) {
        Death(Integer exitCode, String endedByPool, String protocolError, List<String> stderrTail) {
            this(exitCode, endedByPool, protocolError, stderrTail, null);
        }

        /** One phrase for messages: "exited with code 3", "was killed by signal 9 (SIGKILL)", "was ended by the pool: ...". */
        String describe() {
            if (protocolError != null) {
                return protocolError;
            }
            if (endedByPool != null) {
                return "was ended by the pool (" + endedByPool + ")";
            }
            if (exitCode == null) {
                return lostBecause != null ? "was lost: " + lostBecause : "closed its output";
            }
            if (exitCode > 128) {
                int signal = exitCode - 128;
                return "was killed by signal " + signal + signalName(signal);
            }
            return "exited with code " + exitCode;
        }

        private static String signalName(int signal) {
            return switch (signal) {
                case 9 -> " (SIGKILL)";
                case 15 -> " (SIGTERM)";
                case 11 -> " (SIGSEGV)";
                case 6 -> " (SIGABRT)";
                case 2 -> " (SIGINT)";
                default -> "";
            };
        }
    }

    /**
     * Starts delivering events. Called once, after the engine has recorded this transport with
     * its worker, so no frame can arrive for a worker that does not know its transport yet.
     */
    void start();

    /**
     * Sends one frame without blocking the calling thread on a full pipe. {@code unreadBytes}
     * bounds what the worker may not have read yet, this frame included: when that surely fits
     * the channel's buffer the caller may write at once, else the frame waits for the writer.
     */
    void send(byte[] frame, long unreadBytes);

    /** End of input: a healthy worker finishes what it runs and exits. */
    void closeInput();

    /** Ends the worker and everything it started, now, without waiting. The reason shows in its death. */
    void kill(String why);

    /** The process id, or -1 where there is none. */
    long pid();

    /** Where the worker runs: "local", or its backend's account of it. */
    default String where() {
        return "local";
    }

    /** What the operating system says of the process now, or null where it cannot tell. */
    ProcFs.Sample sample();

    /** Its last stderr lines so far. */
    List<String> stderrTail();

    /** True once its process has exited. */
    boolean exited();

    /** Waits up to {@code millis} for its process to exit. */
    boolean awaitExit(long millis) throws InterruptedException;

    /** Waits up to {@code millis} for its threads to finish (after its death). */
    void joinThreads(long millis);
}
