package io.pypool;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where forked workers connect: one Unix-domain socket in a fresh directory that only this user
 * can open (0700), never a TCP port. Each worker is expected under a random token, which it
 * presents as its first line on each of its three connections ({@code TOKEN in}, {@code TOKEN out},
 * {@code TOKEN err}); a connection with an unknown token or role is closed unread.
 */
final class WorkerSockets implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PythonPool.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int MAX_GREETING = 128;

    /** A worker's three connections, as they arrive. */
    record Expected(String token, CompletableFuture<SocketChannel> in, CompletableFuture<SocketChannel> out,
                    CompletableFuture<SocketChannel> err) {
        CompletableFuture<Void> all() {
            return CompletableFuture.allOf(in, out, err);
        }

        private CompletableFuture<SocketChannel> role(String role) {
            return switch (role) {
                case "in" -> in;
                case "out" -> out;
                case "err" -> err;
                default -> null;
            };
        }
    }

    private final String poolName;
    private final Path dir;
    private final Path socket;
    private final ServerSocketChannel server;
    private final Map<String, Expected> expected = new ConcurrentHashMap<>();

    private WorkerSockets(String poolName, Path dir, Path socket, ServerSocketChannel server) {
        this.poolName = poolName;
        this.dir = dir;
        this.socket = socket;
        this.server = server;
        Worker.daemon("pypool-" + poolName + "-accept", this::acceptLoop).start();
    }

    static WorkerSockets open(String poolName) throws IOException {
        Path dir = Files.createTempDirectory("pypool-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path socket = dir.resolve("w.sock");
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            server.close();
            Files.deleteIfExists(dir);
            throw e;
        }
        return new WorkerSockets(poolName, dir, socket, server);
    }

    Path path() {
        return socket;
    }

    /** A new token and the connections that will come with it. */
    Expected expect() {
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        Expected e = new Expected(HexFormat.of().formatHex(bytes), new CompletableFuture<>(),
                new CompletableFuture<>(), new CompletableFuture<>());
        expected.put(e.token(), e);
        e.all().whenComplete((ok, failed) -> expected.remove(e.token()));
        return e;
    }

    private void acceptLoop() {
        while (true) {
            SocketChannel conn;
            try {
                conn = server.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                LOG.warn("pool '{}': accepting a worker's connection failed: {}", poolName, e.getMessage());
                return;
            }
            try {
                route(conn);
            } catch (IOException | RuntimeException e) {
                LOG.warn("pool '{}': a connection to the workers' socket was refused: {}", poolName, e.getMessage());
                closeQuietly(conn);
            }
        }
    }

    /** Reads the greeting byte by byte: whatever follows it is the worker's, and must stay in the socket. */
    private void route(SocketChannel conn) throws IOException {
        ByteBuffer one = ByteBuffer.allocate(1);
        StringBuilder line = new StringBuilder();
        while (true) {
            one.clear();
            if (conn.read(one) < 0 || line.length() > MAX_GREETING) {
                throw new IOException("it did not present a token");
            }
            char c = (char) (one.get(0) & 0xFF);
            if (c == '\n') {
                break;
            }
            line.append(c);
        }
        String[] words = line.toString().split(" ");
        Expected e = words.length == 2 ? expected.get(words[0]) : null;
        CompletableFuture<SocketChannel> slot = e == null ? null : e.role(words[1]);
        if (slot == null || !slot.complete(conn)) {
            throw new IOException("it presented an unknown token or role");
        }
    }

    /** No more connections for this worker (it died, or the pool closed); any that came are closed. */
    static void abandon(Expected e) {
        for (CompletableFuture<SocketChannel> f : java.util.List.of(e.in(), e.out(), e.err())) {
            if (!f.cancel(false)) {
                closeQuietly(f.join());
            }
        }
    }

    static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // already gone
        }
    }

    @Override
    public void close() {
        closeQuietly(server);
        expected.values().forEach(WorkerSockets::abandon);
        try {
            Files.deleteIfExists(socket);
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            LOG.debug("pool '{}': removing {} failed: {}", poolName, dir, e.getMessage());
        }
    }
}
