/**
 * DSPy programs from Java: {@link io.pypool.dspy.Dspy} configures a pool for DSPy, and a
 * {@link io.pypool.dspy.DspySession} builds programs from signatures and modules, runs them,
 * and keeps them in their worker, with typed errors for what DSPy refuses. A
 * {@link io.pypool.dspy.JavaTool} gives ReAct programs tools implemented in Java, and
 * {@link io.pypool.dspy.DspyProgram#stream} gives an execution as {@link io.pypool.dspy.DspyChunk}s.
 */
package io.pypool.dspy;
