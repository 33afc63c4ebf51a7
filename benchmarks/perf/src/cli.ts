#!/usr/bin/env node
// Performance benchmarks: filled by the fast-CPU-path, reader, retriever and index issues.
console.log('no performance benchmarks yet');
