/**
 * A pool of warm Python worker processes for the JVM.
 *
 * <p>Start with {@link io.pypool.PythonPool#builder()}: it validates every setting and
 * {@link io.pypool.PythonPoolBuilder#build()} returns once the workers are ready. Call Python with
 * {@link io.pypool.PythonPool#call} or {@link io.pypool.PythonPool#callAsync}; keep state in one
 * worker with a {@link io.pypool.PythonSession}. Every failure is a subclass of
 * {@link io.pypool.PypoolException} that names what happened: a Python exception
 * ({@link io.pypool.PythonException}), a timeout, a full queue, a crashed worker, a lost session.
 * {@link io.pypool.PythonPool#health()} and {@link io.pypool.PythonPool#stats()} say how the pool is.
 *
 * <p>Everything else in this package is the engine and is package-private.
 */
package io.pypool;
