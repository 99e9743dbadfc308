/** Whole-process benchmarks of pypool against the floor: a bare Python echo process on the same pipes. */
package io.pypool.bench;
