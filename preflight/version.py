"""The version of preflight, in a module of its own so any layer can name it without importing the
package root (which imports the API, and through it every layer)."""

__version__ = "0.1.0"
