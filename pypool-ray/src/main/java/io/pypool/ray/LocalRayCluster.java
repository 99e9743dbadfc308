package io.pypool.ray;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A Ray cluster on this machine, for tests: a head node and optionally more nodes, each a
 * {@code ray start --block} process that this object starts and stops. Closing it stops every node
 * it started, and with them every actor and worker process of the cluster.
 *
 * <pre>{@code
 * try (LocalRayCluster ray = LocalRayCluster.start("/opt/venv/bin/python", 2)) {
 *     RayBackend backend = RayBackend.builder().address(ray.address()).python(ray.python()).build();
 *     ...
 * }
 * }</pre>
 *
 * Remember that a JVM has one Ray driver: every Ray pool of a test run uses the cluster the first
 * one connected to, so a test suite starts one cluster and shares it.
 */
public final class LocalRayCluster implements AutoCloseable {
    private static final long START_TIMEOUT_S = 90;

    private final String python;
    private final Path tempDir;
    private final String address;
    private final List<Node> nodes = new ArrayList<>();

    private LocalRayCluster(String python, Path tempDir, String address) {
        this.python = python;
        this.tempDir = tempDir;
        this.address = address;
    }

    /**
     * Starts a head node on 127.0.0.1 (no dashboard, no usage stats) and waits until it serves.
     *
     * @param python an interpreter with Ray installed
     * @param cpus   the CPUs the head offers to actors
     * @return the running cluster
     * @throws IOException when Ray does not start; the message carries its output
     */
    public static LocalRayCluster start(String python, int cpus) throws IOException {
        Path temp = Files.createTempDirectory(Path.of("/tmp"), "pypool-ray-"); // short: Ray's socket paths must fit
        int port = freePort();
        LocalRayCluster cluster = new LocalRayCluster(python, temp, "127.0.0.1:" + port);
        try {
            cluster.nodes.add(Node.start(python, List.of("--head", "--port=" + port, "--num-cpus=" + cpus,
                    "--include-dashboard=false", "--temp-dir=" + temp), "head"));
        } catch (IOException | RuntimeException e) {
            cluster.close();
            throw e;
        }
        return cluster;
    }

    /**
     * Starts one more node on this machine, joined to the head.
     *
     * @param cpus      the CPUs it offers
     * @param resources custom resources it offers (may be empty)
     * @throws IOException when it does not start
     */
    public synchronized void addNode(int cpus, Map<String, Double> resources) throws IOException {
        startNode(cpus, resources);
    }

    /**
     * Starts one more node, as {@link #addNode}, and gives a way to lose it: what a machine that
     * dies does to a cluster.
     *
     * @param cpus      the CPUs it offers
     * @param resources custom resources it offers (may be empty)
     * @return what kills the node
     * @throws IOException when it does not start
     */
    public synchronized LostNode addNodeToLose(int cpus, Map<String, Double> resources) throws IOException {
        Node node = startNode(cpus, resources);
        return node::killAbruptly;
    }

    /** A node that can be lost. */
    @FunctionalInterface
    public interface LostNode {
        /** SIGKILLs every process of the node at once (its raylet, its actors, their workers' parents). */
        void kill();
    }

    private Node startNode(int cpus, Map<String, Double> resources) throws IOException {
        List<String> args = new ArrayList<>(List.of("--address=" + address, "--num-cpus=" + cpus));
        if (!resources.isEmpty()) {
            args.add("--resources=" + resources.entrySet().stream()
                    .map(e -> "\"" + e.getKey() + "\": " + e.getValue()).collect(Collectors.joining(", ", "{", "}")));
        }
        Node node = Node.start(python, args, "node" + nodes.size());
        nodes.add(node);
        return node;
    }

    /**

     * Returns the head's GCS address, host:port.

     *

     * @return the head's GCS address, host:port

     */
    public String address() {
        return address;
    }

    /**

     * Returns the interpreter the cluster runs on.

     *

     * @return the interpreter the cluster runs on

     */
    public String python() {
        return python;
    }

