/**
 * DSPy programs from Java: {@link io.pypool.dspy.Dspy} configures a pool for DSPy, and a
 * {@link io.pypool.dspy.DspySession} builds programs from signatures and modules, runs them,
 * and keeps them in their worker, with typed errors for what DSPy refuses.
 */
package io.pypool.dspy;
