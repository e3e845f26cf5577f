"""Documents and charts: plain data in, bytes (or SVG text) out; no models, no Flask."""