    /**
     * Stops every node, the last started first, and removes the cluster's temporary folder. If
     * this JVM's Ray driver is connected to this cluster it is disconnected first (Ray would end
     * the JVM when its cluster went away); Ray pools on it must be closed before.
     */
    @Override
    public synchronized void close() {
        RayRuntime.disconnectFrom(address);
        for (int i = nodes.size() - 1; i >= 0; i--) {
            nodes.get(i).stop();
        }
        nodes.clear();
        CodeBundle.deleteTree(tempDir);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /**
     * Runs {@code ray start ARGS} as its child and stops it (SIGTERM, which makes {@code --block}
     * stop the node's processes) on SIGTERM or as soon as the JVM that started it is gone, however
     * it went: a test JVM killed or ended by Ray must not leave a cluster running. What the node
     * started and is still running after that is SIGKILLed.
     */
    private static final String WATCHDOG = String.join("\n",
            "import os, signal, subprocess, sys, time",
            "jvm = int(sys.argv[1])",
            "ray = subprocess.Popen([sys.executable, '-c', \"import sys; from ray.scripts.scripts import main; "
                    + "sys.argv[0] = 'ray'; main()\"] + sys.argv[2:])",
            "def tree(root):",  // the node's processes, found by their parents before they are orphaned
            "    parents = {}",
            "    for p in os.listdir('/proc'):",
            "        try:",
            "            parents[int(p)] = int(open('/proc/%s/stat' % p).read().rsplit(')', 1)[1].split()[1])",
            "        except (ValueError, OSError, IndexError):",
            "            pass",
            "    found, todo = set(), [root]",
            "    while todo:",
            "        kids = [p for p, pp in parents.items() if pp == todo.pop() and p not in found]",
            "        found.update(kids)",
            "        todo.extend(kids)",
            "    return found",
            "def stop(*_):",
            "    left = tree(ray.pid)",
            "    ray.terminate()",
            "    try:",
            "        ray.wait(60)",
            "    except subprocess.TimeoutExpired:",
            "        ray.kill()",
            "    for p in left:",  // what ignored the node's stop (Ray's agents, once seen) goes now
            "        try:",
            "            os.kill(p, signal.SIGKILL)",
            "        except OSError:",
            "            pass",
            "    sys.exit(0)",
            "signal.signal(signal.SIGTERM, stop)",
            "while ray.poll() is None:",
            "    if os.getppid() != jvm:",
            "        stop()",
            "    time.sleep(0.2)",
            "sys.exit(ray.wait())",
            "");

    /** One {@code ray start --block} process, under its watchdog. */
    private static final class Node {
        private final Process process;
        private final ArrayDeque<String> tail = new ArrayDeque<>();

        private Node(Process process) {
            this.process = process;
        }

        static Node start(String python, List<String> args, String name) throws IOException {
            List<String> command = new ArrayList<>(List.of(python, "-c", WATCHDOG,
                    Long.toString(ProcessHandle.current().pid()),
                    "start", "--block", "--node-ip-address=127.0.0.1", "--disable-usage-stats"));
            command.addAll(args);
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
            pb.environment().remove("RAY_ADDRESS");
            Node node = new Node(pb.start());
            CountDownLatch up = new CountDownLatch(1);
            Thread drain = new Thread(() -> node.drain(up), "pypool-local-ray-" + name);
            drain.setDaemon(true);
            drain.start();
            try {
                if (!up.await(START_TIMEOUT_S, TimeUnit.SECONDS) || !node.process.isAlive()) {
                    node.stop();
                    throw new IOException("Ray's " + name + " did not start within " + START_TIMEOUT_S + " s: " + node.tail());
                }
            } catch (InterruptedException e) {
                node.stop();
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while Ray's " + name + " started", e);
            }
            return node;
        }

        private void drain(CountDownLatch up) {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null) {
                    synchronized (tail) {
                        if (tail.size() == 30) {
                            tail.removeFirst();
                        }
                        tail.addLast(line);
                    }
                    if (line.contains("block forever")) {
                        up.countDown();
                    }
                }
            } catch (IOException e) {
                // the node is gone
            } finally {
                up.countDown(); // exited: the starter sees it is not alive
            }
        }

        private String tail() {
            synchronized (tail) {
                return String.join(" | ", tail);
            }
        }

        /** Every process of the node, SIGKILLed at once, deepest first listed last. */
        void killAbruptly() {
            List<ProcessHandle> all = new ArrayList<>(process.descendants().toList());
            all.add(0, process.toHandle());
            all.forEach(ProcessHandle::destroyForcibly);
        }

        /** SIGTERM to the watchdog, which passes it on: `ray start --block` then stops the node's processes; whatever is left is killed. */
        void stop() {
            List<ProcessHandle> children = process.descendants().toList();
            process.destroy();
            try {
                if (!process.waitFor(60, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
            children.forEach(ProcessHandle::destroyForcibly);
        }
    }
}
