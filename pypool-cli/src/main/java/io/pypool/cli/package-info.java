/** The {@code pypool} command: a demo, one call from the shell, and a check of the machine. */
package io.pypool.cli;
