/**
 * The Java snippets of README.md and docs/*.md, each in a file that compiles with the build: a doc
 * block names its file ({@code <!-- example: samples/src/test/java/dev/governor/examples/X.java -->})
 * and {@code DocsSnippetsTest} checks that every line of the block is in that file, in order. What a
 * snippet leaves to the reader (a frontend, a worker) is a small stand-in at the end of the file.
 */
package dev.governor.examples;
