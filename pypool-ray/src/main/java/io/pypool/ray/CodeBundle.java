package io.pypool.ray;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pypool.WorkerSpec;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Ships a pool's Python code to the cluster through Ray's runtime environment, so no node needs
 * it on a local path: pypool's runtime and every folder of the pool's Python path are copied into
 * one package folder ({@code pypool_ray_bundle}), uploaded to the cluster's GCS by an interpreter
 * that has Ray, and named by each actor in its {@code py_modules}. Ray keys packages by content,
 * so the same code is uploaded once.
 */
final class CodeBundle {
    static final String PACKAGE = "pypool_ray_bundle";
    private static final long UPLOAD_TIMEOUT_S = 180;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What the upload said: the package's URI, and the Ray installation of the interpreter. */
    record Uploaded(String uri, Path rayDir, String rayVersion, List<String> paths, long uploadedAtNanos) {
        Path rayJar() {
            return rayDir.resolve("jars").resolve("ray_dist.jar");
        }
    }

    private CodeBundle() {}

    /**
     * Uploads younger than this are reused for the same code: Ray pins a fresh upload for 10
     * minutes, and actors that name it keep it after that; an older one is uploaded again (a
     * no-op for Ray when it still has the package) in case nothing referenced it meanwhile.
     */
    static final long REUSE_NANOS = TimeUnit.MINUTES.toNanos(5);
    private static final java.util.Map<String, Uploaded> RECENT = new java.util.HashMap<>(); // guarded by CodeBundle.class

    /** Ships the pool's code (or reuses a recent upload of the same code to the same cluster). */
    static Uploaded upload(String python, String address, WorkerSpec spec) throws IOException {
        Path stage = Files.createTempDirectory("pypool-ray-");
        try {
            Path bundle = stage.resolve(PACKAGE);
            copyTree(spec.runtimeDirectory(), bundle.resolve("runtime"));
            List<String> paths = new ArrayList<>();
            for (Path p : spec.pythonPath()) {
                if (!Files.isDirectory(p)) {
                    throw new IOException("the Python path entry " + p + " is not a folder; only folders can be shipped to Ray");
                }
                String name = "path" + paths.size();
                copyTree(p, bundle.resolve(name));
                paths.add(name); // relative to the bundle, as the relay resolves them
            }
            Files.writeString(bundle.resolve("__init__.py"), resource("bundle_init.py"), StandardCharsets.UTF_8);
            Path script = stage.resolve("ray_upload.py");
            Files.writeString(script, resource("ray_upload.py"), StandardCharsets.UTF_8);
            String key = python + "\n" + address + "\n" + hash(bundle);
            synchronized (CodeBundle.class) {
                Uploaded recent = RECENT.get(key);
                if (recent != null && System.nanoTime() - recent.uploadedAtNanos() < REUSE_NANOS) {
                    return recent;
                }
                JsonNode said = run(python, script, address, bundle.toString());
                Uploaded uploaded = new Uploaded(said.path("uri").asText(), Path.of(said.path("ray_dir").asText()),
                        said.path("ray_version").asText(), List.copyOf(paths), System.nanoTime());
                RECENT.put(key, uploaded);
                return uploaded;
            }
        } finally {
            deleteTree(stage);
        }
    }

    private static JsonNode run(String python, Path script, String address, String folder) throws IOException {
        Process p;
        try {
            p = new ProcessBuilder(python, script.toString(), address, folder).redirectErrorStream(false).start();
        } catch (IOException e) {
            throw new IOException("could not run '" + python + "' to ship the pool's code to Ray: " + e.getMessage(), e);
        }
        try {
            p.getOutputStream().close();
            // Both outputs drained on their own threads, so the timeout holds whatever the child does.
            java.util.concurrent.CompletableFuture<String> outText = drain(p.getInputStream(), "stdout");
            java.util.concurrent.CompletableFuture<String> errText = drain(p.getErrorStream(), "stderr");
            if (!p.waitFor(UPLOAD_TIMEOUT_S, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("shipping the pool's code to Ray at " + address + " took over " + UPLOAD_TIMEOUT_S
                        + " s (is the address right, and its cluster up?): " + tail(errText.getNow("")));
            }
            String text = outText.get(5, TimeUnit.SECONDS).strip();
            String lastLine = text.isEmpty() ? "" : text.substring(text.lastIndexOf('\n') + 1);
            if (p.exitValue() != 0 || !lastLine.startsWith("{")) {
                throw new IOException("'" + python + "' could not ship the pool's code to Ray at " + address
                        + " (exit " + p.exitValue() + "): " + tail(errText.get(5, TimeUnit.SECONDS)));
            }
            return JSON.readTree(lastLine);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            p.destroyForcibly();
            throw new IOException("reading what '" + python + "' said while shipping the pool's code failed: " + e, e);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while shipping the pool's code to Ray", e);
        }
    }

    /** A digest of a folder's files, names and contents, in a stable order. */
    static String hash(Path root) throws IOException {
        java.security.MessageDigest digest;
        try {
            digest = java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IOException(e);
        }
        List<Path> files;
        try (Stream<Path> walk = Files.walk(root)) {
            files = walk.filter(Files::isRegularFile).sorted(Comparator.comparing(p -> root.relativize(p).toString())).toList();
        }
        for (Path f : files) {
            digest.update(root.relativize(f).toString().getBytes(StandardCharsets.UTF_8));
            digest.update((byte) 0);
            digest.update(Files.readAllBytes(f));
            digest.update((byte) 0);
        }
        return java.util.HexFormat.of().formatHex(digest.digest());
    }

    private static java.util.concurrent.CompletableFuture<String> drain(InputStream in, String what) {
        java.util.concurrent.CompletableFuture<String> text = new java.util.concurrent.CompletableFuture<>();
        Thread t = new Thread(() -> {
            try (in) {
                text.complete(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                text.complete("");
            }
        }, "pypool-ray-upload-" + what);
        t.setDaemon(true);
        t.start();
        return text;
    }

    private static String tail(String text) {
        String[] lines = text.strip().split("\n");
        StringBuilder b = new StringBuilder();
        for (int i = Math.max(0, lines.length - 6); i < lines.length; i++) {
            b.append(i == Math.max(0, lines.length - 6) ? "" : " | ").append(lines[i].strip());
        }
        return b.length() == 0 ? "(no output)" : b.toString();
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = CodeBundle.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException("pypool-ray's " + name + " is missing from its jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** Copies a folder, leaving out byte-code caches and version-control folders. */
    static void copyTree(Path from, Path to) throws IOException {
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                String name = dir.getFileName() == null ? "" : dir.getFileName().toString();
                if (!dir.equals(from) && (name.equals("__pycache__") || name.equals(".git"))) {
                    return FileVisitResult.SKIP_SUBTREE;
                }
                Files.createDirectories(to.resolve(from.relativize(dir).toString()));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                if (!file.getFileName().toString().endsWith(".pyc")) {
                    Files.copy(file, to.resolve(from.relativize(file).toString()), StandardCopyOption.COPY_ATTRIBUTES);
                }
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** Removes a folder and what it holds; what cannot be removed stays (a leftover temporary folder is harmless). */
    static void deleteTree(Path root) {
        try (Stream<Path> walk = Files.walk(root)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temporary folder left behind is harmless
        }
    }
}
